//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// The permutations of load16x4 (VPERMI2D indices): the first stage
// gathers words 0,1 (perm01) or 2,3 (perm23) of eight rows, the second
// picks one word of all sixteen rows from two of those.
var perm01, perm23, permLo, permHi = func() (a, b, c, d [16]uint32) {
	for i := range uint32(16) {
		a[i] = 4*(i%8) + i/8
		b[i] = 4*(i%8) + 2 + i/8
		c[i], d[i] = i, i+8
		if i >= 8 {
			c[i], d[i] = i+8, i+16
		}
	}
	return
}()

// transposer holds the permutation indices in registers.
type transposer struct{ p01, p23, lo, hi archsimd.Uint32x16 }

func newTransposer() transposer {
	return transposer{archsimd.LoadUint32x16(&perm01), archsimd.LoadUint32x16(&perm23),
		archsimd.LoadUint32x16(&permLo), archsimd.LoadUint32x16(&permHi)}
}

func load4(p unsafe.Pointer, off int) archsimd.Uint32x4 {
	return archsimd.LoadUint32x4((*[4]uint32)(unsafe.Add(p, off)))
}

// load16x4 loads the 16 bytes at p+j·stride for j < 16 and returns them
// transposed: lane j of w[t] is the t-th little-endian word of row j.
func (tr *transposer) load16x4(p unsafe.Pointer, stride int) (w0, w1, w2, w3 archsimd.Uint32x16) {
	z0 := load4x4(p, stride)
	z1 := load4x4(unsafe.Add(p, 4*stride), stride)
	z2 := load4x4(unsafe.Add(p, 8*stride), stride)
	z3 := load4x4(unsafe.Add(p, 12*stride), stride)
	a := z0.ConcatPermute(z1, tr.p01) // words 0,1 of rows 0-7
	b := z0.ConcatPermute(z1, tr.p23) // words 2,3 of rows 0-7
	c := z2.ConcatPermute(z3, tr.p01) // rows 8-15
	d := z2.ConcatPermute(z3, tr.p23)
	return a.ConcatPermute(c, tr.lo), a.ConcatPermute(c, tr.hi), b.ConcatPermute(d, tr.lo), b.ConcatPermute(d, tr.hi)
}

// load4x4 loads the 16 bytes at p+j·stride for j < 4 into one vector.
func load4x4(p unsafe.Pointer, stride int) archsimd.Uint32x16 {
	return archsimd.Uint32x16{}.
		SetLo(archsimd.Uint32x8{}.SetLo(load4(p, 0)).SetHi(load4(p, stride))).
		SetHi(archsimd.Uint32x8{}.SetLo(load4(p, 2*stride)).SetHi(load4(p, 3*stride)))
}

// halvesToFloat32 converts 16 half floats (the low 16 bits of each lane)
// to float32, as halfToFloat32 does: normals in vectors, the other
// lanes (zeros, subnormals, infinities, NaNs) one by one.
func halvesToFloat32(h archsimd.Uint32x16) archsimd.Float32x16 {
	h = h.And(archsimd.BroadcastUint32x16(0xffff))
	e := h.And(archsimd.BroadcastUint32x16(0x7c00))
	f := h.And(archsimd.BroadcastUint32x16(0x7fff)).ShiftLeft(archsimd.BroadcastUint32x16(13)).
		Add(archsimd.BroadcastUint32x16(112 << 23)).
		Or(h.And(archsimd.BroadcastUint32x16(0x8000)).ShiftLeft(archsimd.BroadcastUint32x16(16)))
	odd := e.Equal(archsimd.Uint32x16{}).Or(e.Equal(archsimd.BroadcastUint32x16(0x7c00)))
	if odd.ToBits() != 0 {
		var hs, fs [16]uint32
		h.Store(&hs)
		f.Store(&fs)
		bits := odd.ToBits()
		for j := range 16 {
			if bits&(1<<j) != 0 {
				fs[j] = halfToFloat32Bits(uint16(hs[j]))
			}
		}
		f = archsimd.LoadUint32x16(&fs)
	}
	return f.AsFloat32x16()
}

func u32x16at(p []uint8, off int) *[16]uint32 {
	return (*[16]uint32)(unsafe.Pointer((*[64]uint8)(p[off : off+64])))
}

func f32x16of(p []float32, off int) *[16]float32 { return (*[16]float32)(p[off : off+16]) }

