package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// forEachLevel runs f once per implementation this CPU and build support,
// so the portable code is checked even on a machine with AVX-512.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer useLevel(bestLevel())
	for _, l := range availableLevels() {
		useLevel(l)
		t.Run(l.String(), f)
	}
}

// withThreads runs f with 1 and with 3 threads (3 > cores here, so the
// split and the caller-runs-it path are both exercised).
func withThreads(t *testing.T, f func(t *testing.T)) {
	defer SetThreads(0)
	defer func(v int) { parallelMinFlops = v }(parallelMinFlops)
	parallelMinFlops = 0
	for _, n := range []int{1, 3} {
		SetThreads(n)
		t.Run(fmt.Sprintf("threads=%d", n), f)
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// closeTo reports whether got matches want within rel of the scale of the
// terms that produced it (sumAbs: sum of |a_i*b_i|), which is what float32
// accumulation error is proportional to.
func closeTo(got float32, want, sumAbs, rel float64) bool {
	return math.Abs(float64(got)-want) <= rel*math.Max(sumAbs, 1e-30)
}

// refLinear is the float64 reference of dst = x · Wᵀ.
func refLinear(w []float32, x []float32, rows, out, in int) (want, scale []float64) {
	want = make([]float64, rows*out)
	scale = make([]float64, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			var s, a float64
			for i := 0; i < in; i++ {
				p := float64(x[r*in+i]) * float64(w[o*in+i])
				s += p
				a += math.Abs(p)
			}
			want[r*out+o], scale[r*out+o] = s, a
		}
	}
	return want, scale
}

var shapes = []int{1, 3, 17, 31, 33, 64, 100, 257}

func checkProduct(t *testing.T, name string, got []float32, want, scale []float64) {
	t.Helper()
	for i := range want {
		if !closeTo(got[i], want[i], scale[i], 1e-4) {
			t.Fatalf("%s: element %d = %g, want %g (scale %g)", name, i, got[i], want[i], scale[i])
		}
	}
}

func TestLinearF32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	forEachLevel(t, func(t *testing.T) {
		withThreads(t, func(t *testing.T) {
			for _, rows := range shapes {
				for _, in := range []int{1, 3, 17, 33, 100, 257} {
					for _, out := range shapes {
						w, x := randSlice(r, out*in), randSlice(r, rows*in)
						want, scale := refLinear(w, x, rows, out, in)
						lin := NewLinearF32(w, out, in)
						if lin.In() != in || lin.Out() != out {
							t.Fatalf("In, Out = %d, %d; want %d, %d", lin.In(), lin.Out(), in, out)
						}
						got := make([]float32, rows*out+1)
						got[rows*out] = 42 // sentinel: nothing past the result is written
						lin.Forward(got, x, rows)
						checkProduct(t, fmt.Sprintf("rows=%d in=%d out=%d", rows, in, out), got, want, scale)
						if got[rows*out] != 42 {
							t.Fatalf("rows=%d in=%d out=%d: wrote past the result", rows, in, out)
						}
					}
				}
			}
		})
	})
}

// tileShapeRows are row counts around the float tile's heights (4 and 8
// rows) and past them, so every kernel meets partial tiles.
var tileShapeRows = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 33}

// TestLinearF32TileShapes checks the float tile at every level on odd
// shapes: rows around the tile heights, inputs that are no multiple of 4
// (the kernels' unrolling), partial and whole panels.
func TestLinearF32TileShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	forEachLevel(t, func(t *testing.T) {
		withThreads(t, func(t *testing.T) {
			for _, rows := range tileShapeRows {
				for _, in := range []int{1, 2, 3, 5, 6, 7, 16, 17, 45, 64, 257} {
					for _, out := range []int{1, 15, 16, 17, 31, 32, 33, 64, 100} {
						w, x := randSlice(r, out*in), randSlice(r, rows*in)
						want, scale := refLinear(w, x, rows, out, in)
						got := make([]float32, rows*out+1)
						got[rows*out] = 42 // sentinel: nothing past the result is written
						NewLinearF32(w, out, in).Forward(got, x, rows)
						checkProduct(t, fmt.Sprintf("rows=%d in=%d out=%d", rows, in, out), got, want, scale)
						if got[rows*out] != 42 {
							t.Fatalf("rows=%d in=%d out=%d: wrote past the result", rows, in, out)
						}
					}
				}
			}
		})
	})
}

