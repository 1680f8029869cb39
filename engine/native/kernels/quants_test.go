package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The tests of the ggml block formats check the decoders three ways: hand-
// made blocks whose values were worked out on paper from ggml-common.h and
// ggml-quants.c; a second decoder below, written value by value from the
// block layouts (not loop by loop like the real one), which must agree to
// the bit on random blocks; and round trips through a test-only quantizer.

var allFormats = []blockFormat{formatQ4_0, formatQ4_1, formatQ5_0, formatQ5_1, formatIQ4_NL,
	formatQ2_K, formatQ3_K, formatQ4_K, formatQ5_K, formatQ6_K, formatIQ4_XS}

func u16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }

func TestDequantizeHandMadeBlocks(t *testing.T) {
	const (
		half0_25 = 0x3400
		half0_5  = 0x3800
		half1    = 0x3c00
	)
	type want struct {
		i int
		v float32
	}
	// q4_K and q5_K share these scales: sub-block 0 scale 5 min 3; sub-block
	// 4 scale 37 min 19 (their high bits live in bytes 0 and 4, bits 6-7,
	// as get_scale_min_k4 reads them); every other sub-block 0 and 0.
	kScales := []byte{0x85, 0, 0, 0, 0x43, 0, 0, 0, 0x35, 0, 0, 0}

	q40 := make([]byte, q4_0Bytes)
	u16(q40, half0_5)
	q40[2], q40[3] = 0x9f, 0x00
	for i := 4; i < 18; i++ {
		q40[i] = 0x88
	}

	q4k := make([]byte, q4KBytes)
	u16(q4k, half0_25)
	u16(q4k[2:], half1)
	copy(q4k[4:], kScales)
	q4k[16+0] = 0x7a  // value 0: 0.25·5·10 − 3 = 9.5; value 32 (scale 0): 0
	q4k[16+64] = 0x0c // value 128: 0.25·37·12 − 19 = 92

	q5k := make([]byte, q5KBytes)
	u16(q5k, half0_25)
	u16(q5k[2:], half1)
	copy(q5k[4:], kScales)
	q5k[16] = 0x01 | 0x10 // fifth bit of value 0 (sub-block 0) and 128 (sub-block 4)
	q5k[16+32+0] = 0x7a   // value 0: 0.25·5·(10+16) − 3 = 29.5
	q5k[16+32+64] = 0x0c  // value 128: 0.25·37·(12+16) − 19 = 240

	q6k := make([]byte, q6KBytes)
	for i := range 16 {
		q6k[192+i] = 1
	}
	q6k[192+0], q6k[192+2], q6k[192+8] = 2, 0xfd, 4 // scales 2, −3, 4
	u16(q6k[208:], half0_5)
	q6k[0] = 0x5a                     // ql of values 0 (low) and 64 (high)
	q6k[128] = 0x9c                   // qh: value 0 → 0, 32 → 3, 64 → 1, 96 → 2
	q6k[64], q6k[128+32] = 0x0f, 0x03 // value 128: 15 | 3<<4 = 63

	for _, tc := range []struct {
		f    blockFormat
		blk  []byte
		want []want
	}{
		{formatQ4_0, q40, []want{{0, 3.5}, {16, 0.5}, {1, -4}, {17, -4}, {2, 0}, {31, 0}}},
		{formatQ4_K, q4k, []want{{0, 9.5}, {1, -3}, {31, -3}, {32, 0}, {128, 92}, {129, -19}, {160, 0}, {255, 0}}},
		{formatQ5_K, q5k, []want{{0, 29.5}, {1, -3}, {32, 0}, {128, 240}, {129, -19}, {255, 0}}},
		// value 0: 0.5·2·(10−32); 32: 0.5·(−3)·(48−32); 64: 0.5·1·(21−32);
		// 96: 0.5·1·(32−32); 128: 0.5·4·(63−32); zeros elsewhere give q=−32.
		{formatQ6_K, q6k, []want{{0, -22}, {1, -32}, {32, -24}, {33, 48}, {64, -5.5}, {96, 0}, {128, 62}, {129, -64}, {255, -16}}},
	} {
		got := make([]float32, tc.f.values)
		if err := tc.f.dequantize(got, tc.blk); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if got[w.i] != w.v {
				t.Errorf("%s: value %d = %g, want %g", tc.f.name, w.i, got[w.i], w.v)
			}
		}
	}
}

