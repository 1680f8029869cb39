package kernels

import "encoding/binary"

// The lower K-quants (q2_K, q3_K, which the Q2_K and Q3_K_* recipes use)
// and iq4_xs (the IQ4_XS recipe), super-blocks of 256 values. Within each
// half of 128 values of q2_K and q3_K, value 32c+l (c < 4, l < 32) is bits
// 2c..2c+1 of qs[32·half+l], in sub-blocks of 16 with a scale each.
const (
	// block_q2_K: uint8 scales[16] (low nibble scale, high nibble min);
	// uint8 qs[64]; half d, dmin; x = d·sc·q − dmin·m.
	q2KBytes = qkK/16 + qkK/4 + 2 + 2
	// block_q3_K: uint8 hmask[32], qs[64], scales[12] (sixteen 6-bit
	// scales); half d; x = d·(sc−32)·(q − 4 unless the hmask bit is set).
	q3KBytes = qkK/8 + qkK/4 + 12 + 2
	// block_iq4_xs: half d; uint16 scales_h; uint8 scales_l[4], qs[128];
	// eight sub-blocks of 32, x = d·(ls−32)·kvaluesIQ4NL[q].
	iq4XSBytes = 2 + 2 + qkK/64 + qkK/2
)

func decodeQ2_K(dst []float32, blk []byte) {
	scales := blk[:16]
	q := blk[16 : 16+64]
	d := halfToFloat32(binary.LittleEndian.Uint16(blk[80:]))
	dmin := halfToFloat32(binary.LittleEndian.Uint16(blk[82:]))
	dst = dst[:qkK]
	y, is := 0, 0
	for n := 0; n < qkK; n += 128 {
		for shift := 0; shift < 8; shift += 2 {
			for h := range 2 { // two sub-blocks of 16: q[0:16] and q[16:32]
				sc := scales[is]
				is++
				dl, ml := d*float32(sc&0xf), dmin*float32(sc>>4)
				for _, v := range q[16*h : 16*h+16] {
					dst[y] = float32(dl*float32(v>>shift&3)) - ml
					y++
				}
			}
		}
		q = q[32:]
	}
}

// q3Scales unpacks q3_K's sixteen 6-bit scales (less 32), as ggml's
// dequantize_row_q3_K does with its kmask1 and kmask2 shuffle: the low
// nibbles are bytes 0..7 (sub-blocks 0..7) and their high nibbles
// (8..15), the top two bits come from bytes 8..11.
func q3Scales(b []byte) (s [16]int8) {
	for i := range 16 {
		lo := b[i%8] >> (4 * (i / 8)) & 0xf
		hi := b[8+i%4] >> (2 * (i / 4)) & 3
		s[i] = int8(lo|hi<<4) - 32
	}
	return s
}

func decodeQ3_K(dst []float32, blk []byte) {
	hm := blk[:32]
	q := blk[32 : 32+64]
	scales := q3Scales(blk[96:108])
	d := halfToFloat32(binary.LittleEndian.Uint16(blk[108:]))
	dst = dst[:qkK]
	y, is := 0, 0
	m := uint8(1)
	for n := 0; n < qkK; n += 128 {
		for shift := 0; shift < 8; shift += 2 {
			for h := range 2 {
				dl := d * float32(scales[is])
				is++
				for l, v := range q[16*h : 16*h+16] {
					qv := int8(v >> shift & 3)
					if hm[16*h+l]&m == 0 {
						qv -= 4
					}
					dst[y] = dl * float32(qv)
					y++
				}
			}
			m <<= 1
		}
		q = q[32:]
	}
}

func decodeIQ4_XS(dst []float32, blk []byte) {
	d := halfToFloat32(binary.LittleEndian.Uint16(blk))
	sh := binary.LittleEndian.Uint16(blk[2:])
	sl := blk[4:8]
	qs := blk[8 : 8+qkK/2]
	dst = dst[:qkK]
	for ib := range qkK / 32 {
		ls := int(sl[ib/2]>>(4*(ib%2))&0xf) | int(sh>>(2*ib)&3)<<4
		dl := d * float32(ls-32)
		y, q := dst[32*ib:32*ib+32], qs[16*ib:16*ib+16]
		for j, v := range q {
			y[j] = dl * float32(kvaluesIQ4NL[v&0xf])
			y[j+16] = dl * float32(kvaluesIQ4NL[v>>4])
		}
	}
}

