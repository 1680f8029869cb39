package kernels

import (
	"encoding/binary"
	"sync"
)

// The int8 path of the K-quants, with activations quantized as llama.cpp
// does for them (q8_K: one float32 scale per 256 values, kept here as
// blocks of 32 or 16 that share it). The sub-blocks of 32 values of q4_K
// and q5_K are x = d1·q − m1 (d1 = d·sc, m1 = dmin·m, as ggml's
// dequantize_row_* computes them, q in 0..15 or 0..31): per block and
// column the int8 tile takes the scale d1 and the minimum −m1, and adds
// −m1·Σa·d_a after the block's dot product:
//
//	Σ (d1·q − m1)·(a·d_a) = d1·d_a·Σ q·a − m1·(Σa·d_a)
//
// q6_K's sub-blocks of 16 are x = (d·sc)·(q−32), blocks of 16 without
// minimums.
//
// The weights stay in the file's mapping; each task decodes its panel of
// 32 output columns into the int8 layout of q8dot.go (offset by 128 as
// q8_0's), once for all the rows it computes, four values per 32-bit word.

// kq8Panel is one decoded panel: quants in the VNNI layout, per block of
// inputs and column a scale and (q4_K, q5_K) a minimum.
type kq8Panel struct {
	wq     []uint8
	ws, wm []float32
}

var kq8Pool = sync.Pool{New: func() any { return new(kq8Panel) }}

func getKQ8Panel(in int) *kq8Panel {
	p := kq8Pool.Get().(*kq8Panel)
	n, nb := in*panelCols, in/16*panelCols // q6_K has blocks of 16
	if cap(p.wq) < n {
		p.wq = make([]uint8, n)
	}
	if cap(p.ws) < nb {
		p.ws, p.wm = make([]float32, nb), make([]float32, nb)
	}
	p.wq, p.ws, p.wm = p.wq[:n], p.ws[:nb], p.wm[:nb]
	return p
}

// blocksInt8 turns the int8 path of q4_0 and the K-quants on (tests and
// benchmarks turn it off to compare with the float path).
var blocksInt8 = true

// int8Path reports whether Forward uses int8 dot products for l's format:
// all but q2_K, whose minimums per 16 values the int8 tiles do not take.
func (l *linearBlocks) int8Path() bool {
	return blocksInt8 && l.f.kind != kindQ2_K
}

// panelRows returns the first row of panel p and how many rows it has. A
// last panel short of panelCols rows is cleared first (quants 0x80, scales
// and minimums 0), so its missing columns weigh nothing.
func (l *linearBlocks) panelRows(dst *kq8Panel, p int) (o0, nc int) {
	o0 = p * panelCols
	nc = min(panelCols, l.out-o0)
	if nc < panelCols {
		for i := range dst.wq {
			dst.wq[i] = 0x80
		}
		clear(dst.ws)
		clear(dst.wm)
	}
	return o0, nc
}

// decodePanelQ8 decodes panel p of l's matrix into dst.
func (l *linearBlocks) decodePanelQ8(dst *kq8Panel, p int) {
	if fastPanels && decodePanelFast != nil && decodePanelFast(l, dst, p) {
		return
	}
	switch l.f.kind {
	case kindQ6_K:
		l.decodePanelQ6(dst, p)
		return
	case kindQ4_0:
		l.decodePanelQ4_0(dst, p)
		return
	case kindQ4_1, kindQ5_0, kindQ5_1, kindIQ4_NL:
		l.decodePanelLegacy(dst, p)
		return
	case kindQ3_K:
		l.decodePanelQ3(dst, p)
		return
	case kindIQ4_XS:
		l.decodePanelIQ4XS(dst, p)
		return
	}
	o0, nc := l.panelRows(dst, p)
	five := l.f.kind == kindQ5_K
	nsb := l.in / qkK
	for j := range nc {
		row := l.raw[(o0+j)*l.rowBytes : (o0+j+1)*l.rowBytes]
		for sb := range nsb {
			blk := row[sb*l.f.bytes : (sb+1)*l.f.bytes]
			d := halfToFloat32(binary.LittleEndian.Uint16(blk))
			dmin := halfToFloat32(binary.LittleEndian.Uint16(blk[2:]))
			scales := blk[4:16]
			var qh, qs []byte
			if five {
				qh, qs = blk[16:16+qkK/8], blk[16+qkK/8:16+qkK/8+qkK/2]
			} else {
				qs = blk[16 : 16+qkK/2]
			}
			for c := range 4 { // chunks of 64: low nibbles, then high ones
				q := qs[c*32 : c*32+32]
				for h := range 2 {
					s := 2*c + h // sub-block within the super-block
					sc, m := scaleMinK4(s, scales)
					b := sb*8 + s // block of 32 inputs within the row
					dst.ws[b*panelCols+j] = d * float32(sc)
					dst.wm[b*panelCols+j] = -(dmin * float32(m))
					// Four inputs at a time, as 32-bit words: group t of
					// the block is bytes 4t..4t+3 of q (and of qh).
					for t := range q8BlockLen / 4 {
						v := binary.LittleEndian.Uint32(q[4*t:]) >> (4 * h) & 0x0f0f0f0f
						if five {
							v |= (binary.LittleEndian.Uint32(qh[4*t:]) >> s & 0x01010101) << 4
						}
						binary.LittleEndian.PutUint32(dst.wq[(b*8+t)*4*panelCols+j*4:], v|0x80808080)
					}
				}
			}
		}
	}
}

