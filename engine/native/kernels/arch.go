package kernels

// A level is one implementation of the kernels: the portable Go code or a
// SIMD path. Only levels the CPU supports are ever selected.
type level int

const (
	levelPortable level = iota
	levelAVX2
	levelAVX512
)

func (l level) String() string {
	switch l {
	case levelAVX2:
		return "avx2"
	case levelAVX512:
		return "avx512"
	}
	return "portable"
}

// current is the level chosen at start-up (the best the CPU has); tests
// switch it to check every level against the reference.
var current level

// The kernels in use. useLevel fills them with the portable versions and
// then lets the architecture file replace those it has faster versions of.
var (
	// tile computes a block of at most tileRows×panelCols outputs:
	// dst[r*ldd+j] = sum_i a[r*lda+i] * b[i*ldb+j] for r < nrows, j < ncols.
	// b must hold panelCols readable floats on each of its k rows (zero
	// padding past ncols); rows of a past nrows are never read.
	tile func(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols int)
	// tileT computes at most panelRows rows of a times the transpose of b,
	// read in place: dst[r*ldd+j] = sum_i a[r*lda+i] * b[j*k+i] for
	// r < nrows, j < n, b being n rows of k floats (attention's keys).
	tileT func(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, n, k int)
	// matMulTDirectRows is the fewest rows for which MatMulT packs b into
	// panels for tile rather than reading it in place with tileT: the
	// packing is shared by all rows, the in-place products each add their
	// 16 lanes.
	matMulTDirectRows int
	// matMulAxpyRows is the fewest rows for which MatMul runs tile; fewer
	// rows stream b once per row with Axpy.
	matMulAxpyRows int
	// f16Tile is tile for a panel of half floats w (k×panelCols, f16.go),
	// for at most f16Rows rows.
	f16Tile func(dst []float32, ldd int, a []float32, lda, nrows int, w []uint16, k, ncols int)
	// roundHalves sets dst[i] = roundHalf(x[i]) for i < len(x): the f16
	// path's activations (a NaN may keep a different payload).
	roundHalves func(dst, x []float32)
	// dequantPanel writes k×panelCols floats: dst[i*32+j] = q[i*32+j] * scales[(i/32)*32+j].
	dequantPanel func(dst []float32, q []int8, scales []float32, k int)
	// q8Tile computes a 4×32 tile of int8 products (q8dot.go): four
	// quantized activation rows (aq, am) times one int8 weight panel with
	// per-block scales ws and, for the K-quants, minimums wm (else nil);
	// a block is bl = 32 or 16 inputs (16 only without minimums).
	q8Tile func(out *[panelRows][panelCols]float32, aq []int8, am []q8Meta, k, bl int, wq []uint8, ws, wm []float32)
	// quantizeRowQ8 and quantizeRowQ8K quantize one activation row to
	// q8_0 blocks of 32, or to q8_K super-blocks of 256.
	quantizeRowQ8  func(q []int8, meta []q8Meta, x []float32)
	quantizeRowQ8K func(q []int8, meta []q8Meta, x []float32)

	dotImpl     func(a, b []float32) float32
	axpyImpl    func(alpha float32, x, y []float32)
	scaleImpl   func(x []float32, s float32)
	addImpl     func(dst, x []float32)
	rmsNormImpl func(dst, x, weight []float32, eps float32)
	softmaxImpl func(x []float32)
	expInPlace  func(x []float32) // x[i] = e^x[i]: the exponential behind Softmax and SiLUMul
	siluMulImpl func(gate, up []float32)
	ropePairs   func(x, cos, sin []float32) // adjacent pairs (2i, 2i+1) of one head
	ropeHalves  func(x, cos, sin []float32) // pairs (i, i+len/2) of one head
)

func init() { useLevel(bestLevel()) }

// useLevel switches every kernel to level l, which must be one of
// availableLevels().
func useLevel(l level) {
	tile = tilePortable
	tileT = tileTPortable
	matMulTDirectRows = panelRows
	matMulAxpyRows = panelRows
	f16Tile = f16TilePortable
	roundHalves = roundHalvesPortable
	dequantPanel = dequantPanelPortable
	q8Tile = q8TilePortable
	quantizeRowQ8 = quantizeRowQ8Portable
	quantizeRowQ8K = quantizeRowQ8KPortable
	dotImpl = dotPortable
	axpyImpl = axpyPortable
	scaleImpl = scalePortable
	addImpl = addPortable
	rmsNormImpl = rmsNormPortable
	softmaxImpl = softmaxPortable
	expInPlace = expPortable
	siluMulImpl = siluMulPortable
	ropePairs = ropePairsPortable
	ropeHalves = ropeHalvesPortable
	archUse(l)
	current = l
}

func bestLevel() level {
	lv := availableLevels()
	return lv[len(lv)-1]
}

// Features names the CPU features the kernels use, e.g. "avx512f avx2 fma
// (simd)", or "portable" when they run as plain Go.
func Features() string {
	switch current {
	case levelAVX512:
		if hasVNNI() {
			return "avx512f avx512vnni avx2 fma (simd)"
		}
		return "avx512f avx2 fma (simd)"
	case levelAVX2:
		return "avx2 fma (simd)"
	}
	return "portable"
}