// TestLinearF32FMAOrder checks that the SIMD tiles compute each output as
// FMAs in order of the inputs from +0, so that their levels agree bit for
// bit (the portable tile rounds products and sums apart).
func TestLinearF32FMAOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	forEachLevel(t, func(t *testing.T) {
		if current == levelPortable {
			t.Skip("the portable tile does not fuse")
		}
		for _, rows := range tileShapeRows {
			for _, in := range []int{1, 7, 64, 257} {
				for _, out := range []int{1, 31, 33, 64} {
					w, x := randSlice(r, out*in), randSlice(r, rows*in)
					got := make([]float32, rows*out)
					NewLinearF32(w, out, in).Forward(got, x, rows)
					for i := range got {
						ro, o := i/out, i%out
						var acc float32
						for j := 0; j < in; j++ {
							acc = fma32(x[ro*in+j], w[o*in+j], acc)
						}
						if math.Float32bits(got[i]) != math.Float32bits(acc) {
							t.Fatalf("rows=%d in=%d out=%d: element %d = %g, want %g", rows, in, out, i, got[i], acc)
						}
					}
				}
			}
		}
	})
}

func encodeF16(v float32) uint16 {
	// Round to nearest through float64; good enough for test data in normal range.
	b := math.Float32bits(v)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	if exp <= 0 {
		return sign
	}
	h := uint32(exp)<<10 | mant>>13
	if mant&0x1000 != 0 {
		h++
	}
	return sign | uint16(h)
}

func TestHalfToFloat32(t *testing.T) {
	cases := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.960464477539063e-08},
		{0x03ff, 6.097555160522461e-05}, {0x0400, 6.103515625e-05}, {0x3555, 0.333251953125},
		{0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	}
	for _, c := range cases {
		if got := halfToFloat32(c.h); got != c.want {
			t.Errorf("halfToFloat32(%#04x) = %g, want %g", c.h, got, c.want)
		}
	}
	if got := halfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("halfToFloat32(NaN) = %g", got)
	}
	if got := halfToFloat32(0x8000); math.Float32bits(got) != 0x80000000 {
		t.Errorf("halfToFloat32(-0) = %g, want -0", got)
	}
}

func TestLinearF16BF16(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const rows, out, in = 5, 37, 45
	w, x := randSlice(r, out*in), randSlice(r, rows*in)
	f16 := make([]byte, 2*len(w))
	bf16 := make([]byte, 2*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint16(f16[2*i:], encodeF16(v))
		binary.LittleEndian.PutUint16(bf16[2*i:], uint16(math.Float32bits(v)>>16))
	}
	for _, c := range []struct {
		name  string
		raw   []byte
		make  func([]byte, int, int) (Linear, error)
		dec   func([]float32, []byte)
		round func(float32) float32 // what the activations become, as in llama.cpp
	}{{"f16", f16, NewLinearF16, F16ToF32, roundHalf}, {"bf16", bf16, NewLinearBF16, BF16ToF32, roundBF16}} {
		dw := make([]float32, len(w))
		c.dec(dw, c.raw)
		for i := range w { // the decoded weights are the rounded ones
			if math.Abs(float64(dw[i]-w[i])) > 1e-2*math.Abs(float64(w[i]))+1e-4 {
				t.Fatalf("%s: weight %d decodes to %g, was %g", c.name, i, dw[i], w[i])
			}
		}
		xr := make([]float32, len(x))
		roundActs(xr, x, c.round)
		want, scale := refLinear(dw, xr, rows, out, in)
		lin, err := c.make(c.raw, out, in)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, rows*out)
		lin.Forward(got, x, rows)
		checkProduct(t, c.name, got, want, scale)
		if _, err := c.make(c.raw[:len(c.raw)-1], out, in); err == nil {
			t.Errorf("%s: truncated data gave no error", c.name)
		}
	}
}

