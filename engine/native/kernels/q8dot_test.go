package kernels

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFMA32 checks the portable fused multiply-add against exact
// arithmetic, on random operands and on sums that land next to a float32
// rounding midpoint (where rounding twice would go wrong).
func TestFMA32(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	exact := func(x, y, z float32) float32 {
		p := new(big.Float).SetPrec(200).SetFloat64(float64(x))
		p.Mul(p, new(big.Float).SetFloat64(float64(y)))
		p.Add(p, new(big.Float).SetFloat64(float64(z)))
		f, _ := p.Float32()
		return f
	}
	check := func(x, y, z float32) {
		t.Helper()
		if got, want := fma32(x, y, z), exact(x, y, z); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", x, y, z, got, want)
		}
	}
	for range 200000 {
		x := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(40)-20)))
		y := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(40)-20)))
		z := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(80)-40)))
		check(x, y, z)
	}
	// z is a float32 midpoint (an odd multiple of half an ulp, split into
	// a float32 and a tiny product): rounding to float64 first would land
	// exactly on the midpoint and tie to even.
	for range 20000 {
		base := float32(1 + r.Float64())
		ulp := math.Nextafter32(base, 2) - base
		tiny := float32(math.Ldexp(1+r.Float64(), -60))
		for _, sgn := range []float32{1, -1} {
			check(tiny, sgn, base+ulp/2)
			check(tiny, sgn, base)
			check(float32(ulp/2), 1+sgn*tiny, base)
		}
	}
	// x·y = ulp/2·(1 − a²·2⁻⁴⁶) next to an odd base: rounded to float64
	// the sum is the midpoint (rounding on would tie up to even), exactly
	// it is just below.
	for range 20000 {
		base := math.Float32frombits(0x3f800001 + 2*uint32(r.IntN(1<<21)))
		const ulp = 1.0 / (1 << 23)
		a := float32(1 + r.IntN(1000))
		x, y := ulp/2*(1+a*ulp), 1-a*ulp
		check(x, y, base)
		check(-x, y, -base)
		check(x, -y, base)
	}
	// Sums around and below the smallest float32 normal (2⁻¹²⁶), which
	// the fast path leaves to the slow one.
	for range 20000 {
		x := float32(math.Ldexp(1+r.Float64(), -63-r.IntN(24)))
		y := float32(math.Ldexp(1+r.Float64(), -63))
		z := float32(math.Ldexp(r.NormFloat64(), -126-r.IntN(24)))
		check(x, y, z)
		check(x, -y, z)
	}
}

// TestFloat32ToHalf checks the rounding of every half float and of every
// midpoint between neighbours (ties to even), and the edges.
func TestFloat32ToHalf(t *testing.T) {
	for h := uint32(0); h < 0x7c00; h++ {
		for _, sign := range []uint32{0, 0x8000} {
			f := halfToFloat32(uint16(h | sign))
			if got := float32ToHalf(f); uint32(got) != h|sign {
				t.Fatalf("float32ToHalf(%g) = %#x, want %#x", f, got, h|sign)
			}
			if h == 0x7bff {
				continue
			}
			lo, hi := f, halfToFloat32(uint16(h+1|sign))
			mid := (lo + hi) / 2
			want := uint16(h | sign)
			if h&1 != 0 {
				want = uint16(h + 1 | sign)
			}
			if got := float32ToHalf(mid); got != want {
				t.Fatalf("float32ToHalf(%g), between %#x and %#x: %#x, want %#x", mid, h|sign, h+1|sign, got, want)
			}
			if got := float32ToHalf(math.Nextafter32(mid, lo)); got != uint16(h|sign) {
				t.Fatalf("float32ToHalf just below the midpoint %g: %#x, want %#x", mid, got, h|sign)
			}
			if got := float32ToHalf(math.Nextafter32(mid, hi)); got != uint16(h+1|sign) {
				t.Fatalf("float32ToHalf just above the midpoint %g: %#x, want %#x", mid, got, h+1|sign)
			}
		}
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{
		{65504, 0x7bff}, {65519, 0x7bff}, {65520, 0x7c00}, {1e10, 0x7c00}, {-1e10, 0xfc00},
		{float32(math.Inf(1)), 0x7c00}, {float32(math.Ldexp(1, -25)), 0}, {float32(math.Ldexp(1.01, -25)), 1},
		{float32(math.Ldexp(1, -40)), 0}, {float32(math.Copysign(0, -1)), 0x8000},
	} {
		if got := float32ToHalf(c.f); got != c.want {
			t.Errorf("float32ToHalf(%g) = %#x, want %#x", c.f, got, c.want)
		}
	}
	for h := 0; h < 1<<16; h++ {
		want := halfToFloat32(uint16(h))
		if got := math.Float32frombits(halfToFloat32Bits(uint16(h))); math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("halfToFloat32Bits(%#x) = %g, want %g", h, got, want)
		}
	}
	if got := float32ToHalf(float32(math.NaN())); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("float32ToHalf(NaN) = %#x, not a NaN", got)
	}
}

