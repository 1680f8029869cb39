//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"simd/archsimd"
)

// The exponential of Cephes' expf: e^x = 2^n · e^r with n = round(x·log2 e),
// r = x - n·ln 2 (ln 2 split in two for precision) and e^r a degree-7
// polynomial; relative error about 1e-7.
const (
	expLog2e = 1.44269504088896341
	expC1    = 0.693359375
	expC2    = -2.12194440e-4
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
	expHi    = 88.3762626647949  // e^expHi < MaxFloat32
	expLo    = -87.3365447505531 // e^expLo = smallest normal float32 (AVX2 path)
	expLo512 = -104.0            // VSCALEF underflows to 0 below this
)

// exp16 is e^x on 16 floats (AVX-512); 2^n comes from VSCALEFPS, which
// underflows gracefully to 0, so -Inf and large negative x give 0. It must
// stay small enough to inline: a call would spill every vector register.
func exp16(x archsimd.Float32x16) archsimd.Float32x16 {
	b := archsimd.BroadcastFloat32x16
	x = x.Max(b(expLo512)).Min(b(expHi))
	n := x.Mul(b(expLog2e)).RoundToEvenScaled(0)
	r := n.MulAdd(b(-expC1), x)
	r = n.MulAdd(b(-expC2), r)
	p := b(expP0).MulAdd(r, b(expP1))
	p = p.MulAdd(r, b(expP2))
	p = p.MulAdd(r, b(expP3))
	p = p.MulAdd(r, b(expP4))
	p = p.MulAdd(r, b(expP5))
	y := p.MulAdd(r.Mul(r), r.Add(b(1)))
	return y.Scale(n)
}

// exp8 is e^x on 8 floats (AVX2); 2^n is built in the exponent bits, and x
// below the smallest normal result gives 0.
func exp8(x archsimd.Float32x8) archsimd.Float32x8 {
	keep := x.GreaterEqual(archsimd.BroadcastFloat32x8(expLo))
	x = x.Max(archsimd.BroadcastFloat32x8(expLo)).Min(archsimd.BroadcastFloat32x8(expHi))
	n := x.Mul(archsimd.BroadcastFloat32x8(expLog2e)).RoundToEven()
	r := n.MulAdd(archsimd.BroadcastFloat32x8(-expC1), x)
	r = n.MulAdd(archsimd.BroadcastFloat32x8(-expC2), r)
	p := archsimd.BroadcastFloat32x8(expP0)
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP1))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP2))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP3))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP4))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP5))
	y := p.MulAdd(r.Mul(r), r.Add(archsimd.BroadcastFloat32x8(1)))
	pow2 := n.ConvertToInt32().Add(archsimd.BroadcastInt32x8(127)).ShiftAllLeft(23).AsFloat32x8()
	return y.Mul(pow2).Masked(keep)
}

// hsum16 and hsum8 add a vector's lanes in registers: halves, then pairs.
func hsum16(v archsimd.Float32x16) float32 {
	return hsum8(v.GetLo().Add(v.GetHi()))
}

func hsum8(v archsimd.Float32x8) float32 {
	q := v.GetLo().Add(v.GetHi())
	q = q.AddPairs(q)
	return q.AddPairs(q).GetElem(0)
}

func hmax8(v archsimd.Float32x8) float32 {
	var t [8]float32
	v.Store(&t)
	m := t[0]
	for _, x := range t[1:] {
		m = max(m, x)
	}
	return m
}

// ---- AVX-512 ----