// TestRoundBF16 checks the activations' rounding to bfloat16: to nearest,
// ties to even, past the largest to inf, NaN kept.
func TestRoundBF16(t *testing.T) {
	for _, c := range []struct{ in, want uint32 }{
		{0x3f800000, 0x3f800000}, // 1
		{0x3f808000, 0x3f800000}, // a tie: to even (down)
		{0x3f818000, 0x3f820000}, // a tie: to even (up)
		{0x3f808001, 0x3f810000}, // above the tie
		{0xbf807fff, 0xbf800000}, // below it, negative
		{0x7f7fffff, 0x7f800000}, // the largest float rounds to inf
		{0x00000001, 0x00000000}, // a tiny subnormal to zero
	} {
		if got := math.Float32bits(roundBF16(math.Float32frombits(c.in))); got != c.want {
			t.Errorf("roundBF16(%#08x) = %#08x, want %#08x", c.in, got, c.want)
		}
	}
	if got := roundBF16(float32(math.NaN())); got == got {
		t.Errorf("roundBF16(NaN) = %g", got)
	}
}

// randHalves makes out×in little-endian half floats: mostly rounded
// normals, some subnormals and zeros of either sign, and in a few rows an
// infinity, a NaN (quiet or signalling) or both infinities.
func randHalves(r *rand.Rand, out, in int) []byte {
	raw := make([]byte, 2*out*in)
	for i := range out * in {
		h := encodeF16(float32(r.NormFloat64()))
		switch r.IntN(32) {
		case 0:
			h = uint16(r.IntN(2))<<15 | uint16(1+r.IntN(0x3ff)) // subnormal
		case 1:
			h = uint16(r.IntN(2)) << 15 // ±0
		}
		binary.LittleEndian.PutUint16(raw[2*i:], h)
	}
	put := func(o int, h uint16) { binary.LittleEndian.PutUint16(raw[2*(o*in+r.IntN(in)):], h) }
	for o := 0; o < out; o++ {
		switch o % 16 {
		case 3:
			put(o, 0x7c00) // +inf
		case 6:
			put(o, []uint16{0x7e00, 0x7c01, 0xfd55}[o%3]) // NaN
		case 9:
			put(o, 0x7c00)
			put(o, 0xfc00) // inf − inf: NaN unless the same input
		}
	}
	return raw
}

// TestRoundHalves checks the f16 path's rounding of activations at every
// level against roundHalf: halves' normals, subnormals, ties, overflow and
// the specials, at lengths with partial vectors (a NaN as any NaN).
func TestRoundHalves(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	x := make([]float32, 0, 1<<17)
	for range 1 << 16 {
		x = append(x, math.Float32frombits(r.Uint32()))
		// Around the half range: exponents 2^-26 .. 2^17.
		x = append(x, math.Float32frombits(r.Uint32()&0x80ffffff|uint32(101+r.IntN(44))<<23))
	}
	x = append(x, 65504, 65519.99, 65520, 1e-8, 2.9802322e-08, 2.9802326e-08, 0, float32(math.Copysign(0, -1)),
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{1, 15, 16, 17, 100, len(x)} {
			got := make([]float32, n+1)
			got[n] = 42
			roundHalves(got[:n], x[:n])
			for i, v := range x[:n] {
				w, g := roundHalf(v), got[i]
				if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
					t.Fatalf("n=%d: roundHalves(%g = %#08x) = %g, want %g", n, v, math.Float32bits(v), g, w)
				}
			}
			if got[n] != 42 {
				t.Fatalf("n=%d: wrote past the result", n)
			}
		}
	})
}

// TestDecodeHalves checks the portable f16 tile's decoder against
// halfToFloat32 on every half.
func TestDecodeHalves(t *testing.T) {
	h := make([]uint16, 1<<16)
	for i := range h {
		h[i] = uint16(i)
	}
	got := make([]float64, len(h))
	decodeHalves(got, h)
	for i, v := range h {
		want := halfToFloat32(v)
		if g := float32(got[i]); math.Float32bits(g) != math.Float32bits(want) && !(g != g && want != want) {
			t.Fatalf("decodeHalves(%#04x) = %g, want %g", v, g, want)
		}
	}
}