// actRows makes activation rows that stress the quantizer: normal values,
// a block of zeros, outliers, tiny values and exact ties (x·127/amax = n+½).
func actRows(r *rand.Rand, rows, k int) []float32 {
	x := randSlice(r, rows*k)
	for row := 0; row < rows; row++ {
		for b := 0; b < k/32; b++ {
			blk := x[row*k+b*32 : row*k+b*32+32]
			switch (row + b) % 5 {
			case 1:
				clear(blk)
			case 2:
				blk[r.IntN(32)] *= 100
			case 3:
				for i := range blk {
					blk[i] *= 1e-6
				}
			case 4:
				blk[0] = 127
				for i := 1; i < 32; i++ {
					blk[i] = float32(r.IntN(254)-127) + 0.5
				}
			}
		}
	}
	return x
}

// TestQuantizeActs checks every level's activation quantizer against the
// portable one bit for bit, and the quantization against its definition.
func TestQuantizeActs(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	const rows, k = 23, 256
	x := actRows(r, rows, k)
	nb := k / 32
	defer useLevel(bestLevel())
	useLevel(levelPortable)
	ref := quantizeActs(x, rows, k, actQ8_0)
	wantQ, wantM := append([]int8(nil), ref.q...), append([]q8Meta(nil), ref.meta...)
	q8ActsPool.Put(ref)
	for i, m := range wantM {
		row, b := i/nb, i%nb
		if row >= rows {
			if m != (q8Meta{}) {
				t.Fatalf("padding row %d has meta %+v", row, m)
			}
			continue
		}
		blk := x[row*k+b*32 : row*k+b*32+32]
		var amax float64
		var sum int32
		for i, v := range blk {
			amax = math.Max(amax, math.Abs(float64(v)))
			q := wantQ[row*k+b*32+i]
			if q < -127 {
				t.Fatalf("row %d block %d: quant %d below -127", row, b, q)
			}
			sum += int32(q)
		}
		wantD := halfToFloat32(float32ToHalf(float32(amax) / 127))
		// |x − q·d| ≤ d/2 for the exact d = amax/127 (up to float32
		// rounding of x·127/amax), unless the half-float scale is zero and
		// so are the quants.
		d := amax / 127
		if wantD == 0 {
			d = 0
		}
		for i, v := range blk {
			q := float64(wantQ[row*k+b*32+i])
			if wantD == 0 && q != 0 || wantD != 0 && math.Abs(float64(v)-q*d) > d*(0.5+1e-4) {
				t.Fatalf("row %d block %d value %d: %g quantized to %g·%g", row, b, i, v, q, d)
			}
		}
		if m.d != wantD || m.corr != -128*sum || m.dsum != float32(sum)*wantD {
			t.Fatalf("row %d block %d: meta %+v, amax %g, sum %d", row, b, m, amax, sum)
		}
	}
	for _, l := range availableLevels() {
		useLevel(l)
		withThreads(t, func(t *testing.T) {
			a := quantizeActs(x, rows, k, actQ8_0)
			defer q8ActsPool.Put(a)
			checkActs(t, l, a, wantQ, wantM)
		})
	}
}

