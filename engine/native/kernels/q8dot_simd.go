//go:build goexperiment.simd && amd64

package kernels

import (
	"math/bits"
	"simd/archsimd"
	"unsafe"
)

func hasVNNI() bool { return archsimd.X86.AVX512VNNI() }

// q8ArchUse picks the int8 kernels of level l (called by archUse).
func q8ArchUse(l level) {
	decodePanelFast = nil
	switch l {
	case levelAVX512:
		decodePanelFast = decodePanelAVX512
		quantizeRowQ8 = quantizeRowQ8AVX512
		quantizeRowQ8K = quantizeRowQ8KAVX512
		q8Tile = q8TileAVX2
		if hasVNNI() {
			q8Tile = q8TileVNNI
		}
	case levelAVX2:
		quantizeRowQ8 = quantizeRowQ8AVX2
		q8Tile = q8TileAVX2
	}
}

// checkQ8Tile panics unless the tile's operands hold four rows of k
// activations and a whole panel, so the kernels can use unsafe pointers.
func checkQ8Tile(aq []int8, am []q8Meta, k, bl int, wq []uint8, ws, wm []float32) {
	nb := k / bl
	if (bl != 32 && bl != 16) || k < bl || k%bl != 0 || len(aq) < panelRows*k || len(am) < panelRows*nb ||
		len(wq) < k*panelCols || len(ws) < nb*panelCols || (wm != nil && (bl != 32 || len(wm) < nb*panelCols)) {
		panic("kernels: q8 tile out of bounds")
	}
}

// q8TileVNNIAsm, q8TileMinVNNIAsm and q8TileVNNI16Asm are the VPDPBUSD
// kernels (q8dot_amd64.s): rows of quants k bytes apart, rows of meta
// k/bl·16 bytes; the first two take blocks of 32, the last of 16.
//
//go:noescape
func q8TileVNNIAsm(out *[panelRows][panelCols]float32, aq *int8, am *q8Meta, k int, wq *uint8, ws *float32)

//go:noescape
func q8TileMinVNNIAsm(out *[panelRows][panelCols]float32, aq *int8, am *q8Meta, k int, wq *uint8, ws, wm *float32)

//go:noescape
func q8TileVNNI16Asm(out *[panelRows][panelCols]float32, aq *int8, am *q8Meta, k int, wq *uint8, ws *float32)

func q8TileVNNI(out *[panelRows][panelCols]float32, aq []int8, am []q8Meta, k, bl int, wq []uint8, ws, wm []float32) {
	checkQ8Tile(aq, am, k, bl, wq, ws, wm)
	switch {
	case bl == 16:
		q8TileVNNI16Asm(out, &aq[0], &am[0], k, &wq[0], &ws[0])
	case wm == nil:
		q8TileVNNIAsm(out, &aq[0], &am[0], k, &wq[0], &ws[0])
	default:
		q8TileMinVNNIAsm(out, &aq[0], &am[0], k, &wq[0], &ws[0], &wm[0])
	}
}

