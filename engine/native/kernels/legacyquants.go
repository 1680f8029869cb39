package kernels

import "encoding/binary"

// ggml's other blocks of 32 values (ggml-common.h), the types llama-quantize
// falls back to for rows that are not whole 256-value super-blocks (rows of
// 896 in Qwen2.5-0.5B: q4_K becomes q5_0, q5_K q5_1, q6_K q8_0, iq4_xs
// iq4_nl, and q2_K and q3_K q4_0 in the llama.cpp of node-llama-cpp
// 3.22.1, iq4_nl in older ones), and the Q4_1, Q5_0, Q5_1 and IQ4_NL
// recipes' own types. Value j of a block is the low nibble of qs[j] and value j+16
// the high one, as in q4_0; q5_0 and q5_1 keep the fifth bit of value j in
// bit j of the 32-bit qh.
const (
	// block_q4_1: half d, m; uint8 qs[16]; x = q·d + m.
	q4_1Bytes = 2 + 2 + 16
	// block_q5_0: half d; uint8 qh[4], qs[16]; x = (q−16)·d.
	q5_0Bytes = 2 + 4 + 16
	// block_q5_1: half d, m; uint8 qh[4], qs[16]; x = q·d + m.
	q5_1Bytes = 2 + 2 + 4 + 16
	// block_iq4_nl: half d; uint8 qs[16]; x = d·kvaluesIQ4NL[q].
	iq4NLBytes = 2 + 16
)

// kvaluesIQ4NL is ggml's kvalues_iq4nl: the 16 non-linear levels of
// iq4_nl and iq4_xs.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

func decodeQ4_1(dst []float32, blk []byte) {
	d := halfToFloat32(binary.LittleEndian.Uint16(blk))
	m := halfToFloat32(binary.LittleEndian.Uint16(blk[2:]))
	qs := blk[4:20]
	dst = dst[:32]
	for j, q := range qs {
		dst[j] = float32(float32(q&0x0f)*d) + m
		dst[j+16] = float32(float32(q>>4)*d) + m
	}
}

func decodeQ5_0(dst []float32, blk []byte) {
	d := halfToFloat32(binary.LittleEndian.Uint16(blk))
	qh := binary.LittleEndian.Uint32(blk[2:])
	qs := blk[6:22]
	dst = dst[:32]
	for j, q := range qs {
		h0 := uint8(qh>>j<<4) & 0x10
		h1 := uint8(qh>>(j+12)) & 0x10
		dst[j] = float32(int(q&0x0f|h0)-16) * d
		dst[j+16] = float32(int(q>>4|h1)-16) * d
	}
}

func decodeQ5_1(dst []float32, blk []byte) {
	d := halfToFloat32(binary.LittleEndian.Uint16(blk))
	m := halfToFloat32(binary.LittleEndian.Uint16(blk[2:]))
	qh := binary.LittleEndian.Uint32(blk[4:])
	qs := blk[8:24]
	dst = dst[:32]
	for j, q := range qs {
		h0 := uint8(qh>>j<<4) & 0x10
		h1 := uint8(qh>>(j+12)) & 0x10
		dst[j] = float32(float32(q&0x0f|h0)*d) + m
		dst[j+16] = float32(float32(q>>4|h1)*d) + m
	}
}

func decodeIQ4_NL(dst []float32, blk []byte) {
	d := halfToFloat32(binary.LittleEndian.Uint16(blk))
	qs := blk[2:18]
	dst = dst[:32]
	for j, q := range qs {
		dst[j] = d * float32(kvaluesIQ4NL[q&0x0f])
		dst[j+16] = d * float32(kvaluesIQ4NL[q>>4])
	}
}

// fifthBits maps four bits of qh (values 4t..4t+3) to bit 4 of bytes 0..3.
var fifthBits = func() (t [16]uint32) {
	for b := range uint32(16) {
		t[b] = (b&1 | (b&2)<<7 | (b&4)<<14 | (b&8)<<21) << 4
	}
	return t
}()

