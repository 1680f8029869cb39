package kernels

import (
	"encoding/binary"
	"math"
	"testing"
)

// The tests of q4_1, q5_0, q5_1, iq4_nl, q2_K, q3_K and iq4_xs: hand-made
// blocks worked out on paper from ggml-common.h and ggml-quants.c; the
// value-by-value reference decoder (refValueMore, used by
// TestDequantizeMatchesLayout); test-only quantizers for the round trips
// and the Linear tests of quants_test.go.

func TestDequantizeHandMadeBlocksMore(t *testing.T) {
	const (
		half0_25 = 0x3400
		half0_5  = 0x3800
		half1    = 0x3c00
		halfM1   = 0xbc00
	)
	type want struct {
		i int
		v float32
	}

	q41 := make([]byte, q4_1Bytes)
	u16(q41, half0_5)
	u16(q41[2:], halfM1)
	q41[4] = 0x3a // value 0: 10·0.5 − 1 = 4; value 16: 3·0.5 − 1 = 0.5

	q50 := make([]byte, q5_0Bytes)
	u16(q50, half0_5)
	binary.LittleEndian.PutUint32(q50[2:], 1|1<<17) // fifth bits of values 0 and 17
	q50[6], q50[7] = 0x0f, 0x20                     // values 0, 16 and 1, 17

	q51 := make([]byte, q5_1Bytes)
	u16(q51, half0_25)
	u16(q51[2:], half1)
	binary.LittleEndian.PutUint32(q51[4:], 1<<31) // fifth bit of value 31
	q51[8+15] = 0xf0                              // value 31: high nibble 15

	iq4nl := make([]byte, iq4NLBytes)
	u16(iq4nl, half0_5)
	iq4nl[2], iq4nl[3] = 0xf0, 0x88 // levels 0 (−127), 15 (113), 8 (1)

	q2k := make([]byte, q2KBytes)
	q2k[0], q2k[3] = 0x23, 0x14 // sub-block 0: scale 3 min 2; sub-block 3: scale 4 min 1
	q2k[16] = 0x03              // value 0: q = 3
	q2k[16+16] = 0x08           // value 48 (sub-block 3: bits 2-3 of qs[16]): q = 2
	u16(q2k[80:], half0_5)
	u16(q2k[82:], half1)

	q3k := make([]byte, q3KBytes)
	q3k[0] = 0x41           // hmask: value 0 (bit 0) and value 192 (bit 6) have q ≥ 0
	q3k[32] = 0x03          // value 0: q = 3
	q3k[32+32] = 0x20       // value 192 (second half, bits 4-5): q = 2
	q3k[96+0] = 0x02        // scale 0 = 2|2<<4 = 34 → 2
	q3k[96+8] = 0x02 | 1<<6 // its top bits; scale 12's (1)
	q3k[96+4] = 0xf0        // scale 12's low nibble 15: 15|1<<4 = 31 → −1
	u16(q3k[108:], half0_5)

	iq4xs := make([]byte, iq4XSBytes)
	u16(iq4xs, half0_5)
	u16(iq4xs[2:], 2) // sub-block 0's top bits: ls = 1|2<<4 = 33 → 1; sub-block 1: 0 → −32
	iq4xs[4] = 0x01
	iq4xs[8] = 0x0f // value 0: level 15 (113), value 16: level 0 (−127)

	for _, tc := range []struct {
		f    blockFormat
		blk  []byte
		want []want
	}{
		{formatQ4_1, q41, []want{{0, 4}, {16, 0.5}, {1, -1}, {31, -1}}},
		// 0: (15|16)−16 = 15; 16: 0−16; 1: 0−16; 17: (2|16)−16 = 2.
		{formatQ5_0, q50, []want{{0, 7.5}, {16, -8}, {1, -8}, {17, 1}, {2, -8}}},
		{formatQ5_1, q51, []want{{31, 8.75}, {15, 1}, {0, 1}}},
		{formatIQ4_NL, iq4nl, []want{{0, -63.5}, {16, 56.5}, {1, 0.5}, {17, 0.5}}},
		// 0: 0.5·3·3 − 2; 1: 0.5·3·0 − 2; 48: 0.5·4·2 − 1; 16: scale and min 0.
		{formatQ2_K, q2k, []want{{0, 2.5}, {1, -2}, {48, 3}, {49, -1}, {16, 0}}},
		// 0: 0.5·2·3; 1: 0.5·2·(0−4); 20 (scale 0 → −32): 0.5·(−32)·(−4);
		// 192: 0.5·(−1)·2.
		{formatQ3_K, q3k, []want{{0, 3}, {1, -4}, {20, 64}, {192, -1}, {193, 2}}},
		// 0: 0.5·1·113; 16: 0.5·1·(−127); 32: 0.5·(−32)·(−127).
		{formatIQ4_XS, iq4xs, []want{{0, 56.5}, {16, -63.5}, {32, 2032}}},
	} {
		got := make([]float32, tc.f.values)
		if err := DequantizeBlocks(tc.f.name, got, tc.blk); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if got[w.i] != w.v {
				t.Errorf("%s: value %d = %g, want %g", tc.f.name, w.i, got[w.i], w.v)
			}
		}
	}
	if err := DequantizeBlocks("iq2_xxs", make([]float32, 256), make([]byte, 66)); err == nil {
		t.Error("DequantizeBlocks of an unknown type gave no error")
	}
	if BlockFormat("iq3_s") || !BlockFormat("q5_0") {
		t.Error("BlockFormat: wrong answer for iq3_s or q5_0")
	}
}