// q8TileAVX2 goes over the panel 8 columns at a time (one Int32x8 per row,
// four rows): per group of four inputs, VPMADDUBSW multiplies |w| by
// a·sign(w) into pairs, VPMADDWD by ones sums the pairs into int32.
func q8TileAVX2(out *[panelRows][panelCols]float32, aq []int8, am []q8Meta, k, bl int, wq []uint8, ws, wm []float32) {
	checkQ8Tile(aq, am, k, bl, wq, ws, wm)
	nb := k / bl
	pa := unsafe.Pointer(&aq[0])
	pm := unsafe.Pointer(&am[0])
	pw := unsafe.Pointer(&wq[0])
	ps := unsafe.Pointer(&ws[0])
	ones := archsimd.BroadcastInt16x16(1)
	flip := archsimd.BroadcastUint8x32(0x80)
	for c := 0; c < panelCols; c += 8 {
		var f0, f1, f2, f3 archsimd.Float32x8
		for b := 0; b < nb; b++ {
			var i0, i1, i2, i3 archsimd.Int32x8
			pwb := unsafe.Add(pw, b*bl*panelCols+c*4)
			pab := unsafe.Add(pa, b*bl)
			for g := 0; g < bl/4; g++ {
				w := archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(pwb, g*4*panelCols))).Xor(flip).AsInt8x32()
				wa := w.Abs().AsUint8x32()
				pg := unsafe.Add(pab, g*4)
				a0 := archsimd.BroadcastInt32x8(*(*int32)(pg)).AsInt8x32()
				a1 := archsimd.BroadcastInt32x8(*(*int32)(unsafe.Add(pg, k))).AsInt8x32()
				a2 := archsimd.BroadcastInt32x8(*(*int32)(unsafe.Add(pg, 2*k))).AsInt8x32()
				a3 := archsimd.BroadcastInt32x8(*(*int32)(unsafe.Add(pg, 3*k))).AsInt8x32()
				i0 = i0.Add(wa.DotProductPairsSaturated(a0.CopySign(w)).DotProductPairs(ones))
				i1 = i1.Add(wa.DotProductPairsSaturated(a1.CopySign(w)).DotProductPairs(ones))
				i2 = i2.Add(wa.DotProductPairsSaturated(a2.CopySign(w)).DotProductPairs(ones))
				i3 = i3.Add(wa.DotProductPairsSaturated(a3.CopySign(w)).DotProductPairs(ones))
			}
			s := archsimd.LoadFloat32x8(f32x8at(ps, (b*panelCols+c)*4))
			m := unsafe.Add(pm, b*16)
			f0 = i0.ConvertToFloat32().MulAdd(s.Mul(archsimd.BroadcastUint32x8(*(*uint32)(m)).AsFloat32x8()), f0)
			f1 = i1.ConvertToFloat32().MulAdd(s.Mul(archsimd.BroadcastUint32x8(*(*uint32)(unsafe.Add(m, nb*16))).AsFloat32x8()), f1)
			f2 = i2.ConvertToFloat32().MulAdd(s.Mul(archsimd.BroadcastUint32x8(*(*uint32)(unsafe.Add(m, 2*nb*16))).AsFloat32x8()), f2)
			f3 = i3.ConvertToFloat32().MulAdd(s.Mul(archsimd.BroadcastUint32x8(*(*uint32)(unsafe.Add(m, 3*nb*16))).AsFloat32x8()), f3)
			if wm != nil {
				mn := archsimd.LoadFloat32x8(f32x8at(unsafe.Pointer(&wm[0]), (b*panelCols+c)*4))
				f0 = mn.MulAdd(archsimd.BroadcastUint32x8(*(*uint32)(unsafe.Add(m, 8))).AsFloat32x8(), f0)
				f1 = mn.MulAdd(archsimd.BroadcastUint32x8(*(*uint32)(unsafe.Add(m, nb*16+8))).AsFloat32x8(), f1)
				f2 = mn.MulAdd(archsimd.BroadcastUint32x8(*(*uint32)(unsafe.Add(m, 2*nb*16+8))).AsFloat32x8(), f2)
				f3 = mn.MulAdd(archsimd.BroadcastUint32x8(*(*uint32)(unsafe.Add(m, 3*nb*16+8))).AsFloat32x8(), f3)
			}
		}
		f0.Store((*[8]float32)(out[0][c:]))
		f1.Store((*[8]float32)(out[1][c:]))
		f2.Store((*[8]float32)(out[2][c:]))
		f3.Store((*[8]float32)(out[3][c:]))
	}
	archsimd.ClearAVXUpperBits()
}

func checkQuantRow(q []int8, meta []q8Meta, x []float32) {
	if len(meta) == 0 || len(q)%len(meta) != 0 || len(q)/len(meta) > q8BlockLen || len(x) < len(q) {
		panic("kernels: quantizeRowQ8 out of bounds")
	}
}

// The quantizers keep every float in vector registers and do the
// per-block scalar work (the largest magnitude, the half-float scale) on
// float bits in general registers: a legacy-SSE scalar instruction after
// 512-bit code stalls (the upper halves are dirty), and Go emits no
// VZEROUPPER between them. Magnitudes are non-negative, so their order is
// that of their bits.

// maxBits4 is the largest of four non-negative floats, as bits.
func maxBits4(m archsimd.Uint32x4) uint32 {
	return max(m.GetElem(0), m.GetElem(1), m.GetElem(2), m.GetElem(3))
}

// q8BlockScaleBits is q8BlockScale on bits: the scale's bits and whether
// the block quantizes to zeros (its scale rounds to a zero half float).
func q8BlockScaleBits(amax uint32) (d uint32, zero bool) {
	dv := archsimd.BroadcastUint32x4(amax).AsFloat32x4().Div(archsimd.BroadcastUint32x4(0x42fe0000).AsFloat32x4()) // 127
	h := float32ToHalf32(dv.AsUint32x4().GetElem(0))
	return halfToFloat32Bits(h), h&0x7fff == 0
}

