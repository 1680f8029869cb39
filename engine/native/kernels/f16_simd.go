//go:build goexperiment.simd && amd64

package kernels

import "golang.org/x/sys/cpu"

// f16ArchUse picks the f16 tile of level l (called by archUse), and with
// AVX-512 the rounding of activations to halves. AVX-512 converts halves
// itself; the AVX2 kernel needs F16C, which archsimd does not report, so
// without it AVX2 keeps the portable tile.
func f16ArchUse(l level) {
	switch l {
	case levelAVX512:
		f16Tile = f16TileAVX512
		roundHalves = roundHalvesAVX512
	case levelAVX2:
		if cpu.X86.HasF16C {
			f16Tile = f16TileAVX2
		}
	}
}

// The tiles of f16_amd64.s: rows holds one pointer per row of
// activations (4 or 8), w the panel's k rows of 32 halves; out receives
// the rows of the tile ldo floats apart, 32 or, for the AVX2 kernel, 16
// columns of each.
//
//go:noescape
func f16Kernel8x32(out *float32, ldo int, rows **float32, w *uint16, k int)

//go:noescape
func f16Kernel4x32(out *float32, ldo int, rows **float32, w *uint16, k int)

//go:noescape
func f16Kernel4x16AVX2(out *float32, ldo int, rows **float32, w *uint16, k int)

// roundHalvesAsm is roundHalves over n floats in f16_amd64.s.
//
//go:noescape
func roundHalvesAsm(dst, x *float32, n int)

func roundHalvesAVX512(dst, x []float32) {
	if len(x) == 0 {
		return
	}
	roundHalvesAsm(&dst[:len(x)][0], &x[0], len(x))
}

// checkF16Tile panics unless every value the f16 tile reads and writes is
// in bounds, so the kernels can take raw pointers.
func checkF16Tile(dst []float32, ldd int, a []float32, lda, nrows int, w []uint16, k, ncols int) {
	if nrows < 1 || nrows > f16Rows || ncols < 1 || ncols > panelCols || k < 1 ||
		len(dst) < (nrows-1)*ldd+ncols || len(a) < (nrows-1)*lda+k || len(w) < k*panelCols {
		panic("kernels: f16 tile out of bounds")
	}
}

// f16TileAVX512 runs the 8×32 kernel, or the 4×32 one when at most four
// rows are left. A whole 8×32 tile is stored straight into dst.
func f16TileAVX512(dst []float32, ldd int, a []float32, lda, nrows int, w []uint16, k, ncols int) {
	checkF16Tile(dst, ldd, a, lda, nrows, w, k, ncols)
	rows := tileRowPointers(a, lda, nrows)
	if nrows == f16Rows && ncols == panelCols {
		f16Kernel8x32(&dst[0], ldd, &rows[0], &w[0], k)
		return
	}
	var out [f16Rows][panelCols]float32
	if nrows <= 4 {
		f16Kernel4x32(&out[0][0], panelCols, &rows[0], &w[0], k)
	} else {
		f16Kernel8x32(&out[0][0], panelCols, &rows[0], &w[0], k)
	}
	storeTile(dst, ldd, out[:], nrows, ncols)
}

// f16TileAVX2 covers the tile in 4×16 blocks (AVX2 has 16 registers of 8
// floats: 8 accumulators, two converted halves of a panel row, the
// broadcasts).
func f16TileAVX2(dst []float32, ldd int, a []float32, lda, nrows int, w []uint16, k, ncols int) {
	checkF16Tile(dst, ldd, a, lda, nrows, w, k, ncols)
	rows := tileRowPointers(a, lda, nrows)
	var out [f16Rows][panelCols]float32
	for r := 0; r < nrows; r += 4 {
		f16Kernel4x16AVX2(&out[r][0], panelCols, &rows[r], &w[0], k)
		if ncols > 16 {
			f16Kernel4x16AVX2(&out[r][16], panelCols, &rows[r], &w[16], k)
		}
	}
	storeTile(dst, ldd, out[:], nrows, ncols)
}