// decodePanelQ3 decodes panel p of a q3_K matrix: blocks of 16 with the
// scale d·(sc−32) (ggml's product), quants −4..3 stored as q+128, without
// minimums (as q6_K's).
func (l *linearBlocks) decodePanelQ3(dst *kq8Panel, p int) {
	o0, nc := l.panelRows(dst, p)
	nsb := l.in / qkK
	for j := range nc {
		row := l.raw[(o0+j)*l.rowBytes : (o0+j+1)*l.rowBytes]
		for sb := range nsb {
			blk := row[sb*q3KBytes : (sb+1)*q3KBytes]
			hm, qs := blk[:32], blk[32:96]
			d := halfToFloat32(binary.LittleEndian.Uint16(blk[108:]))
			for s, v := range q3Scales(blk[96:108]) {
				dst.ws[(sb*16+s)*panelCols+j] = d * float32(v)
			}
			for n := range 2 {
				for c := range 4 {
					for t := 0; t < 32; t += 4 {
						q := binary.LittleEndian.Uint32(qs[32*n+t:]) >> (2 * c) & 0x03030303
						h := binary.LittleEndian.Uint32(hm[t:]) >> (4*n + c) & 0x01010101
						// q − 4·(1−h) + 128 = q + 4h + 124 per byte (≤ 131: no carries).
						i := sb*qkK + 128*n + 32*c + t
						binary.LittleEndian.PutUint32(dst.wq[i/4*4*panelCols+j*4:], q+h<<2+0x7c7c7c7c)
					}
				}
			}
		}
	}
}

// decodePanelIQ4XS decodes panel p of an iq4_xs matrix: blocks of 32 with
// the scale d·(ls−32), the levels stored as level+128.
func (l *linearBlocks) decodePanelIQ4XS(dst *kq8Panel, p int) {
	o0, nc := l.panelRows(dst, p)
	nsb := l.in / qkK
	for j := range nc {
		row := l.raw[(o0+j)*l.rowBytes : (o0+j+1)*l.rowBytes]
		for sb := range nsb {
			blk := row[sb*iq4XSBytes : (sb+1)*iq4XSBytes]
			d := halfToFloat32(binary.LittleEndian.Uint16(blk))
			sh := binary.LittleEndian.Uint16(blk[2:])
			for ib := range 8 {
				ls := int(blk[4+ib/2]>>(4*(ib%2))&0xf) | int(sh>>(2*ib)&3)<<4
				b := sb*8 + ib
				dst.ws[b*panelCols+j] = d * float32(ls-32)
				qs := blk[8+16*ib : 8+16*ib+16]
				for t := range 4 {
					w := binary.LittleEndian.Uint32(qs[4*t:])
					binary.LittleEndian.PutUint32(dst.wq[(b*8+t)*4*panelCols+j*4:], nlLevels(w&0x0f0f0f0f))
					binary.LittleEndian.PutUint32(dst.wq[(b*8+4+t)*4*panelCols+j*4:], nlLevels(w>>4&0x0f0f0f0f))
				}
			}
		}
	}
}

// roundQ8K sets dst to x (rows of k values) quantized to q8_K and back:
// q·d per value, as ggml's dequantize_row_q8_K.
func roundQ8K(dst, x []float32, rows, k int) {
	a := quantizeActs(x, rows, k, actQ8_K)
	defer q8ActsPool.Put(a)
	nb := k / q8BlockLen
	for r := range rows {
		for i, q := range a.q[r*k : (r+1)*k] {
			dst[r*k+i] = float32(q) * a.meta[r*nb+i/q8BlockLen].d
		}
	}
}