// quantizeRowQ8AVX512 is quantizeRowQ8Portable in three passes over up to
// 16 blocks: the blocks' largest magnitudes; their scales, 16 at a time
// (the half-float rounding as integer arithmetic on the float's bits,
// which is exact for scales in the normal half range; others take the
// scalar path); then the quants.
func quantizeRowQ8AVX512(q []int8, meta []q8Meta, x []float32) {
	checkQuantRow(q, meta, x)
	archsimd.ClearAVXUpperBits() // the arrays below are zeroed with SSE stores
	px, pq := unsafe.Pointer(unsafe.SliceData(x)), unsafe.Pointer(unsafe.SliceData(q))
	absMask := archsimd.BroadcastUint32x16(0x7fffffff)
	c127 := archsimd.BroadcastUint32x16(0x42fe0000).AsFloat32x16() // 127
	round, one, keep := archsimd.BroadcastUint32x16(0xfff), archsimd.BroadcastUint32x16(1), archsimd.BroadcastUint32x16(0xffffe000)
	// A shift by a vector of counts: ShiftAllRight's count goes through a
	// legacy-SSE MOVQ.
	sh13 := archsimd.BroadcastUint32x16(13)
	// Scales in [2⁻¹⁴, 65520) round to normal half floats.
	lo, hi := archsimd.BroadcastUint32x16(0x38800000), archsimd.BroadcastUint32x16(0x477ff000)
	var amax, ds, ids [16]uint32 // lanes past the row's blocks are never used
	for b0 := 0; b0 < len(meta); b0 += 16 {
		n := min(16, len(meta)-b0)
		for b := 0; b < n; b++ {
			off := (b0 + b) * 128
			m := archsimd.LoadFloat32x16(f32x16at(px, off)).AsUint32x16().And(absMask).
				Max(archsimd.LoadFloat32x16(f32x16at(px, off+64)).AsUint32x16().And(absMask))
			m8 := m.GetLo().Max(m.GetHi())
			amax[b] = maxBits4(m8.GetLo().Max(m8.GetHi()))
		}
		av := archsimd.LoadUint32x16(&amax)
		d := av.AsFloat32x16().Div(c127).AsUint32x16()
		c127.Div(av.AsFloat32x16()).AsUint32x16().Store(&ids)
		d.Add(round).Add(d.ShiftRight(sh13).And(one)).And(keep).Store(&ds)
		lanes := uint16(1)<<n - 1
		if normal := d.GreaterEqual(lo).And(d.Less(hi)).ToBits(); normal&lanes != lanes {
			var raw [16]uint32
			d.Store(&raw)
			for b := 0; b < n; b++ {
				if normal&(1<<b) == 0 {
					var zero bool
					ds[b], zero = q8ScaleBits(raw[b])
					if zero {
						ids[b] = 0
					}
				}
			}
		}
		for b := 0; b < n; b++ {
			off := (b0 + b) * 128
			idv := archsimd.BroadcastUint32x16(ids[b]).AsFloat32x16()
			q0 := archsimd.LoadFloat32x16(f32x16at(px, off)).Mul(idv).RoundToEvenScaled(0).ConvertToInt32() // ConvertToInt32 truncates
			q1 := archsimd.LoadFloat32x16(f32x16at(px, off+64)).Mul(idv).RoundToEvenScaled(0).ConvertToInt32()
			q0.TruncateToInt8().Store((*[16]int8)(unsafe.Add(pq, (b0+b)*32)))
			q1.TruncateToInt8().Store((*[16]int8)(unsafe.Add(pq, (b0+b)*32+16)))
			s8 := q0.Add(q1)
			s4 := s8.GetLo().Add(s8.GetHi())
			s2 := s4.GetLo().Add(s4.GetHi())
			sum := int32(s2.GetElem(0) + s2.GetElem(1) + s2.GetElem(2) + s2.GetElem(3))
			*(*uint32)(unsafe.Pointer(&meta[b0+b].d)) = ds[b]
			meta[b0+b].corr = -128 * sum
		}
	}
	archsimd.ClearAVXUpperBits() // setDsums is scalar SSE code
	setDsums(meta)
}

// q8ScaleBits rounds a block's scale amax/127 (as bits) to a half float,
// returning its float32 bits and whether it is zero.
func q8ScaleBits(d uint32) (uint32, bool) {
	h := float32ToHalf32(d)
	return halfToFloat32Bits(h), h&0x7fff == 0
}

