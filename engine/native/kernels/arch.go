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
	// tile computes a block of at most panelRows×panelCols outputs:
	// dst[r*ldd+j] = sum_i a[r*lda+i] * b[i*ldb+j] for r < nrows, j < ncols.
	// b must hold panelCols readable floats on each of its k rows (zero
	// padding past ncols); rows of a past nrows are never read.
	tile func(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols int)
	// dequantPanel writes k×panelCols floats: dst[i*32+j] = q[i*32+j] * scales[(i/32)*32+j].
	dequantPanel func(dst []float32, q []int8, scales []float32, k int)

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
	dequantPanel = dequantPanelPortable
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
		return "avx512f avx2 fma (simd)"
	case levelAVX2:
		return "avx2 fma (simd)"
	}
	return "portable"
}