// refValue decodes value i of one block straight from the layout in
// ggml-common.h, with ggml's float operations in ggml's order.
func refValue(f blockFormat, blk []byte, i int) float32 {
	half := func(off int) float32 { return halfToFloat32(binary.LittleEndian.Uint16(blk[off:])) }
	switch f.name {
	case "q4_0":
		q := blk[2+i%16]
		if i >= 16 {
			q >>= 4
		}
		return float32(int(q&0xf)-8) * half(0)
	case "q4_K", "q5_K":
		sub := i / 32 // sub-blocks of 32, in pairs sharing 32 bytes of quants
		l := i % 32
		qsOff := 16
		if f.name == "q5_K" {
			qsOff += 32
		}
		q := blk[qsOff+32*(sub/2)+l]
		if sub%2 == 1 {
			q >>= 4
		}
		q &= 0xf
		if f.name == "q5_K" && blk[16+l]>>sub&1 == 1 {
			q += 16
		}
		sc, m := scaleMinK4(sub, blk[4:16])
		return float32(half(0)*float32(sc)*float32(q)) - float32(half(2)*float32(m))
	case "q6_K":
		h, w := i/128, i%128
		c, l := w/32, w%32 // quarter of the half, and position in it
		ql := blk[64*h+l+32*(c%2)]
		if c >= 2 {
			ql >>= 4
		}
		qh := blk[128+32*h+l] >> (2 * c) & 3
		q := int(ql&0xf|qh<<4) - 32
		sc := int8(blk[192+i/16])
		return half(208) * float32(sc) * float32(q)
	}
	return refValueMore(f, blk, i)
}

func randomBlocks(r *rand.Rand, f blockFormat, n int) []byte {
	raw := make([]byte, n*f.bytes)
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	// Sane half-float scales (random bytes would make NaNs and infinities,
	// which the comparison below cannot tell apart).
	for b := range n {
		blk := raw[b*f.bytes : (b+1)*f.bytes]
		d := encodeF16(float32(r.Float64()*0.02 + 1e-4))
		switch f.name {
		case "q6_K":
			u16(blk[208:], d)
		case "q2_K":
			u16(blk[80:], d)
			u16(blk[82:], encodeF16(float32(r.Float64()*0.01)))
		case "q3_K":
			u16(blk[108:], d)
		case "q5_0", "iq4_nl", "iq4_xs":
			u16(blk, d)
		default:
			u16(blk, d)
			if f.name != "q4_0" {
				u16(blk[2:], encodeF16(float32(r.Float64()*0.01)))
			}
		}
	}
	return raw
}

func TestDequantizeMatchesLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, f := range allFormats {
		const n = 40
		raw := randomBlocks(r, f, n)
		got := make([]float32, n*f.values)
		if err := f.dequantize(got, raw); err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			b := i / f.values
			if w := refValue(f, raw[b*f.bytes:(b+1)*f.bytes], i%f.values); math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("%s: value %d = %g, the layout says %g", f.name, i, g, w)
			}
		}
		if err := f.dequantize(got[:f.values+1], raw); err == nil {
			t.Errorf("%s: decoding a partial block gave no error", f.name)
		}
		if err := f.dequantize(got, raw[:len(raw)-1]); err == nil {
			t.Errorf("%s: decoding truncated data gave no error", f.name)
		}
	}
}

// quantizeBlocks is a test-only quantizer for each format: simpler than
// ggml's (no search for the best scales), but a valid encoder.
func quantizeBlocks(f blockFormat, w []float32) []byte {
	var raw []byte
	for b := 0; b < len(w)/f.values; b++ {
		x := w[b*f.values : (b+1)*f.values]
		blk := make([]byte, f.bytes)
		switch f.name {
		case "q4_0":
			quantQ4_0(blk, x)
		case "q4_K", "q5_K":
			quantQ45K(blk, x, f.name == "q5_K")
		case "q6_K":
			quantQ6K(blk, x)
		default:
			quantMore(f, blk, x)
		}
		raw = append(raw, blk...)
	}
	return raw
}

func roundClamp(v float64, lo, hi int) int {
	if math.IsNaN(v) {
		return lo
	}
	return max(lo, min(hi, int(math.Round(v))))
}

func quantQ4_0(blk []byte, x []float32) {
	var amax, mx float32 // ggml: the value of largest magnitude, sign kept
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax, mx = a, v
		}
	}
	h := encodeF16(mx / -8)
	u16(blk, h)
	d := float64(halfToFloat32(h))
	for j := range 16 {
		q0, q1 := 8, 8
		if d != 0 {
			q0 = roundClamp(float64(x[j])/d+8, 0, 15)
			q1 = roundClamp(float64(x[j+16])/d+8, 0, 15)
		}
		blk[2+j] = byte(q0 | q1<<4)
	}
}