// decodePanelQ6 decodes panel p of a q6_K matrix: x = d·sc·(q−32) per 16
// values, so blocks of 16 with the scale d·sc (ggml's product) and the
// quants q−32 stored as q+96, without minimums.
func (l *linearBlocks) decodePanelQ6(dst *kq8Panel, p int) {
	o0, nc := l.panelRows(dst, p)
	nsb := l.in / qkK
	for j := range nc {
		row := l.raw[(o0+j)*l.rowBytes : (o0+j+1)*l.rowBytes]
		for sb := range nsb {
			blk := row[sb*q6KBytes : (sb+1)*q6KBytes]
			ql, qh, sc := blk[:qkK/2], blk[qkK/2:qkK/2+qkK/4], blk[qkK/2+qkK/4:qkK/2+qkK/4+qkK/16]
			d := halfToFloat32(binary.LittleEndian.Uint16(blk[qkK/2+qkK/4+qkK/16:]))
			for s, v := range sc {
				dst.ws[(sb*16+s)*panelCols+j] = d * float32(int8(v))
			}
			for n := 0; n < qkK; n += 128 { // as decodeQ6_K, four inputs at a time
				ql, qh := ql[n/2:], qh[n/4:]
				for t := 0; t < 32; t += 4 {
					lo, hi, h := binary.LittleEndian.Uint32(ql[t:]), binary.LittleEndian.Uint32(ql[t+32:]), binary.LittleEndian.Uint32(qh[t:])
					i := sb*qkK + n + t
					for c, v := range [4]uint32{
						lo&0x0f0f0f0f | (h&0x03030303)<<4,
						hi&0x0f0f0f0f | (h>>2&0x03030303)<<4,
						lo>>4&0x0f0f0f0f | (h>>4&0x03030303)<<4,
						hi>>4&0x0f0f0f0f | (h>>6&0x03030303)<<4,
					} {
						// +96 per byte (q ≤ 63: no carries between bytes).
						binary.LittleEndian.PutUint32(dst.wq[(i+32*c)/4*4*panelCols+j*4:], v+0x60606060)
					}
				}
			}
		}
	}
}

// decodePanelQ4_0 decodes panel p of a q4_0 matrix: x = d·(q−8) per 32
// values, the quants stored as q+120 (q8_0's offset of w+128).
func (l *linearBlocks) decodePanelQ4_0(dst *kq8Panel, p int) {
	o0, nc := l.panelRows(dst, p)
	nb := l.in / q4_0Values
	for j := range nc {
		row := l.raw[(o0+j)*l.rowBytes : (o0+j+1)*l.rowBytes]
		for b := range nb {
			blk := row[b*q4_0Bytes : (b+1)*q4_0Bytes]
			dst.ws[b*panelCols+j] = halfToFloat32(binary.LittleEndian.Uint16(blk))
			for t := range 4 { // values 4t..4t+3 in the low nibbles, +16 in the high ones
				w := binary.LittleEndian.Uint32(blk[2+4*t:])
				binary.LittleEndian.PutUint32(dst.wq[(b*8+t)*4*panelCols+j*4:], w&0x0f0f0f0f+0x78787878)
				binary.LittleEndian.PutUint32(dst.wq[(b*8+4+t)*4*panelCols+j*4:], w>>4&0x0f0f0f0f+0x78787878)
			}
		}
	}
}

// forwardQ8 is Forward on the int8 path: activations quantized as
// llama.cpp does for l's format (its vec_dot_type), int8 tiles over panels
// decoded per task.
func (l *linearBlocks) forwardQ8(dst, x []float32, rows int) {
	kind, mins := l.f.actQuant()
	q8Gemm(dst, x, rows, l.in, l.out, kind, func(p int, pn *kq8Panel) ([]uint8, []float32, []float32) {
		l.decodePanelQ8(pn, p)
		if !mins {
			return pn.wq, pn.ws, nil
		}
		return pn.wq, pn.ws, pn.wm
	}, true)
}

// actQuant returns how llama.cpp quantizes the activations that meet f
// (ggml's vec_dot_type) and whether f's blocks have minimums.
func (f blockFormat) actQuant() (kind actQuant, mins bool) {
	switch f.kind {
	case kindQ4_0, kindQ5_0, kindIQ4_NL:
		return actQ8_0, false
	case kindQ4_1, kindQ5_1:
		return actQ8_1, true
	case kindQ6_K, kindQ3_K:
		return actQ8_K16, false
	case kindIQ4_XS:
		return actQ8_K, false
	}
	return actQ8_K, true // q4_K, q5_K
}
