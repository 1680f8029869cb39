package kernels

import (
	"math"
	"sync"
	"sync/atomic"
)

// Dot returns the dot product of a and b, which must have the same length.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("kernels: Dot of slices of different lengths")
	}
	return dotImpl(a, b)
}

// Axpy adds alpha*x to y; y must be at least as long as x.
func Axpy(alpha float32, x, y []float32) { axpyImpl(alpha, x, y[:len(x)]) }

// Scale multiplies x by s in place.
func Scale(x []float32, s float32) { scaleImpl(x, s) }

// Add adds x to dst; dst must be at least as long as x.
func Add(dst, x []float32) { addImpl(dst[:len(x)], x) }

// RMSNorm writes x / sqrt(mean(x²) + eps) * weight to dst (one row; dst may
// be x). weight may be nil for no scale.
func RMSNorm(dst, x, weight []float32, eps float32) {
	if len(dst) < len(x) || (weight != nil && len(weight) < len(x)) {
		panic("kernels: RMSNorm: dst or weight shorter than x")
	}
	if len(x) == 0 {
		return
	}
	if weight != nil {
		weight = weight[:len(x)]
	}
	rmsNormImpl(dst[:len(x)], x, weight, eps)
}

// Softmax replaces x with exp(x - max) / sum, in place. Entries of -Inf
// become 0; a row that is all -Inf becomes uniform rather than NaN.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	softmaxImpl(x)
}

// SiLUMul sets gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + e^-g).
func SiLUMul(gate, up []float32) {
	if len(up) < len(gate) {
		panic("kernels: SiLUMul: up shorter than gate")
	}
	siluMulImpl(gate, up[:len(gate)])
}

// RoPE rotates one token's queries or keys (nHeads*headDim floats) in place
// for position pos: pair i of each head turns by pos * base^(-2i/headDim).
// neox=false pairs adjacent values (2i, 2i+1), as llama.cpp's
// LLAMA_ROPE_TYPE_NORM (llama, llada); neox=true pairs (i, i+headDim/2), as
// LLAMA_ROPE_TYPE_NEOX (Qwen2, Dream). The angles are computed in float64
// once per (headDim, base, pos) and cached.
func RoPE(x []float32, nHeads, headDim, pos int, base float32, neox bool) {
	if nHeads <= 0 || headDim < 2 {
		return
	}
	if len(x) < nHeads*headDim {
		panic("kernels: RoPE: x shorter than nHeads×headDim")
	}
	half := headDim / 2
	cs := ropeAngles(headDim, base, pos)
	cos, sin := cs[:half], cs[half:]
	for h := 0; h < nHeads; h++ {
		head := x[h*headDim : h*headDim+2*half]
		if neox {
			ropeHalves(head, cos, sin)
		} else {
			ropePairs(head, cos, sin)
		}
	}
}

// ropeTable caches cos and sin of the angles of every position seen so far
// for one (headDim, base): row pos is headDim/2 cosines then headDim/2 sines.
type ropeTable struct {
	dims int
	base float64
	rows atomic.Pointer[[]float32] // read without locking; replaced whole when grown
	mu   sync.Mutex                // serializes growth
}

type ropeKey struct {
	dims int
	base float32
}

var ropeTables sync.Map // ropeKey → *ropeTable

// ropeMaxCached bounds the cached positions; rarer, larger ones are computed
// on each call.
const ropeMaxCached = 1 << 16

func ropeAngles(headDim int, base float32, pos int) []float32 {
	half := headDim / 2
	key := ropeKey{headDim, base}
	v, ok := ropeTables.Load(key)
	if !ok {
		v, _ = ropeTables.LoadOrStore(key, &ropeTable{dims: headDim, base: float64(base)})
	}
	t := v.(*ropeTable)
	if pos < 0 || pos >= ropeMaxCached {
		row := make([]float32, 2*half)
		t.fill(row, pos)
		return row
	}
	if rows := t.rows.Load(); rows != nil && (pos+1)*2*half <= len(*rows) {
		return (*rows)[pos*2*half : (pos+1)*2*half]
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.rows.Load()
	have := 0
	if old != nil {
		have = len(*old) / (2 * half)
	}
	if pos < have {
		return (*old)[pos*2*half : (pos+1)*2*half]
	}
	n := max(pos+1, 2*have, 512)
	n = min(n, ropeMaxCached)
	grown := make([]float32, n*2*half)
	if old != nil {
		copy(grown, *old)
	}
	for p := have; p < n; p++ {
		t.fill(grown[p*2*half:(p+1)*2*half], p)
	}
	t.rows.Store(&grown)
	return grown[pos*2*half : (pos+1)*2*half]
}

func (t *ropeTable) fill(row []float32, pos int) {
	half := len(row) / 2
	for i := 0; i < half; i++ {
		theta := float64(pos) * math.Pow(t.base, -2*float64(i)/float64(t.dims))
		s, c := math.Sincos(theta)
		row[i], row[half+i] = float32(c), float32(s)
	}
}

func dotPortable(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyPortable(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func scalePortable(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

func addPortable(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] += v
	}
}

func rmsNormPortable(dst, x, weight []float32, eps float32) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	scale := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	if weight == nil {
		for i, v := range x {
			dst[i] = v * scale
		}
		return
	}
	for i, v := range x {
		dst[i] = v * scale * weight[i]
	}
}

func softmaxPortable(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	if math.IsInf(float64(m), -1) {
		uniform(x)
		return
	}
	var sum float64
	for i, v := range x {
		e := expf(v - m)
		x[i] = e
		sum += float64(e)
	}
	scalePortable(x, float32(1/sum))
}

func uniform(x []float32) {
	u := 1 / float32(len(x))
	for i := range x {
		x[i] = u
	}
}

func siluMulPortable(gate, up []float32) {
	up = up[:len(gate)]
	for i, g := range gate {
		gate[i] = g / (1 + expf(-g)) * up[i]
	}
}

func ropePairsPortable(x, cos, sin []float32) {
	for i := range cos {
		x0, x1 := x[2*i], x[2*i+1]
		c, s := cos[i], sin[i]
		x[2*i] = x0*c - x1*s
		x[2*i+1] = x0*s + x1*c
	}
}

func ropeHalvesPortable(x, cos, sin []float32) {
	half := len(cos)
	for i := range cos {
		x0, x1 := x[i], x[i+half]
		c, s := cos[i], sin[i]
		x[i] = x0*c - x1*s
		x[i+half] = x0*s + x1*c
	}
}

func expPortable(x []float32) {
	for i, v := range x {
		x[i] = expf(v)
	}
}

// expf is Cephes' single-precision exponential (relative error about 1e-7),
// several times faster than math.Exp in float64: e^x = 2^n · e^r with
// n = round(x·log2 e), r = x - n·ln 2 and e^r a polynomial.
func expf(x float32) float32 {
	switch {
	case x < -87.3365447505531:
		return 0
	case x > 88.3762626647949:
		x = 88.3762626647949
	case x != x:
		return x
	}
	n := float32(math.Floor(float64(x*1.44269504088896341 + 0.5)))
	r := x - n*0.693359375
	r -= n * -2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}