// decodePanelLegacy decodes panel p of a q4_1, q5_0, q5_1 or iq4_nl
// matrix: per block of 32 inputs and column the scale d and, for q4_1 and
// q5_1, the minimum m (x = d·q + m: the tile adds m·Σa·d_a, q8_1's s);
// the quants as w+128 (q4_1, q5_1: q; q5_0: q−16; iq4_nl: its level).
// One loop per format, as decodePanelQ4_0's: values 4t..4t+3 are the low
// nibbles of qs[4t:4t+4], values 16+4t.. their high ones.
func (l *linearBlocks) decodePanelLegacy(dst *kq8Panel, p int) {
	o0, nc := l.panelRows(dst, p)
	nb := l.in / 32
	stride := 4 * panelCols
	for j := range nc {
		row := l.raw[(o0+j)*l.rowBytes : (o0+j+1)*l.rowBytes]
		ws, wm := dst.ws[j:], dst.wm[j:]
		wq := dst.wq[j*4:]
		switch l.f.kind {
		case kindQ4_1:
			for b := range nb {
				blk := row[b*q4_1Bytes : (b+1)*q4_1Bytes]
				ws[b*panelCols] = halfToFloat32(binary.LittleEndian.Uint16(blk))
				wm[b*panelCols] = halfToFloat32(binary.LittleEndian.Uint16(blk[2:]))
				for t := range 4 {
					w := binary.LittleEndian.Uint32(blk[4+4*t:])
					binary.LittleEndian.PutUint32(wq[(b*8+t)*stride:], w&0x0f0f0f0f|0x80808080)
					binary.LittleEndian.PutUint32(wq[(b*8+4+t)*stride:], w>>4&0x0f0f0f0f|0x80808080)
				}
			}
		case kindQ5_0:
			for b := range nb {
				blk := row[b*q5_0Bytes : (b+1)*q5_0Bytes]
				ws[b*panelCols] = halfToFloat32(binary.LittleEndian.Uint16(blk))
				qh := binary.LittleEndian.Uint32(blk[2:])
				for t := range 4 { // q−16+128 per byte, no carries (q ≤ 31)
					w := binary.LittleEndian.Uint32(blk[6+4*t:])
					lo := w&0x0f0f0f0f | fifthBits[qh>>(4*t)&0xf]
					hi := w>>4&0x0f0f0f0f | fifthBits[qh>>(16+4*t)&0xf]
					binary.LittleEndian.PutUint32(wq[(b*8+t)*stride:], lo+0x70707070)
					binary.LittleEndian.PutUint32(wq[(b*8+4+t)*stride:], hi+0x70707070)
				}
			}
		case kindQ5_1:
			for b := range nb {
				blk := row[b*q5_1Bytes : (b+1)*q5_1Bytes]
				ws[b*panelCols] = halfToFloat32(binary.LittleEndian.Uint16(blk))
				wm[b*panelCols] = halfToFloat32(binary.LittleEndian.Uint16(blk[2:]))
				qh := binary.LittleEndian.Uint32(blk[4:])
				for t := range 4 {
					w := binary.LittleEndian.Uint32(blk[8+4*t:])
					lo := w&0x0f0f0f0f | fifthBits[qh>>(4*t)&0xf]
					hi := w>>4&0x0f0f0f0f | fifthBits[qh>>(16+4*t)&0xf]
					binary.LittleEndian.PutUint32(wq[(b*8+t)*stride:], lo|0x80808080)
					binary.LittleEndian.PutUint32(wq[(b*8+4+t)*stride:], hi|0x80808080)
				}
			}
		case kindIQ4_NL:
			for b := range nb {
				blk := row[b*iq4NLBytes : (b+1)*iq4NLBytes]
				ws[b*panelCols] = halfToFloat32(binary.LittleEndian.Uint16(blk))
				for t := range 4 {
					w := binary.LittleEndian.Uint32(blk[2+4*t:])
					binary.LittleEndian.PutUint32(wq[(b*8+t)*stride:], nlLevels(w&0x0f0f0f0f))
					binary.LittleEndian.PutUint32(wq[(b*8+4+t)*stride:], nlLevels(w>>4&0x0f0f0f0f))
				}
			}
		}
	}
}

// nlPairs maps two nibbles, i | j<<4, to their iq4_nl levels + 128, one
// byte each (512 bytes: two lookups for four values).
var nlPairs = func() (t [256]uint16) {
	for i := range 256 {
		t[i] = uint16(uint8(kvaluesIQ4NL[i&0xf])^0x80) | uint16(uint8(kvaluesIQ4NL[i>>4])^0x80)<<8
	}
	return t
}()

// nlLevels maps four nibbles (one per byte) to their iq4_nl levels + 128.
func nlLevels(v uint32) uint32 {
	return uint32(nlPairs[uint8(v|v>>4)]) | uint32(nlPairs[uint8(v>>16|v>>20)])<<16
}
