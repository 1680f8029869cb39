package gguf

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestFloat16Values(t *testing.T) {
	for h, want := range map[uint16]float32{
		0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24), 0x03ff: 1023.0 / (1 << 24),
		0x0400: 1.0 / (1 << 14), 0x3555: 0.333251953125, 0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
	} {
		if got := Float16ToFloat32(h); got != want {
			t.Errorf("Float16ToFloat32(%#04x) = %g, want %g", h, got, want)
		}
	}
	if got := Float16ToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("negative zero became %g", got)
	}
	if !math.IsNaN(float64(Float16ToFloat32(0x7e00))) {
		t.Error("NaN did not stay NaN")
	}
}

func TestFloat16RoundTripEveryValue(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		f := Float16ToFloat32(h)
		back := Float32ToFloat16(f)
		if math.IsNaN(float64(f)) {
			if !math.IsNaN(float64(Float16ToFloat32(back))) {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back != h {
			t.Fatalf("%#04x → %g → %#04x", h, f, back)
		}
	}
}

// nearestHalf is the slow reference: the non-negative half closest to x,
// ties to the even bit pattern, overflow to infinity.
func nearestHalf(x float64) uint16 {
	if x >= 65520 { // 65504 + half an ulp rounds up to infinity
		return 0x7c00
	}
	i := sort.Search(0x7c00, func(i int) bool { return float64(Float16ToFloat32(uint16(i))) >= x })
	if i == 0 {
		return 0
	}
	lo, hi := float64(Float16ToFloat32(uint16(i-1))), float64(Float16ToFloat32(uint16(i)))
	switch {
	case x-lo < hi-x:
		return uint16(i - 1)
	case x-lo > hi-x:
		return uint16(i)
	case (i-1)%2 == 0:
		return uint16(i - 1)
	}
	return uint16(i)
}

func TestFloat32ToFloat16RoundsToNearestEven(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	check := func(x float32) {
		t.Helper()
		want := nearestHalf(math.Abs(float64(x)))
		if x < 0 {
			want |= 0x8000
		}
		if got := Float32ToFloat16(x); got != want {
			t.Fatalf("Float32ToFloat16(%g) = %#04x, want %#04x", x, got, want)
		}
	}
	for range 20000 {
		// Exponents across the subnormal, normal and overflow ranges.
		x := float32(rng.Float64()*2-1) * float32(math.Pow(2, float64(rng.IntN(44)-28)))
		check(x)
	}
	for i := range 0x7bff {
		// Exactly half-way between neighbouring halves: ties go to even.
		lo, hi := Float16ToFloat32(uint16(i)), Float16ToFloat32(uint16(i+1))
		if !math.IsInf(float64(hi), 0) {
			check((lo + hi) / 2)
		}
	}
}

func TestBFloat16(t *testing.T) {
	for f, want := range map[float32]uint16{1: 0x3f80, 1 + 1.0/256: 0x3f80, 1 + 3.0/256: 0x3f82, -2: 0xc000, 1 + 1.0/128: 0x3f81} {
		if got := Float32ToBFloat16(f); got != want {
			t.Errorf("Float32ToBFloat16(%g) = %#04x, want %#04x", f, got, want)
		}
		if got := BFloat16ToFloat32(Float32ToBFloat16(f)); got != BFloat16ToFloat32(want) {
			t.Errorf("round trip of %g = %g", f, got)
		}
	}
	if !math.IsNaN(float64(BFloat16ToFloat32(Float32ToBFloat16(float32(math.NaN()))))) {
		t.Error("NaN lost")
	}
}

func TestQ8_0(t *testing.T) {
	src := make([]float32, 40) // one whole block and a partial one
	for i := range src {
		src[i] = float32(i - 16)
	}
	q := QuantizeQ8_0(src)
	if len(q) != 2*BlockQ8_0Len {
		t.Fatalf("%d bytes, want %d", len(q), 2*BlockQ8_0Len)
	}
	d := Float16ToFloat32(binary.LittleEndian.Uint16(q))
	if d != Float16ToFloat32(Float32ToFloat16(16.0/127)) {
		t.Errorf("scale %g, want fp16(16/127)", d)
	}
	if int8(q[2]) != -127 || int8(q[2+16]) != 0 || int8(q[2+31]) != 119 {
		t.Errorf("quants %d %d %d, want -127 0 119", int8(q[2]), int8(q[18]), int8(q[33]))
	}
	out := make([]float32, 64)
	DequantizeQ8_0(out, q)
	for i, x := range src {
		blockD := Float16ToFloat32(binary.LittleEndian.Uint16(q[(i/32)*BlockQ8_0Len:]))
		if diff := math.Abs(float64(out[i] - x)); diff > float64(blockD)*0.5+1e-3 {
			t.Errorf("value %d: %g came back as %g", i, x, out[i])
		}
	}
	for i := 40; i < 64; i++ {
		if out[i] != 0 {
			t.Errorf("padding value %d = %g", i, out[i])
		}
	}
	zero := QuantizeQ8_0(make([]float32, 32))
	for _, b := range zero {
		if b != 0 {
			t.Fatal("a zero block did not quantize to zeros")
		}
	}
}

func BenchmarkFloat32sF16(b *testing.B) {
	w := NewWriter()
	n := 1 << 20
	_ = w.AddTensor("x", TypeF16, []uint64{uint64(n)}, make([]byte, 2*n))
	buf, _ := w.Bytes()
	f, err := Parse("b.gguf", buf)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(2 * n))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = f.Tensors[0].Float32s()
	}
}