// refLinearF16 is the f16 product as every level must compute it: each
// weight decoded by halfToFloat32, each output accumulated input by input
// from +0 with one rounding per step.
func refLinearF16(raw []byte, x []float32, rows, out, in int) []float32 {
	w := make([]float32, out*in)
	F16ToF32(w, raw)
	want := make([]float32, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			var acc float32
			for i := 0; i < in; i++ {
				acc = fma32(roundHalf(x[r*in+i]), w[o*in+i], acc)
			}
			want[r*out+o] = acc
		}
	}
	return want
}

// TestLinearF16 checks that every level computes the f16 product exactly
// as refLinearF16 does, bit for bit (a NaN as any NaN), on odd shapes:
// partial panels, row counts around the tile heights, short inputs.
func TestLinearF16(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	forEachLevel(t, func(t *testing.T) {
		withThreads(t, func(t *testing.T) {
			for _, rows := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 33} {
				for _, in := range []int{1, 3, 5, 16, 17, 45, 100, 257} {
					for _, out := range []int{1, 17, 31, 32, 33, 64, 100} {
						raw, x := randHalves(r, out, in), randSlice(r, rows*in)
						for i := range x {
							if r.IntN(64) == 0 {
								x[i] = 0 // meets the infinities
							}
						}
						want := refLinearF16(raw, x, rows, out, in)
						lin, err := NewLinearF16(raw, out, in)
						if err != nil {
							t.Fatal(err)
						}
						if lin.In() != in || lin.Out() != out {
							t.Fatalf("In, Out = %d, %d; want %d, %d", lin.In(), lin.Out(), in, out)
						}
						got := make([]float32, rows*out+1)
						got[rows*out] = 42 // sentinel: nothing past the result is written
						lin.Forward(got, x, rows)
						for i, w := range want {
							g := got[i]
							if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
								t.Fatalf("rows=%d in=%d out=%d: element %d = %g (%#08x), want %g (%#08x)",
									rows, in, out, i, g, math.Float32bits(g), w, math.Float32bits(w))
							}
						}
						if got[rows*out] != 42 {
							t.Fatalf("rows=%d in=%d out=%d: wrote past the result", rows, in, out)
						}
					}
				}
			}
		})
	})
}