func quantQ45K(blk []byte, x []float32, five bool) {
	levels := 15
	if five {
		levels = 31
	}
	var scale, minv [8]float64
	var maxScale, maxMin float64
	for s := range 8 {
		lo, hi := 0.0, math.Inf(-1)
		for _, v := range x[s*32 : s*32+32] {
			lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		}
		scale[s], minv[s] = (hi-lo)/float64(levels), -lo
		maxScale, maxMin = math.Max(maxScale, scale[s]), math.Max(maxMin, minv[s])
	}
	hd, hm := encodeF16(float32(maxScale/63)), encodeF16(float32(maxMin/63))
	u16(blk, hd)
	u16(blk[2:], hm)
	d, dmin := float64(halfToFloat32(hd)), float64(halfToFloat32(hm))
	sc := blk[4:16]
	var ls, lm [8]int
	for s := range 8 {
		if d > 0 {
			ls[s] = roundClamp(scale[s]/d, 0, 63)
		}
		if dmin > 0 {
			lm[s] = roundClamp(minv[s]/dmin, 0, 63)
		}
		if s < 4 {
			sc[s], sc[s+4] = byte(ls[s]), byte(lm[s])
		} else {
			sc[s+4] = byte(ls[s]&0xf | (lm[s]&0xf)<<4)
			sc[s-4] |= byte(ls[s]>>4) << 6
			sc[s] |= byte(lm[s]>>4) << 6
		}
	}
	qs := blk[16:]
	if five {
		qs = blk[48:]
	}
	for i, v := range x {
		s := i / 32
		step := d * float64(ls[s])
		q := 0
		if step > 0 {
			q = roundClamp((float64(v)+dmin*float64(lm[s]))/step, 0, levels)
		}
		l := i % 32
		qs[32*(s/2)+l] |= byte(q&0xf) << (4 * (s % 2))
		if five && q >= 16 {
			blk[16+l] |= 1 << s
		}
	}
}

func quantQ6K(blk []byte, x []float32) {
	var scale [16]float64
	var maxScale float64
	for s := range 16 {
		var amax, mx float64
		for _, v := range x[s*16 : s*16+16] {
			if a := math.Abs(float64(v)); a > amax {
				amax, mx = a, float64(v)
			}
		}
		scale[s] = mx / -32
		maxScale = math.Max(maxScale, math.Abs(scale[s]))
	}
	h := encodeF16(float32(maxScale / 127))
	u16(blk[208:], h)
	d := float64(halfToFloat32(h))
	var ls [16]int
	for s := range 16 {
		if d > 0 {
			ls[s] = roundClamp(scale[s]/d, -128, 127)
		}
		blk[192+s] = byte(int8(ls[s]))
	}
	for i, v := range x {
		step := d * float64(ls[i/16])
		q := 32
		if step != 0 {
			q = roundClamp(float64(v)/step+32, 0, 63)
		}
		h, w := i/128, i%128
		c, l := w/32, w%32
		blk[64*h+l+32*(c%2)] |= byte(q&0xf) << (4 * (c / 2))
		blk[128+32*h+l] |= byte(q>>4) << (2 * c)
	}
}

// TestQuantizeRoundTrip: Gaussian weights quantized and decoded come back
// within each format's expected error (RMS relative to the weights' RMS).
func TestQuantizeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	tol := map[string]float64{"q4_0": 0.15, "q4_K": 0.15, "q5_K": 0.075, "q6_K": 0.04,
		"q4_1": 0.15, "q5_0": 0.075, "q5_1": 0.075, "iq4_nl": 0.15, "q2_K": 0.4, "q3_K": 0.2, "iq4_xs": 0.15}
	for _, f := range allFormats {
		w := randSlice(r, 64*256)
		got := make([]float32, len(w))
		if err := f.dequantize(got, quantizeBlocks(f, w)); err != nil {
			t.Fatal(err)
		}
		var se, ss float64
		for i := range w {
			e := float64(got[i] - w[i])
			se += e * e
			ss += float64(w[i]) * float64(w[i])
		}
		rel := math.Sqrt(se / ss)
		t.Logf("%s: RMS error %.4f of the weights' RMS", f.name, rel)
		if rel > tol[f.name] {
			t.Errorf("%s: round trip RMS error %.4f of the weights' RMS, want ≤ %g", f.name, rel, tol[f.name])
		}
	}
}