// refValueMore is refValue for the formats of legacyquants.go and
// kquants23.go.
func refValueMore(f blockFormat, blk []byte, i int) float32 {
	half := func(off int) float32 { return halfToFloat32(binary.LittleEndian.Uint16(blk[off:])) }
	nibble := func(qs []byte, i int) int { // value i of a block of 32
		if i < 16 {
			return int(qs[i] & 0xf)
		}
		return int(qs[i-16] >> 4)
	}
	fifth := func(off, i int) int { return int(binary.LittleEndian.Uint32(blk[off:])>>i&1) << 4 }
	switch f.name {
	case "q4_1":
		return float32(float32(nibble(blk[4:], i))*half(0)) + half(2)
	case "q5_0":
		return float32(nibble(blk[6:], i)|fifth(2, i)-16) * half(0)
	case "q5_1":
		return float32(float32(nibble(blk[8:], i)|fifth(4, i))*half(0)) + half(2)
	case "iq4_nl":
		return half(0) * float32(kvaluesIQ4NL[nibble(blk[2:], i)])
	case "q2_K", "q3_K":
		h, w := i/128, i%128
		c, l := w/32, w%32
		qsOff := 16
		if f.name == "q3_K" {
			qsOff = 32
		}
		q := int(blk[qsOff+32*h+l] >> (2 * c) & 3)
		s := i / 16
		if f.name == "q2_K" {
			sc := blk[s]
			return float32(half(80)*float32(sc&0xf)*float32(q)) - half(82)*float32(sc>>4)
		}
		if blk[l]>>(4*h+c)&1 == 0 {
			q -= 4
		}
		// Scale s: 4 low bits from byte s%8 (its high nibble for s ≥ 8),
		// 2 high bits from byte 8+s%4 (bits 2·(s/4)).
		sc := int(blk[96+s%8]>>(4*(s/8))&0xf) | int(blk[96+8+s%4]>>(2*(s/4))&3)<<4
		return half(108) * float32(sc-32) * float32(q)
	case "iq4_xs":
		ib := i / 32
		ls := int(blk[4+ib/2]>>(4*(ib%2))&0xf) | int(binary.LittleEndian.Uint16(blk[2:])>>(2*ib)&3)<<4
		return half(0) * float32(ls-32) * float32(kvaluesIQ4NL[nibble(blk[8+16*ib:], i%32)])
	}
	panic(f.name)
}