// quantizeQ8 makes ggml q8_0 data for w (out×in) the way ggml does:
// d = max|x|/127, q = round(x/d).
func quantizeQ8(w []float32, out, in int) []byte {
	raw := make([]byte, 0, out*in/32*34)
	for o := 0; o < out; o++ {
		for b := 0; b < in/32; b++ {
			blk := w[o*in+b*32 : o*in+b*32+32]
			var amax float32
			for _, v := range blk {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			d := amax / 127
			h := encodeF16(d)
			raw = binary.LittleEndian.AppendUint16(raw, h)
			dd := halfToFloat32(h)
			for _, v := range blk {
				q := 0.0
				if dd != 0 {
					q = math.Round(float64(v / dd))
				}
				raw = append(raw, byte(int8(max(-127, min(127, q)))))
			}
		}
	}
	return raw
}

// TestLinearQ8_0Float checks the float path of q8_0 weights (activations
// stay float32); TestLinearQ8_0 in q8dot_test.go checks the int8 path.
func TestLinearQ8_0Float(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	forEachLevel(t, func(t *testing.T) {
		withThreads(t, func(t *testing.T) {
			for _, rows := range shapes {
				for _, in := range []int{32, 64, 96, 384} {
					for _, out := range []int{1, 17, 33, 100} {
						w, x := randSlice(r, out*in), randSlice(r, rows*in)
						raw := quantizeQ8(w, out, in)
						dw := make([]float32, out*in)
						if err := DequantizeQ8_0(dw, raw); err != nil {
							t.Fatal(err)
						}
						want, scale := refLinear(dw, x, rows, out, in)
						lin, err := newLinearQ8Float(raw, out, in)
						if err != nil {
							t.Fatal(err)
						}
						got := make([]float32, rows*out)
						lin.Forward(got, x, rows)
						checkProduct(t, fmt.Sprintf("rows=%d in=%d out=%d", rows, in, out), got, want, scale)
					}
				}
			}
		})
	})
}

func TestLinearQ8_0Errors(t *testing.T) {
	if _, err := NewLinearQ8_0(make([]byte, 34*3), 3, 40); err == nil {
		t.Error("in=40 (not a multiple of 32) gave no error")
	}
	if _, err := NewLinearQ8_0(make([]byte, 34*3-1), 3, 32); err == nil {
		t.Error("truncated data gave no error")
	}
	if _, err := NewLinearQ8_0(nil, 0, 32); err == nil {
		t.Error("out=0 gave no error")
	}
}

func TestMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type shape struct{ m, k, n int }
	var cases []shape
	for _, m := range shapes {
		for _, k := range shapes {
			for _, n := range shapes {
				cases = append(cases, shape{m, k, n})
			}
		}
	}
	// b wider than matMulDirectMaxN: MatMul copies its panels.
	cases = append(cases, shape{5, 7, matMulDirectMaxN + 77}, shape{9, 40, 2 * matMulDirectMaxN})
	// Attention's shapes: query rows around the tile heights, head sizes
	// 64 and odd ones, key counts with partial panels and vectors.
	for _, m := range tileShapeRows {
		for _, k := range []int{5, 63, 64} {
			for _, n := range []int{1, 7, 16, 31, 33, 94, 103} {
				cases = append(cases, shape{m, k, n}, shape{m, n, k})
			}
		}
	}
	forEachLevel(t, func(t *testing.T) {
		withThreads(t, func(t *testing.T) {
			for _, c := range cases {
				m, k, n := c.m, c.k, c.n
				a, b := randSlice(r, m*k), randSlice(r, k*n)
				// b (k×n) is Wᵀ for W (n×k).
				wt := make([]float32, n*k)
				for i := 0; i < k; i++ {
					for j := 0; j < n; j++ {
						wt[j*k+i] = b[i*n+j]
					}
				}
				want, scale := refLinear(wt, a, m, n, k)
				got := make([]float32, m*n)
				MatMul(got, a, b, m, k, n)
				checkProduct(t, fmt.Sprintf("MatMul m=%d k=%d n=%d", m, k, n), got, want, scale)
				clear(got)
				MatMulT(got, a, wt, m, k, n)
				checkProduct(t, fmt.Sprintf("MatMulT m=%d k=%d n=%d", m, k, n), got, want, scale)
			}
		})
	})
}

func TestVectorOps(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 257} {
			a, b := randSlice(r, n), randSlice(r, n)
			var want, sumAbs float64
			for i := range a {
				want += float64(a[i]) * float64(b[i])
				sumAbs += math.Abs(float64(a[i]) * float64(b[i]))
			}
			if got := Dot(a, b); !closeTo(got, want, sumAbs, 1e-5) {
				t.Errorf("Dot n=%d = %g, want %g", n, got, want)
			}

			y := append([]float32(nil), b...)
			Axpy(0.75, a, y)
			for i := range y {
				if w := 0.75*float64(a[i]) + float64(b[i]); !closeTo(y[i], w, math.Abs(0.75*float64(a[i]))+math.Abs(float64(b[i])), 1e-6) {
					t.Fatalf("Axpy n=%d: y[%d] = %g, want %g", n, i, y[i], w)
				}
			}
			y = append(y[:0], b...)
			Add(y, a)
			for i := range y {
				if y[i] != a[i]+b[i] {
					t.Fatalf("Add n=%d: y[%d] = %g, want %g", n, i, y[i], a[i]+b[i])
				}
			}
			y = append(y[:0], a...)
			Scale(y, -1.5)
			for i := range y {
				if y[i] != a[i]*-1.5 {
					t.Fatalf("Scale n=%d: y[%d] = %g, want %g", n, i, y[i], a[i]*-1.5)
				}
			}
		}
	})
}

func TestRMSNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 17, 31, 33, 64, 100, 257, 4096} {
			x, w := randSlice(r, n), randSlice(r, n)
			var ss float64
			for _, v := range x {
				ss += float64(v) * float64(v)
			}
			inv := 1 / math.Sqrt(ss/float64(n)+1e-6)
			for _, weight := range [][]float32{w, nil} {
				dst := make([]float32, n)
				RMSNorm(dst, x, weight, 1e-6)
				for i := range dst {
					want := float64(x[i]) * inv
					if weight != nil {
						want *= float64(w[i])
					}
					if !closeTo(dst[i], want, math.Abs(want), 1e-5) {
						t.Fatalf("RMSNorm n=%d weight=%v: dst[%d] = %g, want %g", n, weight != nil, i, dst[i], want)
					}
				}
			}
			// In place.
			y := append([]float32(nil), x...)
			RMSNorm(y, y, nil, 1e-6)
			if !closeTo(y[n-1], float64(x[n-1])*inv, math.Abs(float64(x[n-1])*inv), 1e-5) {
				t.Fatalf("RMSNorm in place n=%d: %g, want %g", n, y[n-1], float64(x[n-1])*inv)
			}
		}
	})
}

func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 15, 16, 17, 31, 32, 33, 64, 94, 100, 103, 257} {
			row := append(randSlice(r, n), 42) // a sentinel: nothing past x is written
			x := row[:n]
			for i := range x {
				x[i] *= 8 // spread the logits over a wide range
			}
			if n > 3 {
				x[1] = float32(math.Inf(-1)) // a masked position
				x[2] = -200                  // far below the max: underflows to 0
			}
			m := math.Inf(-1)
			for _, v := range x {
				m = math.Max(m, float64(v))
			}
			want := make([]float64, n)
			var sum float64
			for i, v := range x {
				want[i] = math.Exp(float64(v) - m)
				sum += want[i]
			}
			Softmax(x)
			for i := range x {
				if !closeTo(x[i], want[i]/sum, want[i]/sum, 1e-5) && math.Abs(float64(x[i])-want[i]/sum) > 1e-30 {
					t.Fatalf("Softmax n=%d: x[%d] = %g, want %g", n, i, x[i], want[i]/sum)
				}
			}
			if row[n] != 42 {
				t.Fatalf("Softmax n=%d wrote past the row", n)
			}
		}
		for _, n := range []int{1, 2, 16, 17, 40} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(math.Inf(-1))
			}
			Softmax(x)
			for _, v := range x {
				if v != 1/float32(n) {
					t.Fatalf("Softmax of %d × -Inf = %v, want uniform", n, x)
				}
			}
		}
	})
}

func TestSiLUMul(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 17, 31, 33, 64, 100, 257} {
			g, u := randSlice(r, n), randSlice(r, n)
			for i := range g {
				g[i] *= 6
			}
			if n > 3 {
				g[0], g[1], g[2] = 95, -95, 0
			}
			want := make([]float64, n)
			for i := range g {
				want[i] = float64(g[i]) / (1 + math.Exp(-float64(g[i]))) * float64(u[i])
			}
			SiLUMul(g, u)
			for i := range g {
				if !closeTo(g[i], want[i], math.Abs(want[i]), 1e-5) && math.Abs(float64(g[i])-want[i]) > 1e-30 {
					t.Fatalf("SiLUMul n=%d: [%d] = %g, want %g", n, i, g[i], want[i])
				}
			}
		}
	})
}

// TestExp checks the vector exponential behind Softmax and SiLUMul over its
// whole range against math.Exp.
func TestExp(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		const n = 20001
		x := make([]float32, n)
		for i := range x {
			x[i] = -87 + 87*float32(i)/(n-1) // softmax inputs are ≤ 0
		}
		got := append([]float32(nil), x...)
		expInPlace(got)
		worst := 0.0
		for i, v := range x {
			want := math.Exp(float64(v))
			worst = math.Max(worst, math.Abs(float64(got[i])-want)/want)
		}
		if worst > 2e-6 {
			t.Errorf("worst relative error of exp on [-87, 0] = %g, want ≤ 2e-6", worst)
		}
		// The ends of the range: finite at the top (SiLU of large negative
		// inputs divides by it), exactly 0 far below, NaN stays NaN.
		ends := []float32{88.3762626647949, 88.5, 1000, -88, -1000, float32(math.Inf(-1)), float32(math.NaN())}
		expInPlace(ends)
		if v := float64(ends[0]); math.IsInf(v, 0) || math.IsNaN(v) || v < 2e38 {
			t.Errorf("exp(88.376) = %g, want about 2.4e38", v)
		}
		for i, v := range ends[1:3] {
			if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
				t.Errorf("exp of large input %d = %g, want finite", i+1, v)
			}
		}
		for i, v := range ends[3:6] {
			if v < 0 || v > 1e-38 {
				t.Errorf("exp of very negative input %d = %g, want about 0", i+3, v)
			}
		}
	})
}