// quantizeRowQ8AVX2 is quantizeRowQ8Portable with four Float32x8 per
// block; the narrowing to int8 is scalar (AVX2 has no VPMOVDB).
func quantizeRowQ8AVX2(q []int8, meta []q8Meta, x []float32) {
	checkQuantRow(q, meta, x)
	archsimd.ClearAVXUpperBits() // qi is zeroed with SSE stores
	px := unsafe.Pointer(unsafe.SliceData(x))
	absMask := archsimd.BroadcastUint32x8(0x7fffffff)
	c127 := archsimd.BroadcastUint32x8(0x42fe0000).AsFloat32x8() // 127
	var qi [32]int32
	for b := range meta {
		var xv [4]archsimd.Float32x8
		for h := range xv {
			xv[h] = archsimd.LoadFloat32x8(f32x8at(px, b*128+h*32))
		}
		m := xv[0].AsUint32x8().And(absMask).Max(xv[1].AsUint32x8().And(absMask)).
			Max(xv[2].AsUint32x8().And(absMask).Max(xv[3].AsUint32x8().And(absMask)))
		amax := maxBits4(m.GetLo().Max(m.GetHi()))
		d, zero := q8BlockScaleBits(amax)
		var idv archsimd.Float32x8
		if !zero {
			idv = c127.Div(archsimd.BroadcastUint32x8(amax).AsFloat32x8())
		}
		for h := range xv {
			xv[h].Mul(idv).RoundToEven().ConvertToInt32().Store((*[8]int32)(qi[h*8:]))
		}
		qb := q[b*q8BlockLen : (b+1)*q8BlockLen]
		var sum int32
		for i, v := range qi {
			qb[i] = int8(v)
			sum += v
		}
		*(*uint32)(unsafe.Pointer(&meta[b].d)) = d
		meta[b].corr = -128 * sum
	}
	archsimd.ClearAVXUpperBits() // setDsums is scalar SSE code
	setDsums(meta)
}

// quantizeRowQ8KAVX512 is quantizeRowQ8KPortable with Float32x16: the
// largest magnitude by vectors, the first value that has it found from the
// comparison masks, then the quants.
func quantizeRowQ8KAVX512(q []int8, meta []q8Meta, x []float32) {
	checkQuantRow(q, meta, x)
	archsimd.ClearAVXUpperBits()
	px, pq := unsafe.Pointer(unsafe.SliceData(x)), unsafe.Pointer(unsafe.SliceData(q))
	absMask := archsimd.BroadcastUint32x16(0x7fffffff)
	m127 := archsimd.BroadcastUint32x16(0xc2fe0000).AsFloat32x16() // −127
	one := archsimd.BroadcastUint32x16(0x3f800000).AsFloat32x16()  // 1
	c127 := archsimd.BroadcastInt32x16(127)
	half := len(q) == 16*len(meta) // a meta per 16 values (else per 32)
	per := qkK / (len(q) / len(meta))
	for sb := 0; sb < len(meta)/per; sb++ {
		base := unsafe.Add(px, sb*qkK*4)
		var m archsimd.Uint32x16
		for v := 0; v < qkK/16; v++ {
			m = m.Max(archsimd.LoadFloat32x16(f32x16at(base, v*64)).AsUint32x16().And(absMask))
		}
		m8 := m.GetLo().Max(m.GetHi())
		amax := maxBits4(m8.GetLo().Max(m8.GetHi()))
		var iscale archsimd.Float32x16
		var dBits uint32
		if amax != 0 {
			av := archsimd.BroadcastUint32x16(amax)
			for v := 0; v < qkK/16; v++ {
				hit := archsimd.LoadFloat32x16(f32x16at(base, v*64)).AsUint32x16().And(absMask).Equal(av).ToBits()
				if hit != 0 {
					mx := *(*uint32)(unsafe.Add(base, (v*16+bits.TrailingZeros16(hit))*4))
					iscale = m127.Div(archsimd.BroadcastUint32x16(mx).AsFloat32x16())
					dBits = one.Div(iscale).AsUint32x16().GetLo().GetLo().GetElem(0)
					break
				}
			}
		}
		for b := 0; b < qkK/32; b++ {
			off := sb*qkK + b*32
			q0 := archsimd.LoadFloat32x16(f32x16at(px, off*4)).Mul(iscale).RoundToEvenScaled(0).ConvertToInt32().Min(c127)
			q1 := archsimd.LoadFloat32x16(f32x16at(px, off*4+64)).Mul(iscale).RoundToEvenScaled(0).ConvertToInt32().Min(c127)
			q0.TruncateToInt8().Store((*[16]int8)(unsafe.Add(pq, off)))
			q1.TruncateToInt8().Store((*[16]int8)(unsafe.Add(pq, off+16)))
			if half {
				m := meta[off/16:]
				*(*uint32)(unsafe.Pointer(&m[0].d)) = dBits
				*(*uint32)(unsafe.Pointer(&m[1].d)) = dBits
				m[0].corr, m[1].corr = -128*sum16(q0), -128*sum16(q1)
				continue
			}
			*(*uint32)(unsafe.Pointer(&meta[off/32].d)) = dBits
			meta[off/32].corr = -128 * sum16(q0.Add(q1))
		}
	}
	archsimd.ClearAVXUpperBits() // setDsums is scalar SSE code
	setDsums(meta)
}

// sum16 is the sum of the 16 lanes.
func sum16(v archsimd.Int32x16) int32 {
	s8 := v.GetLo().Add(v.GetHi())
	s4 := s8.GetLo().Add(s8.GetHi())
	return s4.GetElem(0) + s4.GetElem(1) + s4.GetElem(2) + s4.GetElem(3)
}