func dotAVX512(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 archsimd.Float32x16
	i := 0
	for ; i+64 <= len(a); i += 64 {
		s0 = archsimd.LoadFloat32x16Slice(a[i:]).MulAdd(archsimd.LoadFloat32x16Slice(b[i:]), s0)
		s1 = archsimd.LoadFloat32x16Slice(a[i+16:]).MulAdd(archsimd.LoadFloat32x16Slice(b[i+16:]), s1)
		s2 = archsimd.LoadFloat32x16Slice(a[i+32:]).MulAdd(archsimd.LoadFloat32x16Slice(b[i+32:]), s2)
		s3 = archsimd.LoadFloat32x16Slice(a[i+48:]).MulAdd(archsimd.LoadFloat32x16Slice(b[i+48:]), s3)
	}
	for ; i+16 <= len(a); i += 16 {
		s0 = archsimd.LoadFloat32x16Slice(a[i:]).MulAdd(archsimd.LoadFloat32x16Slice(b[i:]), s0)
	}
	if i < len(a) {
		s1 = archsimd.LoadFloat32x16SlicePart(a[i:]).MulAdd(archsimd.LoadFloat32x16SlicePart(b[i:]), s1)
	}
	sum := hsum16(s0.Add(s1).Add(s2.Add(s3)))
	archsimd.ClearAVXUpperBits()
	return sum
}

