package convert

import (
	"encoding/binary"
	"math"

	"github.com/dfim/dfim/engine/native/gguf"
)

// The K-quant quantizers, ported from ggml's reference functions
// (quantize_row_q4_K_ref, quantize_row_q6_K_ref in ggml-quants.c) without
// an importance matrix, so a file quantized here decodes as llama-quantize's
// would. A super-block holds qk values.
const (
	qk        = 256
	q4KBytes  = 144 // d, dmin (f16), 12 bytes of 6-bit scales and mins, 128 bytes of nibbles
	q6KBytes  = 210 // 128 bytes low nibbles, 64 bytes high bits, 16 int8 scales, d (f16)
	groupEps  = 1e-15
	kScaleLen = 12
)

// nearestInt rounds half to even, as ggml's nearest_int does.
func nearestInt(x float32) int { return int(math.RoundToEven(float64(x))) }

func clampInt(x, lo, hi int) int { return max(lo, min(hi, x)) }

func makeQKX2Quants(x, weights []float32, L, Laux []uint8, nmax int, rmin, rdelta float32, nstep int) (scale, theMin float32) {
	n := len(x)
	lo, hi := x[0], x[0]
	sumW := weights[0]
	sumX := sumW * x[0]
	for i := 1; i < n; i++ {
		lo, hi = min(lo, x[i]), max(hi, x[i])
		sumW += weights[i]
		sumX += weights[i] * x[i]
	}
	lo = min(lo, 0)
	if hi == lo {
		clear(L[:n])
		return 0, -lo
	}
	iscale := float32(nmax) / (hi - lo)
	scale = 1 / iscale
	best := float32(0)
	for i := range n {
		l := clampInt(nearestInt(iscale*(x[i]-lo)), 0, nmax)
		L[i] = uint8(l)
		d := scale*float32(l) + lo - x[i]
		best += weights[i] * d * d
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + rdelta*float32(is) + float32(nmax)) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i := range n {
			l := clampInt(nearestInt(iscale*(x[i]-lo)), 0, nmax)
			Laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += w * fl
			sumL2 += w * fl * fl
			sumXL += w * fl * x[i]
		}
		D := sumW*sumL2 - sumL*sumL
		if D > 0 {
			thisScale := (sumW*sumXL - sumX*sumL) / D
			thisMin := (sumL2*sumX - sumL*sumXL) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var cur float32
			for i := range n {
				d := thisScale*float32(Laux[i]) + thisMin - x[i]
				cur += weights[i] * d * d
			}
			if cur < best {
				copy(L[:n], Laux[:n])
				best, scale, lo = cur, thisScale, thisMin
			}
		}
	}
	return scale, -lo
}

func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return (q[j+4] & 0xF) | ((q[j-4] >> 6) << 4), (q[j+4] >> 4) | ((q[j] >> 6) << 4)
}

// quantizeQ4K quantizes x (a multiple of 256 values) to q4_K blocks.
func quantizeQ4K(x []float32) []byte {
	nb := len(x) / qk
	out := make([]byte, nb*q4KBytes)
	var L [qk]uint8
	var Laux [32]uint8
	var weights [32]float32
	var mins, scales [qk / 32]float32
	for i := range nb {
		xb := x[i*qk : (i+1)*qk]
		y := out[i*q4KBytes : (i+1)*q4KBytes]
		sc := y[4 : 4+kScaleLen]
		qs := y[4+kScaleLen:]
		var maxScale, maxMin float32
		for j := range qk / 32 {
			sub := xb[32*j : 32*j+32]
			var sumX2 float32
			for _, v := range sub {
				sumX2 += v * v
			}
			av := float32(math.Sqrt(float64(sumX2 / 32)))
			for l, v := range sub {
				weights[l] = av + float32(math.Abs(float64(v)))
			}
			scales[j], mins[j] = makeQKX2Quants(sub, weights[:], L[32*j:32*j+32], Laux[:], 15, -1, 0.1, 20)
			maxScale = max(maxScale, scales[j])
			maxMin = max(maxMin, mins[j])
		}
		var invScale, invMin float32
		if maxScale > 0 {
			invScale = 63 / maxScale
		}
		if maxMin > 0 {
			invMin = 63 / maxMin
		}
		for j := range qk / 32 {
			ls := uint8(min(63, nearestInt(invScale*scales[j])))
			lm := uint8(min(63, nearestInt(invMin*mins[j])))
			if j < 4 {
				sc[j] = ls
				sc[j+4] = lm
			} else {
				sc[j+4] = (ls & 0xF) | ((lm & 0xF) << 4)
				sc[j-4] |= (ls >> 4) << 6
				sc[j] |= (lm >> 4) << 6
			}
		}
		d := gguf.Float32ToFloat16(maxScale / 63)
		dmin := gguf.Float32ToFloat16(maxMin / 63)
		binary.LittleEndian.PutUint16(y[0:], d)
		binary.LittleEndian.PutUint16(y[2:], dmin)
		for j := range qk / 32 {
			s, m := scaleMinK4(j, sc)
			dd := gguf.Float16ToFloat32(d) * float32(s)
			if dd == 0 {
				continue
			}
			dm := gguf.Float16ToFloat32(dmin) * float32(m)
			for ii := range 32 {
				L[32*j+ii] = uint8(clampInt(nearestInt((xb[32*j+ii]+dm)/dd), 0, 15))
			}
		}
		for j := 0; j < qk; j += 64 {
			q := qs[j/2 : j/2+32]
			for l := range 32 {
				q[l] = L[j+l] | L[j+l+32]<<4
			}
		}
	}
	return out
}