// quantMore is quantizeBlocks for one block of the formats of
// legacyquants.go and kquants23.go.
func quantMore(f blockFormat, blk []byte, x []float32) {
	extremes := func(x []float32) (lo, hi, mx float32) { // mx: the value of largest magnitude
		lo, hi = x[0], x[0]
		for _, v := range x {
			lo, hi = min(lo, v), max(hi, v)
			if abs32(v) > abs32(mx) {
				mx = v
			}
		}
		return lo, hi, mx
	}
	pack5 := func(qs, qh []byte, q []int) { // 4 or 5 bits per value
		var h uint32
		for j := range 16 {
			qs[j] = byte(q[j]&0xf | (q[j+16]&0xf)<<4)
			h |= uint32(q[j]>>4&1)<<j | uint32(q[j+16]>>4&1)<<(j+16)
		}
		if qh != nil {
			binary.LittleEndian.PutUint32(qh, h)
		}
	}
	q := make([]int, len(x))
	switch f.name {
	case "q4_1", "q5_1":
		levels, qsOff, qh := 15, 4, []byte(nil)
		if f.name == "q5_1" {
			levels, qsOff, qh = 31, 8, blk[4:8]
		}
		lo, hi, _ := extremes(x)
		hd, hm := encodeF16((hi-lo)/float32(levels)), encodeF16(lo)
		u16(blk, hd)
		u16(blk[2:], hm)
		d, m := float64(halfToFloat32(hd)), float64(halfToFloat32(hm))
		for i, v := range x {
			if d > 0 {
				q[i] = roundClamp((float64(v)-m)/d, 0, levels)
			}
		}
		pack5(blk[qsOff:], qh, q)
	case "q5_0":
		_, _, mx := extremes(x)
		h := encodeF16(mx / -16)
		u16(blk, h)
		d := float64(halfToFloat32(h))
		for i, v := range x {
			q[i] = 16
			if d != 0 {
				q[i] = roundClamp(float64(v)/d+16, 0, 31)
			}
		}
		pack5(blk[6:], blk[2:6], q)
	case "iq4_nl":
		_, _, mx := extremes(x)
		h := encodeF16(mx / -127)
		u16(blk, h)
		d := halfToFloat32(h)
		for i, v := range x {
			q[i] = nearestLevel(v, d)
		}
		pack5(blk[2:], nil, q)
	case "iq4_xs":
		var scale [8]float32
		var maxScale float32
		for s := range 8 {
			_, _, mx := extremes(x[32*s : 32*s+32])
			scale[s] = mx / -127
			maxScale = max(maxScale, abs32(scale[s]))
		}
		h := encodeF16(maxScale / 31)
		u16(blk, h)
		d := float64(halfToFloat32(h))
		var sh uint16
		for s := range 8 {
			ls := 0
			if d > 0 {
				ls = roundClamp(float64(scale[s])/d, -32, 31)
			}
			sh |= uint16((ls+32)>>4) << (2 * s)
			blk[4+s/2] |= byte((ls+32)&0xf) << (4 * (s % 2))
			dl := float32(d) * float32(ls)
			for i := 32 * s; i < 32*s+32; i++ {
				q[i] = nearestLevel(x[i], dl)
			}
			pack5(blk[8+16*s:], nil, q[32*s:32*s+32])
		}
		u16(blk[2:], sh)
	case "q2_K":
		var scale, minv [16]float64
		var maxScale, maxMin float64
		for s := range 16 {
			lo, hi, _ := extremes(x[16*s : 16*s+16])
			lo = min(lo, 0)
			scale[s], minv[s] = float64(hi-lo)/3, -float64(lo)
			maxScale, maxMin = math.Max(maxScale, scale[s]), math.Max(maxMin, minv[s])
		}
		hd, hm := encodeF16(float32(maxScale/15)), encodeF16(float32(maxMin/15))
		u16(blk[80:], hd)
		u16(blk[82:], hm)
		d, dmin := float64(halfToFloat32(hd)), float64(halfToFloat32(hm))
		var ls, lm [16]int
		for s := range 16 {
			if d > 0 {
				ls[s] = roundClamp(scale[s]/d, 0, 15)
			}
			if dmin > 0 {
				lm[s] = roundClamp(minv[s]/dmin, 0, 15)
			}
			blk[s] = byte(ls[s] | lm[s]<<4)
		}
		for i, v := range x {
			s, qv := i/16, 0
			if step := d * float64(ls[s]); step > 0 {
				qv = roundClamp((float64(v)+dmin*float64(lm[s]))/step, 0, 3)
			}
			h, w := i/128, i%128
			blk[16+32*h+w%32] |= byte(qv) << (2 * (w / 32))
		}
	case "q3_K":
		var scale [16]float64
		var maxScale float64
		for s := range 16 {
			_, _, mx := extremes(x[16*s : 16*s+16])
			scale[s] = float64(mx) / -4
			maxScale = math.Max(maxScale, math.Abs(scale[s]))
		}
		h := encodeF16(float32(maxScale / 31))
		u16(blk[108:], h)
		d := float64(halfToFloat32(h))
		var ls [16]int
		for s := range 16 {
			if d > 0 {
				ls[s] = roundClamp(scale[s]/d, -32, 31)
			}
			v := ls[s] + 32
			blk[96+s%8] |= byte(v&0xf) << (4 * (s / 8))
			blk[96+8+s%4] |= byte(v>>4) << (2 * (s / 4))
		}
		for i, v := range x {
			qv := 4 // q = 0
			if step := d * float64(ls[i/16]); step != 0 {
				qv = roundClamp(float64(v)/step, -4, 3) + 4
			}
			h, w := i/128, i%128
			c, l := w/32, w%32
			blk[32+32*h+l] |= byte(qv&3) << (2 * c)
			if qv >= 4 {
				blk[l] |= 1 << (4*h + c)
			}
		}
	default:
		panic(f.name)
	}
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// nearestLevel returns the iq4_nl level whose value d·level is nearest v.
func nearestLevel(v, d float32) int {
	best, bestErr := 0, math.Inf(1)
	for k, l := range kvaluesIQ4NL {
		if e := math.Abs(float64(v) - float64(d)*float64(l)); e < bestErr {
			best, bestErr = k, e
		}
	}
	return best
}

// addQ8_1Minimums adds to want (from the activations as q·d) what q8_1's
// s changes: the int8 path multiplies a block's minimum m by s =
// half(Σq·amax/127), not by Σq·d, as ggml's vec_dot_q4_1_q8_1 does.
func addQ8_1Minimums(want []float64, raw []byte, x []float32, rows, out, in int) {
	f := formatQ4_1
	if len(raw) == out*in/32*q5_1Bytes {
		f = formatQ5_1
	}
	q := make([]int8, in)
	meta := make([]q8Meta, in/32)
	for r := range rows {
		quantizeRowQ8Portable(q, meta, x[r*in:(r+1)*in])
		setDsumsQ8_1(meta, x[r*in:(r+1)*in])
		for o := range out {
			for b := range in / 32 {
				blk := raw[(o*in/32+b)*f.bytes:]
				m := float64(halfToFloat32(binary.LittleEndian.Uint16(blk[2:])))
				var sum float64
				for _, v := range q[32*b : 32*b+32] {
					sum += float64(v)
				}
				want[r*out+o] += m * (float64(meta[b].dsum) - sum*float64(meta[b].d))
			}
		}
	}
}

// TestQ8_1Sums: q8_1's s is Σq times the unrounded scale, rounded to a
// half float, not Σq times the stored (half) scale.
func TestQ8_1Sums(t *testing.T) {
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(i%7) * 0.37
	}
	x[40] = -3
	q, meta := make([]int8, 64), make([]q8Meta, 2)
	quantizeRow(actQ8_1, q, meta, x)
	for b := range meta {
		var sum int32
		var amax float32
		for i := 32 * b; i < 32*b+32; i++ {
			sum += int32(q[i])
			amax = max(amax, abs32(x[i]))
		}
		want := roundHalf(float32(sum) * (amax / 127))
		if meta[b].dsum != want {
			t.Errorf("block %d: s = %g, want half(%d·%g) = %g", b, meta[b].dsum, sum, amax/127, want)
		}
		if meta[b].d != roundHalf(amax/127) {
			t.Errorf("block %d: d = %g, want %g", b, meta[b].d, roundHalf(amax/127))
		}
	}
}
