package kernels

import "sync"

// A panel is panelCols output columns of a weight matrix stored k-major: row
// i holds the panelCols weights that multiply input i. A tile of the float
// path is at most tileRows×panelCols outputs of one panel: the AVX-512
// kernel (tile_amd64.s) keeps them in 16 of its 32 vector registers, which
// shares each load of a panel row among 8 rows of activations. The kernels
// written with simd/archsimd (AVX2, and the int8 tiles of q8dot.go) work
// in panelRows rows: Go's register allocator gives SIMD code 16 vector
// registers, so a bigger tile spills.
const (
	panelCols = 32
	panelRows = 4
	tileRows  = 8
)

// parallelMinFlops is the smallest product worth splitting over threads:
// below it, waking a worker costs more than it saves.
var parallelMinFlops = 1 << 21

// scratch holds per-task buffers (a dequantized or packed panel).
var scratch = sync.Pool{New: func() any { return new([]float32) }}

func getScratch(n int) *[]float32 {
	s := scratch.Get().(*[]float32)
	if cap(*s) < n {
		*s = make([]float32, n)
	}
	*s = (*s)[:n]
	return s
}

// panelSource yields panel p of a right-hand matrix with k rows: a slice b
// whose row i starts at b[i*ldb] and has panelCols readable floats. It may
// fill buf (k*panelCols floats, owned by the calling task) and return it.
type panelSource func(p int, buf []float32) (b []float32, ldb int)

// gemm computes dst (rows×n, row-major) = a (rows×k, row-major) times the
// k×n matrix whose panels src yields. Work is split by panels, and by rows
// as well when there are too few panels to keep every thread busy.
func gemm(dst, a []float32, rows, k, n int, src panelSource) {
	if rows <= 0 || n <= 0 {
		return
	}
	checkOperands(dst, a, rows, k, n)
	if k == 0 {
		clear(dst[:rows*n])
		return
	}
	forEachTile(rows, k, n, func(p, r0, r1 int) {
		buf := getScratch(k * panelCols)
		b, ldb := src(p, *buf)
		j0 := p * panelCols
		nc := min(panelCols, n-j0)
		for r := r0; r < r1; r += tileRows {
			nr := min(tileRows, r1-r)
			tile(dst[r*n+j0:], n, a[r*k:], k, nr, b, ldb, k, nc)
		}
		scratch.Put(buf)
	})
}

// checkOperands panics unless dst holds rows×n results and a rows×k inputs.
func checkOperands(dst, a []float32, rows, k, n int) {
	if len(dst) < rows*n {
		panic("kernels: dst too short for the product")
	}
	if len(a) < rows*k {
		panic("kernels: left operand too short for the product")
	}
}

// forEachTile runs task(p, r0, r1) for every panel p of the n output
// columns and every chunk [r0, r1) of the rows (whole tiles of tileRows),
// on several threads when the product (2·rows·k·n flops) is large enough:
// a task per panel, the rows split further when there are fewer panels
// than twice the threads. The float and the int8 products share it.
func forEachTile(rows, k, n int, task func(p, r0, r1 int)) {
	np := (n + panelCols - 1) / panelCols
	th := Threads()
	if 2*rows*k*n < parallelMinFlops {
		th = 1
	}
	rowChunks := 1
	if np < 2*th {
		rowChunks = (2*th + np - 1) / np
	}
	rc := (rows + rowChunks - 1) / rowChunks
	rc = (rc + tileRows - 1) / tileRows * tileRows
	rowChunks = (rows + rc - 1) / rc
	one := func(t int) {
		c := t % rowChunks
		task(t/rowChunks, c*rc, min(rows, (c+1)*rc))
	}
	if th == 1 {
		for t := 0; t < np*rowChunks; t++ {
			one(t)
		}
		return
	}
	parallelFor(np*rowChunks, one)
}

func tilePortable(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols int) {
	for r := 0; r < nrows; r++ {
		ar := a[r*lda : r*lda+k]
		// Eight scalar accumulators at a time stay in registers.
		for j0 := 0; j0 < ncols; j0 += 8 {
			var c0, c1, c2, c3, c4, c5, c6, c7 float32
			for i, av := range ar {
				bi := b[i*ldb+j0 : i*ldb+j0+8]
				c0 += av * bi[0]
				c1 += av * bi[1]
				c2 += av * bi[2]
				c3 += av * bi[3]
				c4 += av * bi[4]
				c5 += av * bi[5]
				c6 += av * bi[6]
				c7 += av * bi[7]
			}
			out := [8]float32{c0, c1, c2, c3, c4, c5, c6, c7}
			copy(dst[r*ldd+j0:r*ldd+min(j0+8, ncols)], out[:])
		}
	}
}

func dequantPanelPortable(dst []float32, q []int8, scales []float32, k int) {
	for i := 0; i < k; i++ {
		s := scales[(i/32)*panelCols : (i/32)*panelCols+panelCols]
		qi := q[i*panelCols : i*panelCols+panelCols]
		di := dst[i*panelCols : i*panelCols+panelCols]
		for j := range di {
			di[j] = float32(qi[j]) * s[j]
		}
	}
}

// tileTPortable is tileT as one dot product per output.
func tileTPortable(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, n, k int) {
	for r := 0; r < nrows; r++ {
		ar := a[r*lda : r*lda+k]
		for j := 0; j < n; j++ {
			dst[r*ldd+j] = dotImpl(ar, b[j*k:(j+1)*k])
		}
	}
}