// decodePanelAVX512 is decodePanelFast for q4_0, q4_K, q6_K and q5_0 (the
// types of Q4_0 and Q4_K_M files) on whole panels.
func decodePanelAVX512(l *linearBlocks, dst *kq8Panel, p int) bool {
	o0 := p * panelCols
	if l.out-o0 < panelCols {
		return false
	}
	switch l.f.kind {
	case kindQ4_0:
		decodePanelQ4_0AVX512(l, dst, o0)
	case kindQ4_K:
		decodePanelQ4_KAVX512(l, dst, o0)
	case kindQ6_K:
		decodePanelQ6_KAVX512(l, dst, o0)
	case kindQ5_0:
		decodePanelQ5_0AVX512(l, dst, o0)
	default:
		return false
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// decodePanelQ4_0AVX512 is decodePanelQ4_0 16 columns at a time.
func decodePanelQ4_0AVX512(l *linearBlocks, dst *kq8Panel, o0 int) {
	tr := newTransposer()
	nb := l.in / q4_0Values
	stride := l.rowBytes
	_ = l.raw[(o0+panelCols)*stride-1]
	_ = dst.wq[nb*8*4*panelCols-1]
	_ = dst.ws[nb*panelCols-1]
	m4 := archsimd.BroadcastUint32x16(0x0f0f0f0f)
	off := archsimd.BroadcastUint32x16(0x78787878)
	four := archsimd.BroadcastUint32x16(4)
	for h := range 2 {
		base := unsafe.Pointer(&l.raw[(o0+16*h)*stride])
		for b := range nb {
			blk := unsafe.Add(base, b*q4_0Bytes)
			d, _, _, _ := tr.load16x4(blk, stride)
			halvesToFloat32(d).Store(f32x16of(dst.ws, b*panelCols+16*h))
			w0, w1, w2, w3 := tr.load16x4(unsafe.Add(blk, 2), stride)
			g := b * 8 * 4 * panelCols
			q4Store(dst.wq, g+64*h, w0, m4, four, off)
			q4Store(dst.wq, g+1*4*panelCols+64*h, w1, m4, four, off)
			q4Store(dst.wq, g+2*4*panelCols+64*h, w2, m4, four, off)
			q4Store(dst.wq, g+3*4*panelCols+64*h, w3, m4, four, off)
		}
	}
}

// decodePanelQ4_KAVX512 is decodePanelQ8's q4_K decoding 16 columns at a
// time: the 16-byte heads (d, dmin, the 12 bytes of scales and minimums)
// transposed give scaleMinK4 of 16 columns per vector.
func decodePanelQ4_KAVX512(l *linearBlocks, dst *kq8Panel, o0 int) {
	tr := newTransposer()
	nsb := l.in / qkK
	stride := l.rowBytes
	_ = l.raw[(o0+panelCols)*stride-1]
	_ = dst.wq[l.in*panelCols-1]
	_ = dst.ws[nsb*8*panelCols-1]
	_ = dst.wm[nsb*8*panelCols-1]
	m4 := archsimd.BroadcastUint32x16(0x0f0f0f0f)
	hiBits := archsimd.BroadcastUint32x16(0x80808080)
	four := archsimd.BroadcastUint32x16(4)
	m6 := archsimd.BroadcastUint32x16(63)
	m3 := archsimd.BroadcastUint32x16(3)
	mf := archsimd.BroadcastUint32x16(0xf)
	sign := archsimd.BroadcastUint32x16(1 << 31)
	var sh [4]archsimd.Uint32x16
	for i := range sh {
		sh[i] = archsimd.BroadcastUint32x16(uint32(8 * i))
	}
	six, sixteen := archsimd.BroadcastUint32x16(6), archsimd.BroadcastUint32x16(16)
	for h := range 2 {
		base := unsafe.Pointer(&l.raw[(o0+16*h)*stride])
		for sb := range nsb {
			blk := unsafe.Add(base, sb*q4KBytes)
			dd, s0, s1, s2 := tr.load16x4(blk, stride)
			d := halvesToFloat32(dd)
			dmin := halvesToFloat32(dd.ShiftRight(sixteen))
			for s := range 8 {
				var sc, m archsimd.Uint32x16
				if s < 4 {
					sc = s0.ShiftRight(sh[s]).And(m6)
					m = s1.ShiftRight(sh[s]).And(m6)
				} else {
					j := s - 4
					sc = s2.ShiftRight(sh[j]).And(mf).Or(s0.ShiftRight(sh[j]).ShiftRight(six).And(m3).ShiftLeft(four))
					m = s2.ShiftRight(sh[j]).ShiftRight(four).And(mf).Or(s1.ShiftRight(sh[j]).ShiftRight(six).And(m3).ShiftLeft(four))
				}
				i := (sb*8+s)*panelCols + 16*h
				d.Mul(sc.ConvertToFloat32()).Store(f32x16of(dst.ws, i))
				dmin.Mul(m.ConvertToFloat32()).AsUint32x16().Xor(sign).AsFloat32x16().Store(f32x16of(dst.wm, i))
			}
			for c := range 4 { // chunks of 64 inputs: low nibbles, then high ones
				q := unsafe.Add(blk, 16+32*c)
				w0, w1, w2, w3 := tr.load16x4(q, stride)
				w4, w5, w6, w7 := tr.load16x4(unsafe.Add(q, 16), stride)
				g := (sb*8 + 2*c) * 8 * 4 * panelCols
				g += 64 * h
				q4KStore(dst.wq, g, w0, m4, four, hiBits)
				q4KStore(dst.wq, g+1*4*panelCols, w1, m4, four, hiBits)
				q4KStore(dst.wq, g+2*4*panelCols, w2, m4, four, hiBits)
				q4KStore(dst.wq, g+3*4*panelCols, w3, m4, four, hiBits)
				q4KStore(dst.wq, g+4*4*panelCols, w4, m4, four, hiBits)
				q4KStore(dst.wq, g+5*4*panelCols, w5, m4, four, hiBits)
				q4KStore(dst.wq, g+6*4*panelCols, w6, m4, four, hiBits)
				q4KStore(dst.wq, g+7*4*panelCols, w7, m4, four, hiBits)
			}
		}
	}
}

// q4Store stores the low nibbles of w, plus off, at wq[i:] and its high
// ones four groups (16 inputs) on: q4_0's layout.
func q4Store(wq []uint8, i int, w, m4, four, off archsimd.Uint32x16) {
	w.And(m4).Add(off).Store(u32x16at(wq, i))
	w.ShiftRight(four).And(m4).Add(off).Store(u32x16at(wq, i+4*4*panelCols))
}

// q4KStore stores the low nibbles of w, or'ed with hi, at wq[i:] and its
// high ones a block (eight groups) on: q4_K's layout.
func q4KStore(wq []uint8, i int, w, m4, four, hi archsimd.Uint32x16) {
	w.And(m4).Or(hi).Store(u32x16at(wq, i))
	w.ShiftRight(four).And(m4).Or(hi).Store(u32x16at(wq, i+8*4*panelCols))
}

// decodePanelQ6_KAVX512 is decodePanelQ6 16 columns at a time.
func decodePanelQ6_KAVX512(l *linearBlocks, dst *kq8Panel, o0 int) {
	tr := newTransposer()
	nsb := l.in / qkK
	stride := l.rowBytes
	_ = l.raw[(o0+panelCols)*stride-1]
	_ = dst.wq[l.in*panelCols-1]
	_ = dst.ws[nsb*16*panelCols-1]
	m4 := archsimd.BroadcastUint32x16(0x0f0f0f0f)
	m2 := archsimd.BroadcastUint32x16(0x03030303)
	off := archsimd.BroadcastUint32x16(0x60606060)
	two, four, six := archsimd.BroadcastUint32x16(2), archsimd.BroadcastUint32x16(4), archsimd.BroadcastUint32x16(6)
	sixteen, tf := archsimd.BroadcastUint32x16(16), archsimd.BroadcastInt32x16(24)
	var sh [4]archsimd.Uint32x16 // 24, 16, 8, 0: byte i to the top
	for i := range sh {
		sh[i] = archsimd.BroadcastUint32x16(uint32(24 - 8*i))
	}
	for h := range 2 {
		base := unsafe.Pointer(&l.raw[(o0+16*h)*stride])
		for sb := range nsb {
			blk := unsafe.Add(base, sb*q6KBytes)
			s0, s1, s2, s3 := tr.load16x4(unsafe.Add(blk, qkK/2+qkK/4), stride)
			_, _, _, dw := tr.load16x4(unsafe.Add(blk, qkK/2+qkK/4+2), stride) // sc[14:16], d
			d := halvesToFloat32(dw.ShiftRight(sixteen))
			for w, sw := range [4]archsimd.Uint32x16{s0, s1, s2, s3} {
				for i := range 4 {
					sc := sw.ShiftLeft(sh[i]).AsInt32x16().ShiftRight(tf).ConvertToFloat32()
					d.Mul(sc).Store(f32x16of(dst.ws, (sb*16+4*w+i)*panelCols+16*h))
				}
			}
			for n := 0; n < qkK; n += 128 {
				ql := unsafe.Add(blk, n/2)
				qh := unsafe.Add(blk, qkK/2+n/4)
				g := (sb*qkK + n) / 4 * 4 * panelCols
				for half := range 2 { // words 0-3, then 4-7
					lo0, lo1, lo2, lo3 := tr.load16x4(unsafe.Add(ql, 16*half), stride)
					hi0, hi1, hi2, hi3 := tr.load16x4(unsafe.Add(ql, 32+16*half), stride)
					h0, h1, h2, h3 := tr.load16x4(unsafe.Add(qh, 16*half), stride)
					gu := g + 4*half*4*panelCols + 64*h
					q6Store(dst.wq, gu, lo0, hi0, h0, m4, m2, off, two, four, six)
					q6Store(dst.wq, gu+1*4*panelCols, lo1, hi1, h1, m4, m2, off, two, four, six)
					q6Store(dst.wq, gu+2*4*panelCols, lo2, hi2, h2, m4, m2, off, two, four, six)
					q6Store(dst.wq, gu+3*4*panelCols, lo3, hi3, h3, m4, m2, off, two, four, six)
				}
			}
		}
	}
}

// q6Store stores the four words of q6_K quants (+96) that one word of
// ql (lo), of ql 32 bytes on (hi) and of qh make, 32 inputs (8 groups)
// apart from wq[i:] on.
func q6Store(wq []uint8, i int, lo, hi, qh, m4, m2, off, two, four, six archsimd.Uint32x16) {
	lo.And(m4).Or(qh.And(m2).ShiftLeft(four)).Add(off).Store(u32x16at(wq, i))
	hi.And(m4).Or(qh.ShiftRight(two).And(m2).ShiftLeft(four)).Add(off).Store(u32x16at(wq, i+8*4*panelCols))
	lo.ShiftRight(four).And(m4).Or(qh.ShiftRight(four).And(m2).ShiftLeft(four)).Add(off).Store(u32x16at(wq, i+16*4*panelCols))
	hi.ShiftRight(four).And(m4).Or(qh.ShiftRight(six).And(m2).ShiftLeft(four)).Add(off).Store(u32x16at(wq, i+24*4*panelCols))
}

// decodePanelQ5_0AVX512 is decodePanelLegacy's q5_0 16 columns at a time:
// the fifth bits of four values, four bits of qh, spread to bit 4 of each
// byte by one multiply (the shifted copies 7 bits apart do not overlap).
func decodePanelQ5_0AVX512(l *linearBlocks, dst *kq8Panel, o0 int) {
	tr := newTransposer()
	nb := l.in / 32
	stride := l.rowBytes
	_ = l.raw[(o0+panelCols)*stride-1]
	_ = dst.wq[l.in*panelCols-1]
	_ = dst.ws[nb*panelCols-1]
	m4 := archsimd.BroadcastUint32x16(0x0f0f0f0f)
	off := archsimd.BroadcastUint32x16(0x70707070)
	four, sixteen := archsimd.BroadcastUint32x16(4), archsimd.BroadcastUint32x16(16)
	nib := archsimd.BroadcastUint32x16(0xf)
	spread := archsimd.BroadcastUint32x16(1<<4 | 1<<11 | 1<<18 | 1<<25)
	bit4 := archsimd.BroadcastUint32x16(0x10101010)
	for h := range 2 {
		base := unsafe.Pointer(&l.raw[(o0+16*h)*stride])
		for b := range nb {
			blk := unsafe.Add(base, b*q5_0Bytes)
			dq, qq, _, _ := tr.load16x4(blk, stride) // d, qh[0:2]; qh[2:4], qs[0:2]
			halvesToFloat32(dq).Store(f32x16of(dst.ws, b*panelCols+16*h))
			qh := dq.ShiftRight(sixteen).Or(qq.ShiftLeft(sixteen))
			w0, w1, w2, w3 := tr.load16x4(unsafe.Add(blk, 6), stride)
			g := b*8*4*panelCols + 64*h
			for t, w := range [4]archsimd.Uint32x16{w0, w1, w2, w3} {
				fl := qh.And(nib).Mul(spread).And(bit4)
				fh := qh.ShiftRight(sixteen).And(nib).Mul(spread).And(bit4)
				w.And(m4).Or(fl).Add(off).Store(u32x16at(dst.wq, g+t*4*panelCols))
				w.ShiftRight(four).And(m4).Or(fh).Add(off).Store(u32x16at(dst.wq, g+(4+t)*4*panelCols))
				qh = qh.ShiftRight(four)
			}
		}
	}
}