func TestLinearBlocks(t *testing.T) {
	for _, int8Path := range []bool{false, true} {
		t.Run(fmt.Sprintf("int8=%v", int8Path), func(t *testing.T) {
			defer func(v bool) { blocksInt8 = v }(blocksInt8)
			blocksInt8 = int8Path
			testLinearBlocks(t)
		})
	}
}

func testLinearBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ctor := map[string]func([]byte, int, int) (Linear, error){
		"q4_0": NewLinearQ4_0, "q4_K": NewLinearQ4_K, "q5_K": NewLinearQ5_K, "q6_K": NewLinearQ6_K,
	}
	for _, f := range allFormats {
		if ctor[f.name] == nil {
			ctor[f.name] = func(raw []byte, out, in int) (Linear, error) { return NewLinearBlocks(f.name, raw, out, in) }
		}
	}
	forEachLevel(t, func(t *testing.T) {
		withThreads(t, func(t *testing.T) {
			for _, f := range allFormats {
				for _, rows := range []int{1, 5, 33} {
					ins := []int{256, 512}
					if f.values == 32 {
						ins = append(ins, 96) // not whole super-blocks: why these formats exist
					}
					for _, in := range ins {
						for _, out := range []int{1, 33, 70} {
							w, x := randSlice(r, out*in), randSlice(r, rows*in)
							raw := quantizeBlocks(f, w)
							dw := make([]float32, out*in)
							if err := f.dequantize(dw, raw); err != nil {
								t.Fatal(err)
							}
							lin, err := ctor[f.name](raw, out, in)
							if err != nil {
								t.Fatal(err)
							}
							xr := x
							kind, _ := f.actQuant()
							int8 := lin.(*linearBlocks).int8Path()
							if int8 || blocksInt8 && f.kind == kindQ2_K {
								// The activations meet each format quantized
								// as llama.cpp quantizes them (q8kquants.go;
								// q2_K's float path rounds them through q8_K).
								xr = dequantizedActs(x, rows, in, kind)
							}
							want, scale := refLinear(dw, xr, rows, out, in)
							if int8 && kind == actQ8_1 {
								addQ8_1Minimums(want, raw, x, rows, out, in)
							}
							if lin.In() != in || lin.Out() != out {
								t.Fatalf("%s: %d×%d Linear reports %d×%d", f.name, out, in, lin.Out(), lin.In())
							}
							got := make([]float32, rows*out)
							lin.Forward(got, x, rows)
							checkProduct(t, fmt.Sprintf("%s rows=%d in=%d out=%d", f.name, rows, in, out), got, want, scale)
						}
					}
				}
			}
		})
	})
	for _, f := range allFormats {
		if _, err := ctor[f.name](make([]byte, 2*f.bytes), 2, f.values+1); err == nil {
			t.Errorf("%s: an input size that is not whole blocks gave no error", f.name)
		}
		if _, err := ctor[f.name](make([]byte, 2*f.bytes-1), 2, f.values); err == nil {
			t.Errorf("%s: truncated data gave no error", f.name)
		}
	}
}

// TestFootprint: every weight format reports where its bytes live, at
// least one byte per weight it holds (half for q4_0 and the K-quants,
// read in place from the file's mapping).
func TestFootprint(t *testing.T) {
	const out, in = 33, 256
	n := out * in
	for _, c := range []struct {
		name         string
		make         func() (Linear, error)
		heap, mapped int64 // the least each must be
	}{
		{"f32", func() (Linear, error) { return NewLinearF32(make([]float32, n), out, in), nil }, int64(4 * n), 0},
		{"f16", func() (Linear, error) { return NewLinearF16(make([]byte, 2*n), out, in) }, int64(2 * n), 0},
		{"bf16", func() (Linear, error) { return NewLinearBF16(make([]byte, 2*n), out, in) }, int64(4 * n), 0},
		{"q8_0", func() (Linear, error) { return NewLinearQ8_0(make([]byte, n/32*34), out, in) }, int64(n), 0},
		{"q4_0", func() (Linear, error) { return NewLinearQ4_0(make([]byte, n/32*18), out, in) }, 0, int64(n / 32 * 18)},
		{"q4_K", func() (Linear, error) { return NewLinearQ4_K(make([]byte, n/256*144), out, in) }, 0, int64(n / 256 * 144)},
	} {
		l, err := c.make()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		heap, mapped := Footprint(l)
		if heap < c.heap || mapped < c.mapped || heap+mapped == 0 {
			t.Errorf("%s: Footprint %d heap, %d mapped; want at least %d and %d", c.name, heap, mapped, c.heap, c.mapped)
		}
	}
}