func axpyAVX512(alpha float32, x, y []float32) {
	y = y[:len(x)]
	av := archsimd.BroadcastFloat32x16(alpha)
	i := 0
	for ; i+16 <= len(x); i += 16 {
		archsimd.LoadFloat32x16Slice(x[i:]).MulAdd(av, archsimd.LoadFloat32x16Slice(y[i:])).StoreSlice(y[i:])
	}
	if i < len(x) {
		archsimd.LoadFloat32x16SlicePart(x[i:]).MulAdd(av, archsimd.LoadFloat32x16SlicePart(y[i:])).StoreSlicePart(y[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func scaleAVX512(x []float32, s float32) {
	sv := archsimd.BroadcastFloat32x16(s)
	i := 0
	for ; i+16 <= len(x); i += 16 {
		archsimd.LoadFloat32x16Slice(x[i:]).Mul(sv).StoreSlice(x[i:])
	}
	if i < len(x) {
		archsimd.LoadFloat32x16SlicePart(x[i:]).Mul(sv).StoreSlicePart(x[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func addAVX512(dst, x []float32) {
	dst = dst[:len(x)]
	i := 0
	for ; i+16 <= len(x); i += 16 {
		archsimd.LoadFloat32x16Slice(dst[i:]).Add(archsimd.LoadFloat32x16Slice(x[i:])).StoreSlice(dst[i:])
	}
	if i < len(x) {
		archsimd.LoadFloat32x16SlicePart(dst[i:]).Add(archsimd.LoadFloat32x16SlicePart(x[i:])).StoreSlicePart(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

// rmsScale is RMSNorm's 1/sqrt(ss/n + eps), in float64, for a sum of
// squares ss. It is scalar (SSE) code, kept out of line so that none of
// it is scheduled before the caller's ClearAVXUpperBits: SSE after AVX-512
// with dirty upper halves costs a state transition each time.
//
//go:noinline
func rmsScale(ss float32, n int, eps float32) float32 {
	return float32(1 / math.Sqrt(float64(ss)/float64(n)+float64(eps)))
}

func rmsNormAVX512(dst, x, weight []float32, eps float32) {
	var s0, s1 archsimd.Float32x16
	i := 0
	for ; i+32 <= len(x); i += 32 {
		v0, v1 := archsimd.LoadFloat32x16Slice(x[i:]), archsimd.LoadFloat32x16Slice(x[i+16:])
		s0, s1 = v0.MulAdd(v0, s0), v1.MulAdd(v1, s1)
	}
	for ; i < len(x); i += 16 {
		v := archsimd.LoadFloat32x16SlicePart(x[i:])
		s0 = v.MulAdd(v, s0)
	}
	ss := hsum16(s0.Add(s1))
	archsimd.ClearAVXUpperBits() // rmsScale is SSE code
	sv := archsimd.BroadcastFloat32x16(rmsScale(ss, len(x), eps))
	for i = 0; i < len(x); i += 16 {
		v := archsimd.LoadFloat32x16SlicePart(x[i:]).Mul(sv)
		if weight != nil {
			v = v.Mul(archsimd.LoadFloat32x16SlicePart(weight[i:]))
		}
		v.StoreSlicePart(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func expAVX512(x []float32) {
	for i := 0; i < len(x); i += 16 {
		exp16(archsimd.LoadFloat32x16SlicePart(x[i:])).StoreSlicePart(x[i:])
	}
	archsimd.ClearAVXUpperBits()
}

// softmaxAVX512Asm is the AVX-512 softmax of softmax_amd64.s over x[:n],
// n ≥ 1; it returns false, x untouched, when every entry is -Inf.
//
//go:noescape
func softmaxAVX512Asm(x *float32, n int) (ok bool)

// softmaxAVX512 runs softmax_amd64.s. On attention's short rows (16 to
// 1024 scores) the archsimd version spent most of its time outside its
// full vectors: scalar (SSE) tails and reductions through memory, each SSE
// instruction after dirty 512-bit registers a state transition. There the
// last partial vector is masked, the reductions stay in registers and no
// SSE code runs.
func softmaxAVX512(x []float32) {
	if !softmaxAVX512Asm(&x[0], len(x)) {
		uniform(x)
	}
}

// siluMulAVX512 computes g / (1 + e^-g) * u; the reciprocal is a 14-bit
// estimate refined by one Newton step (cheaper than a division, as exact in
// float32). The body is written out twice because a helper would not inline.
func siluMulAVX512(gate, up []float32) {
	up = up[:len(gate)]
	zero, one, two := archsimd.BroadcastFloat32x16(0), archsimd.BroadcastFloat32x16(1), archsimd.BroadcastFloat32x16(2)
	i := 0
	for ; i+16 <= len(gate); i += 16 {
		g := archsimd.LoadFloat32x16Slice(gate[i:])
		d := exp16(zero.Sub(g)).Add(one)
		r := d.Reciprocal()
		r = r.Mul(two.Sub(d.Mul(r)))
		g.Mul(r).Mul(archsimd.LoadFloat32x16Slice(up[i:])).StoreSlice(gate[i:])
	}
	if i < len(gate) {
		g := archsimd.LoadFloat32x16SlicePart(gate[i:])
		d := exp16(zero.Sub(g)).Add(one)
		r := d.Reciprocal()
		r = r.Mul(two.Sub(d.Mul(r)))
		g.Mul(r).Mul(archsimd.LoadFloat32x16SlicePart(up[i:])).StoreSlicePart(gate[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func ropeHalvesAVX512(x, cos, sin []float32) {
	half := len(cos)
	lo, hi := x[:half], x[half:2*half]
	sin = sin[:half]
	for i := 0; i < half; i += 16 {
		x0, x1 := archsimd.LoadFloat32x16SlicePart(lo[i:]), archsimd.LoadFloat32x16SlicePart(hi[i:])
		c, s := archsimd.LoadFloat32x16SlicePart(cos[i:]), archsimd.LoadFloat32x16SlicePart(sin[i:])
		x0.Mul(c).Sub(x1.Mul(s)).StoreSlicePart(lo[i:])
		x0.MulAdd(s, x1.Mul(c)).StoreSlicePart(hi[i:])
	}
	archsimd.ClearAVXUpperBits()
}

// ---- AVX2 ----

func dotAVX2(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 archsimd.Float32x8
	i := 0
	for ; i+32 <= len(a); i += 32 {
		s0 = archsimd.LoadFloat32x8Slice(a[i:]).MulAdd(archsimd.LoadFloat32x8Slice(b[i:]), s0)
		s1 = archsimd.LoadFloat32x8Slice(a[i+8:]).MulAdd(archsimd.LoadFloat32x8Slice(b[i+8:]), s1)
		s2 = archsimd.LoadFloat32x8Slice(a[i+16:]).MulAdd(archsimd.LoadFloat32x8Slice(b[i+16:]), s2)
		s3 = archsimd.LoadFloat32x8Slice(a[i+24:]).MulAdd(archsimd.LoadFloat32x8Slice(b[i+24:]), s3)
	}
	for ; i+8 <= len(a); i += 8 {
		s0 = archsimd.LoadFloat32x8Slice(a[i:]).MulAdd(archsimd.LoadFloat32x8Slice(b[i:]), s0)
	}
	sum := hsum8(s0.Add(s1).Add(s2.Add(s3)))
	archsimd.ClearAVXUpperBits() // the scalar code below is SSE
	for ; i < len(a); i++ {
		sum += a[i] * b[i]
	}
	return sum
}

func axpyAVX2(alpha float32, x, y []float32) {
	y = y[:len(x)]
	av := archsimd.BroadcastFloat32x8(alpha)
	i := 0
	for ; i+8 <= len(x); i += 8 {
		archsimd.LoadFloat32x8Slice(x[i:]).MulAdd(av, archsimd.LoadFloat32x8Slice(y[i:])).StoreSlice(y[i:])
	}
	archsimd.ClearAVXUpperBits()
	axpyPortable(alpha, x[i:], y[i:])
}

func scaleAVX2(x []float32, s float32) {
	sv := archsimd.BroadcastFloat32x8(s)
	i := 0
	for ; i+8 <= len(x); i += 8 {
		archsimd.LoadFloat32x8Slice(x[i:]).Mul(sv).StoreSlice(x[i:])
	}
	archsimd.ClearAVXUpperBits()
	scalePortable(x[i:], s)
}

func addAVX2(dst, x []float32) {
	dst = dst[:len(x)]
	i := 0
	for ; i+8 <= len(x); i += 8 {
		archsimd.LoadFloat32x8Slice(dst[i:]).Add(archsimd.LoadFloat32x8Slice(x[i:])).StoreSlice(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	addPortable(dst[i:], x[i:])
}

func rmsNormAVX2(dst, x, weight []float32, eps float32) {
	var s0, s1 archsimd.Float32x8
	i := 0
	for ; i+16 <= len(x); i += 16 {
		v0, v1 := archsimd.LoadFloat32x8Slice(x[i:]), archsimd.LoadFloat32x8Slice(x[i+8:])
		s0, s1 = v0.MulAdd(v0, s0), v1.MulAdd(v1, s1)
	}
	ss := float64(hsum8(s0.Add(s1)))
	archsimd.ClearAVXUpperBits() // the scalar code below is SSE
	for _, v := range x[i:] {
		ss += float64(v) * float64(v)
	}
	scale := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	sv := archsimd.BroadcastFloat32x8(scale)
	for i = 0; i+8 <= len(x); i += 8 {
		v := archsimd.LoadFloat32x8Slice(x[i:]).Mul(sv)
		if weight != nil {
			v = v.Mul(archsimd.LoadFloat32x8Slice(weight[i:]))
		}
		v.StoreSlice(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	for ; i < len(x); i++ {
		v := x[i] * scale
		if weight != nil {
			v *= weight[i]
		}
		dst[i] = v
	}
}

func expAVX2(x []float32) {
	for i := 0; i < len(x); i += 8 {
		exp8(archsimd.LoadFloat32x8SlicePart(x[i:])).StoreSlicePart(x[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func softmaxAVX2(x []float32) {
	mv := archsimd.BroadcastFloat32x8(float32(math.Inf(-1)))
	i := 0
	for ; i+8 <= len(x); i += 8 {
		mv = mv.Max(archsimd.LoadFloat32x8Slice(x[i:]))
	}
	m := hmax8(mv)
	archsimd.ClearAVXUpperBits() // the scalar code below is SSE
	for _, v := range x[i:] {
		m = max(m, v)
	}
	if math.IsInf(float64(m), -1) {
		uniform(x)
		return
	}
	mv = archsimd.BroadcastFloat32x8(m)
	var sv archsimd.Float32x8
	for i = 0; i+8 <= len(x); i += 8 {
		e := exp8(archsimd.LoadFloat32x8Slice(x[i:]).Sub(mv))
		e.StoreSlice(x[i:])
		sv = sv.Add(e)
	}
	sum := hsum8(sv)
	archsimd.ClearAVXUpperBits()
	if i < len(x) {
		exp8(archsimd.LoadFloat32x8SlicePart(x[i:]).Sub(mv)).StoreSlicePart(x[i:])
		archsimd.ClearAVXUpperBits()
		for _, v := range x[i:] {
			sum += v
		}
	}
	scaleAVX2(x, 1/sum)
}

func siluMulAVX2(gate, up []float32) {
	up = up[:len(gate)]
	one := archsimd.BroadcastFloat32x8(1)
	zero := archsimd.BroadcastFloat32x8(0)
	for i := 0; i < len(gate); i += 8 {
		g := archsimd.LoadFloat32x8SlicePart(gate[i:])
		e := exp8(zero.Sub(g))
		g.Div(one.Add(e)).Mul(archsimd.LoadFloat32x8SlicePart(up[i:])).StoreSlicePart(gate[i:])
	}
	archsimd.ClearAVXUpperBits()
}

func ropeHalvesAVX2(x, cos, sin []float32) {
	half := len(cos)
	lo, hi := x[:half], x[half:2*half]
	sin = sin[:half]
	for i := 0; i < half; i += 8 {
		x0, x1 := archsimd.LoadFloat32x8SlicePart(lo[i:]), archsimd.LoadFloat32x8SlicePart(hi[i:])
		c, s := archsimd.LoadFloat32x8SlicePart(cos[i:]), archsimd.LoadFloat32x8SlicePart(sin[i:])
		x0.Mul(c).Sub(x1.Mul(s)).StoreSlicePart(lo[i:])
		x0.MulAdd(s, x1.Mul(c)).StoreSlicePart(hi[i:])
	}
	archsimd.ClearAVXUpperBits()
}

// Index vectors for rotating adjacent pairs: dup spreads cos/sin value i
// over lanes 2i and 2i+1; swap exchanges the two lanes of each pair.
var (
	ropeDup16  = [16]uint32{0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7}
	ropeSwap16 = [16]uint32{1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14}
	ropeSign16 = [16]float32{-1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1}
	ropeDup8   = [8]uint32{0, 0, 1, 1, 2, 2, 3, 3}
	ropeSwap8  = [8]uint32{1, 0, 3, 2, 5, 4, 7, 6}
)

// ropePairsAVX512 rotates 8 pairs per step: x·cos + swap(x)·(∓sin).
func ropePairsAVX512(x, cos, sin []float32) {
	half := len(cos)
	x, sin = x[:2*half], sin[:half]
	dup := archsimd.LoadUint32x16(&ropeDup16)
	swap := archsimd.LoadUint32x16(&ropeSwap16)
	sign := archsimd.LoadFloat32x16(&ropeSign16)
	for i := 0; i < half; i += 8 {
		j := min(i+8, half)
		c := archsimd.LoadFloat32x16SlicePart(cos[i:j]).Permute(dup)
		s := archsimd.LoadFloat32x16SlicePart(sin[i:j]).Permute(dup).Mul(sign)
		v := archsimd.LoadFloat32x16SlicePart(x[2*i:])
		v.Permute(swap).MulAdd(s, v.Mul(c)).StoreSlicePart(x[2*i:])
	}
	archsimd.ClearAVXUpperBits()
}

// ropePairsAVX2 rotates 4 pairs per step, as ropePairsAVX512.
func ropePairsAVX2(x, cos, sin []float32) {
	half := len(cos)
	x, sin = x[:2*half], sin[:half]
	dup := archsimd.LoadUint32x8(&ropeDup8)
	swap := archsimd.LoadUint32x8(&ropeSwap8)
	sign := archsimd.LoadFloat32x8((*[8]float32)(ropeSign16[:8]))
	for i := 0; i < half; i += 4 {
		j := min(i+4, half)
		c := archsimd.LoadFloat32x8SlicePart(cos[i:j]).Permute(dup)
		s := archsimd.LoadFloat32x8SlicePart(sin[i:j]).Permute(dup).Mul(sign)
		v := archsimd.LoadFloat32x8SlicePart(x[2*i:])
		v.Permute(swap).MulAdd(s, v.Mul(c)).StoreSlicePart(x[2*i:])
	}
	archsimd.ClearAVXUpperBits()
}