// TestQuantizeActsQ8K checks the q8_K quantizer against ggml's definition
// and every level against the portable code bit for bit.
func TestQuantizeActsQ8K(t *testing.T) {
	r := rand.New(rand.NewPCG(39, 40))
	const rows, k = 13, 512
	x := actRows(r, rows, k)
	x[3*k+300] = -250 // a negative extreme, the largest magnitude of its super-block
	x[3*k+301] = 250  // and the same magnitude after it: the first one counts
	defer useLevel(bestLevel())
	useLevel(levelPortable)
	ref := quantizeActs(x, rows, k, actQ8_K)
	wantQ, wantM := append([]int8(nil), ref.q...), append([]q8Meta(nil), ref.meta...)
	q8ActsPool.Put(ref)
	for row := 0; row < rows; row++ {
		for sb := 0; sb < k/256; sb++ {
			xb := x[row*k+sb*256 : row*k+sb*256+256]
			var amax, mx float32
			for _, v := range xb {
				if float32(math.Abs(float64(v))) > amax {
					amax, mx = float32(math.Abs(float64(v))), v
				}
			}
			iscale := float32(0)
			if amax != 0 {
				iscale = -127 / mx
			}
			for b := 0; b < 8; b++ {
				var sum int32
				for i := b * 32; i < b*32+32; i++ {
					want := int8(min(127, math.RoundToEven(float64(iscale*xb[i]))))
					if got := wantQ[row*k+sb*256+i]; got != want {
						t.Fatalf("row %d value %d: quant %d, want %d", row, sb*256+i, got, want)
					}
					sum += int32(want)
				}
				m := wantM[row*(k/32)+sb*8+b]
				wantD := float32(0)
				if amax != 0 {
					wantD = 1 / iscale
				}
				if m.d != wantD || m.corr != -128*sum || m.dsum != float32(sum)*wantD {
					t.Fatalf("row %d block %d: meta %+v, want d %g, sum %d", row, sb*8+b, m, wantD, sum)
				}
			}
		}
	}
	if q := wantQ[3*k+300]; q != -127 {
		t.Errorf("the first largest magnitude quantized to %d, want -127", q)
	}
	useLevel(levelPortable)
	ref16 := quantizeActs(x, rows, k, actQ8_K16)
	wantM16 := append([]q8Meta(nil), ref16.meta...)
	q8ActsPool.Put(ref16)
	for i, m := range wantM16 { // halves of the blocks of 32
		var sum int32
		for _, v := range wantQ[i*16 : i*16+16] {
			sum += int32(v)
		}
		if m.d != wantM[i/2].d || m.corr != -128*sum {
			t.Fatalf("16-value block %d: meta %+v, want d %g, sum %d", i, m, wantM[i/2].d, sum)
		}
	}
	for _, l := range availableLevels() {
		useLevel(l)
		withThreads(t, func(t *testing.T) {
			a16 := quantizeActs(x, rows, k, actQ8_K16)
			for i := range wantM16 {
				if a16.meta[i] != wantM16[i] {
					t.Fatalf("%s: 16-value block %d meta %+v, want %+v", l, i, a16.meta[i], wantM16[i])
				}
			}
			q8ActsPool.Put(a16)
			a := quantizeActs(x, rows, k, actQ8_K)
			defer q8ActsPool.Put(a)
			checkActs(t, l, a, wantQ, wantM)
		})
	}
}

// dequantizedActs returns the activations as the int8 path sees them
// (q·d per block), from the portable quantizer.
func dequantizedActs(x []float32, rows, k int, kind actQuant) []float32 {
	xq := make([]float32, rows*k)
	q := make([]int8, k)
	meta := make([]q8Meta, k/32)
	for r := 0; r < rows; r++ {
		if kind == actQ8_K || kind == actQ8_K16 {
			quantizeRowQ8KPortable(q, meta, x[r*k:(r+1)*k])
		} else {
			quantizeRowQ8Portable(q, meta, x[r*k:(r+1)*k])
		}
		for i := range q {
			xq[r*k+i] = float32(q[i]) * meta[i/32].d
		}
	}
	return xq
}

