package kernels

import "time"

// PeakGFLOPS measures the float32 rate of the matrix kernel in use (a
// whole 8×32 tile) on operands that stay in L1, over Threads() threads,
// for at least d: the ceiling that a product's GFLOP/s is a share of. It
// counts a multiply-add as 2 operations.
func PeakGFLOPS(d time.Duration) float64 {
	const k, calls = 128, 2000
	a := make([]float32, tileRows*k)
	b := make([]float32, k*panelCols)
	for i := range a {
		a[i] = float32(i%7) * 0.01
	}
	for i := range b {
		b[i] = float32(i%5) * 0.01
	}
	th := max(Threads(), 1)
	task := func(int) {
		var dst [tileRows * panelCols]float32
		for range calls {
			tile(dst[:], panelCols, a, k, tileRows, b, panelCols, k, panelCols)
		}
	}
	parallelFor(th, task) // warm: workers started, code and data in cache
	tasks, t0 := 0, time.Now()
	for tasks == 0 || time.Since(t0) < d {
		parallelFor(th, task)
		tasks += th
	}
	flops := float64(tasks) * calls * 2 * tileRows * panelCols * k
	return flops / time.Since(t0).Seconds() / 1e9
}