func TestRoPE(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	forEachLevel(t, func(t *testing.T) {
		for _, neox := range []bool{false, true} {
			for _, headDim := range []int{2, 6, 32, 64, 128} {
				for _, pos := range []int{0, 1, 7, 255, 1000, 70000} {
					const nHeads, base = 3, 10000
					x := randSlice(r, nHeads*headDim)
					want := make([]float64, len(x))
					half := headDim / 2
					for h := 0; h < nHeads; h++ {
						for i := 0; i < half; i++ {
							theta := float64(pos) * math.Pow(base, -2*float64(i)/float64(headDim))
							a, b := h*headDim+2*i, h*headDim+2*i+1
							if neox {
								a, b = h*headDim+i, h*headDim+i+half
							}
							x0, x1 := float64(x[a]), float64(x[b])
							want[a] = x0*math.Cos(theta) - x1*math.Sin(theta)
							want[b] = x0*math.Sin(theta) + x1*math.Cos(theta)
						}
					}
					RoPE(x, nHeads, headDim, pos, base, neox)
					for i := range x {
						if math.Abs(float64(x[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
							t.Fatalf("RoPE neox=%v headDim=%d pos=%d: x[%d] = %g, want %g", neox, headDim, pos, i, x[i], want[i])
						}
					}
				}
			}
		}
	})
}

func TestFeatures(t *testing.T) {
	if Features() == "" {
		t.Error("Features is empty")
	}
	t.Logf("kernels: %s, levels %v", Features(), availableLevels())
}

func TestParallelForRunsEveryTaskOnce(t *testing.T) {
	defer SetThreads(0)
	SetThreads(4)
	for _, n := range []int{0, 1, 2, 5, 100} {
		hits := make([]int32, n)
		parallelFor(n, func(i int) { hits[i]++ })
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d: task %d ran %d times", n, i, h)
			}
		}
	}
	// Nested calls (a kernel called from inside a worker) must not deadlock.
	var total [8][8]int32
	parallelFor(8, func(i int) {
		parallelFor(8, func(j int) { total[i][j]++ })
	})
	for i := range total {
		for j := range total[i] {
			if total[i][j] != 1 {
				t.Fatalf("nested task %d,%d ran %d times", i, j, total[i][j])
			}
		}
	}
}

func TestSetThreads(t *testing.T) {
	defer SetThreads(0)
	SetThreads(3)
	if Threads() != 3 {
		t.Errorf("Threads() = %d after SetThreads(3)", Threads())
	}
	SetThreads(-1)
	if Threads() < 1 {
		t.Errorf("Threads() = %d after SetThreads(-1), want the default", Threads())
	}
}

// TestConcurrentForward calls one Linear from several goroutines at once,
// as the engine does when it fills candidates in parallel; each must get
// the single-goroutine answer.
func TestConcurrentForward(t *testing.T) {
	defer SetThreads(0)
	SetThreads(2)
	r := rand.New(rand.NewPCG(19, 20))
	const rows, out, in = 37, 70, 96
	w, x := randSlice(r, out*in), randSlice(r, rows*in)
	lin, err := NewLinearQ8_0(quantizeQ8(w, out, in), out, in)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, rows*out)
	lin.Forward(want, x, rows)
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		go func() {
			got := make([]float32, rows*out)
			for rep := 0; rep < 20; rep++ {
				lin.Forward(got, x, rows)
				for i := range got {
					if got[i] != want[i] {
						errs <- fmt.Sprintf("element %d = %g, want %g", i, got[i], want[i])
						return
					}
				}
			}
			errs <- ""
		}()
	}
	for g := 0; g < 8; g++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