// TestLinearQ8_0 checks the int8 path against float64 products: with the
// quantized activations the error is float32 rounding; with the original
// ones it is bounded by Σ|w|·|x − x̂|, what quantizing x can change.
func TestLinearQ8_0(t *testing.T) {
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
						xq := dequantizedActs(x, rows, in, actQ8_0)
						want, scale := refLinear(dw, xq, rows, out, in)
						lin, err := NewLinearQ8_0(raw, out, in)
						if err != nil {
							t.Fatal(err)
						}
						got := make([]float32, rows*out)
						lin.Forward(got, x, rows)
						name := fmt.Sprintf("rows=%d in=%d out=%d", rows, in, out)
						checkProduct(t, name, got, want, scale)
						exact, _ := refLinear(dw, x, rows, out, in)
						for row := 0; row < rows; row++ {
							for o := 0; o < out; o++ {
								var bound float64
								for i := 0; i < in; i++ {
									bound += math.Abs(float64(dw[o*in+i])) * math.Abs(float64(x[row*in+i]-xq[row*in+i]))
								}
								e := row*out + o
								if d := math.Abs(float64(got[e]) - exact[e]); d > bound*1.01+1e-4*scale[e] {
									t.Fatalf("%s: element %d = %g, want %g within %g", name, e, got[e], exact[e], bound)
								}
							}
						}
					}
				}
			}
		})
	})
}

// TestKQuantInt8BitExact checks that every level computes q4_0 and
// K-quant products exactly as the portable code does.
func TestKQuantInt8BitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	defer useLevel(bestLevel())
	defer func(v bool) { blocksInt8 = v }(blocksInt8)
	blocksInt8 = true
	for _, f := range allFormats {
		if f.kind == kindQ2_K { // the float path
			continue
		}
		for _, s := range []struct{ rows, in, out int }{{1, 256, 1}, {6, 512, 33}, {37, 256, 100}} {
			raw := randomBlocks(r, f, s.out*s.in/f.values)
			lin, err := newLinearBlocks(f, raw, s.out, s.in)
			if err != nil {
				t.Fatal(err)
			}
			x := actRows(r, s.rows, s.in)
			useLevel(levelPortable)
			want := make([]float32, s.rows*s.out)
			lin.Forward(want, x, s.rows)
			for _, l := range availableLevels() {
				useLevel(l)
				withThreads(t, func(t *testing.T) {
					got := make([]float32, s.rows*s.out)
					lin.Forward(got, x, s.rows)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s %s %+v: element %d = %g, portable %g", l, f.name, s, i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

// TestQ8Int8BitExact checks that every level computes exactly what the
// portable code does, on weights that reach -128 and 127 and activations
// that stress the quantizer.
func TestQ8Int8BitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	defer useLevel(bestLevel())
	for _, s := range []struct{ rows, in, out int }{{1, 32, 1}, {5, 64, 33}, {17, 256, 100}, {64, 384, 70}, {130, 96, 257}} {
		w := randSlice(r, s.out*s.in)
		raw := quantizeQ8(w, s.out, s.in)
		for i := range raw {
			if i%34 >= 2 && r.IntN(16) == 0 { // some extreme quants
				raw[i] = []byte{0x80, 0x7f, 0x81}[r.IntN(3)]
			}
		}
		x := actRows(r, s.rows, s.in)
		lin, err := NewLinearQ8_0(raw, s.out, s.in)
		if err != nil {
			t.Fatal(err)
		}
		useLevel(levelPortable)
		want := make([]float32, s.rows*s.out)
		lin.Forward(want, x, s.rows)
		for _, l := range availableLevels() {
			useLevel(l)
			withThreads(t, func(t *testing.T) {
				got := make([]float32, s.rows*s.out)
				lin.Forward(got, x, s.rows)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %+v: element %d = %g, portable %g", l, s, i, got[i], want[i])
					}
				}
			})
		}
	}
}

// checkActs fails t unless the activations a quantized at level l hold
// exactly the quants wantQ and the block metadata wantM.
func checkActs(t *testing.T, l level, a *q8Acts, wantQ []int8, wantM []q8Meta) {
	t.Helper()
	for i := range wantQ {
		if a.q[i] != wantQ[i] {
			t.Fatalf("%s: quant %d = %d, want %d", l, i, a.q[i], wantQ[i])
		}
	}
	for i := range wantM {
		if a.meta[i] != wantM[i] {
			t.Fatalf("%s: block %d meta %+v, want %+v", l, i, a.meta[i], wantM[i])
		}
	}
}