func makeQXQuants(x []float32, L []int8, nmax int) float32 {
	var hi, amax float32
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax, hi = a, v
		}
	}
	if amax < groupEps {
		clear(L[:len(x)])
		return 0
	}
	quant := func(iscale float32, store bool) (sumLX, sumL2 float32) {
		for i, v := range x {
			l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
			if store {
				L[i] = int8(l + nmax)
			}
			w := v * v // rmse_type 1
			sumLX += w * v * float32(l)
			sumL2 += w * float32(l) * float32(l)
		}
		return
	}
	sumLX, sumL2 := quant(-float32(nmax)/hi, true)
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := scale * sumLX
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale := -(float32(nmax) + 0.1*float32(is)) / hi
		sumLX, sumL2 = quant(iscale, false)
		if sumL2 > 0 && sumLX*sumLX > best*sumL2 {
			quant(iscale, true)
			scale = sumLX / sumL2
			best = scale * sumLX
		}
	}
	return scale
}

// quantizeQ6K quantizes x (a multiple of 256 values) to q6_K blocks.
func quantizeQ6K(x []float32) []byte {
	nb := len(x) / qk
	out := make([]byte, nb*q6KBytes)
	var L [qk]int8
	var scales [qk / 16]float32
	for i := range nb {
		xb := x[i*qk : (i+1)*qk]
		y := out[i*q6KBytes : (i+1)*q6KBytes]
		ql, qh, sc := y[0:128], y[128:192], y[192:208]
		var maxScale, maxAbs float32
		for ib := range qk / 16 {
			s := makeQXQuants(xb[16*ib:16*ib+16], L[16*ib:16*ib+16], 32)
			scales[ib] = s
			if a := float32(math.Abs(float64(s))); a > maxAbs {
				maxAbs, maxScale = a, s
			}
		}
		if maxAbs < groupEps {
			continue // all zero, d = 0
		}
		iscale := -128 / maxScale
		d := gguf.Float32ToFloat16(1 / iscale)
		binary.LittleEndian.PutUint16(y[208:], d)
		for ib := range qk / 16 {
			sc[ib] = byte(int8(min(127, nearestInt(iscale*scales[ib]))))
		}
		for j := range qk / 16 {
			dd := gguf.Float16ToFloat32(d) * float32(int8(sc[j]))
			if dd == 0 {
				continue
			}
			for ii := range 16 {
				L[16*j+ii] = int8(clampInt(nearestInt(xb[16*j+ii]/dd), -32, 31) + 32)
			}
		}
		for j := 0; j < qk; j += 128 {
			l4, h := ql[j/2:j/2+64], qh[j/4:j/4+32]
			for l := range 32 {
				q1, q2, q3, q4 := uint8(L[j+l]), uint8(L[j+l+32]), uint8(L[j+l+64]), uint8(L[j+l+96])
				l4[l] = q1&0xF | (q3&0xF)<<4
				l4[l+32] = q2&0xF | (q4&0xF)<<4
				h[l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
			}
		}
	}
	return out
}
