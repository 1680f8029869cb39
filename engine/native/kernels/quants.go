package kernels

import (
	"encoding/binary"
	"fmt"
)

// The block formats of ggml (ggml-common.h) that a Linear reads straight
// from the file's bytes. Each decoder is ggml's dequantize_row_* for one
// block, with the same float32 operations in the same order; the explicit
// float32 conversions keep Go from fusing a multiply and a subtract on
// machines where it may (arm64), so every platform gives ggml's values.
const (
	qkK = 256 // values per K-quant super-block (QK_K)

	// block_q4_0: half d; uint8 qs[16] (value j is the low nibble of qs[j],
	// value j+16 the high one), x = (q-8)·d.
	q4_0Values = 32
	q4_0Bytes  = 2 + 16
	// block_q4_K: half d, dmin; uint8 scales[12] (eight 6-bit scales and
	// mins, get_scale_min_k4); uint8 qs[128]; x = d·sc·q − dmin·m.
	q4KBytes = 2 + 2 + 12 + qkK/2
	// block_q5_K: as q4_K with qh[32] (the fifth bit) before qs.
	q5KBytes = 2 + 2 + 12 + qkK/8 + qkK/2
	// block_q6_K: uint8 ql[128], qh[64]; int8 scales[16]; half d;
	// x = d·sc·(q−32), sixteen sub-blocks of 16.
	q6KBytes = qkK/2 + qkK/4 + qkK/16 + 2
)

// A blockKind names one of ggml's block types.
type blockKind uint8

const (
	kindQ4_0 blockKind = iota
	kindQ4_1
	kindQ5_0
	kindQ5_1
	kindIQ4_NL
	kindQ2_K
	kindQ3_K
	kindQ4_K
	kindQ5_K
	kindQ6_K
	kindIQ4_XS
)

// A blockFormat is one of ggml's block types: how many values a block
// holds, its size and its decoder.
type blockFormat struct {
	name   string
	kind   blockKind
	values int
	bytes  int
}

var (
	formatQ4_0   = blockFormat{"q4_0", kindQ4_0, q4_0Values, q4_0Bytes}
	formatQ4_1   = blockFormat{"q4_1", kindQ4_1, 32, q4_1Bytes}
	formatQ5_0   = blockFormat{"q5_0", kindQ5_0, 32, q5_0Bytes}
	formatQ5_1   = blockFormat{"q5_1", kindQ5_1, 32, q5_1Bytes}
	formatIQ4_NL = blockFormat{"iq4_nl", kindIQ4_NL, 32, iq4NLBytes}
	formatQ2_K   = blockFormat{"q2_K", kindQ2_K, qkK, q2KBytes}
	formatQ3_K   = blockFormat{"q3_K", kindQ3_K, qkK, q3KBytes}
	formatQ4_K   = blockFormat{"q4_K", kindQ4_K, qkK, q4KBytes}
	formatQ5_K   = blockFormat{"q5_K", kindQ5_K, qkK, q5KBytes}
	formatQ6_K   = blockFormat{"q6_K", kindQ6_K, qkK, q6KBytes}
	formatIQ4_XS = blockFormat{"iq4_xs", kindIQ4_XS, qkK, iq4XSBytes}

	// blockFormats are the formats by ggml's type name.
	blockFormats = map[string]blockFormat{}
)

func init() {
	for _, f := range []blockFormat{formatQ4_0, formatQ4_1, formatQ5_0, formatQ5_1, formatIQ4_NL,
		formatQ2_K, formatQ3_K, formatQ4_K, formatQ5_K, formatQ6_K, formatIQ4_XS} {
		blockFormats[f.name] = f
	}
}

// decode decodes one block (len(dst) == f.values, len(blk) >= f.bytes).
// A switch, not a function value: the calls stay static, so a caller's
// stack buffer does not escape to the heap.
func (f *blockFormat) decode(dst []float32, blk []byte) {
	switch f.kind {
	case kindQ4_0:
		decodeQ4_0(dst, blk)
	case kindQ4_1:
		decodeQ4_1(dst, blk)
	case kindQ5_0:
		decodeQ5_0(dst, blk)
	case kindQ5_1:
		decodeQ5_1(dst, blk)
	case kindIQ4_NL:
		decodeIQ4_NL(dst, blk)
	case kindQ2_K:
		decodeQ2_K(dst, blk)
	case kindQ3_K:
		decodeQ3_K(dst, blk)
	case kindQ4_K:
		decodeQ4_K(dst, blk)
	case kindQ5_K:
		decodeQ5_K(dst, blk)
	case kindQ6_K:
		decodeQ6_K(dst, blk)
	case kindIQ4_XS:
		decodeIQ4_XS(dst, blk)
	}
}

func decodeQ4_0(dst []float32, blk []byte) {
	d := halfToFloat32(binary.LittleEndian.Uint16(blk))
	qs := blk[2:18]
	dst = dst[:32]
	for j, q := range qs {
		dst[j] = float32(int(q&0x0f)-8) * d
		dst[j+16] = float32(int(q>>4)-8) * d
	}
}

// scaleMinK4 is ggml's get_scale_min_k4: the 6-bit scale and min of
// sub-block j (0..7) from the 12 packed bytes q.
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return (q[j+4] & 0xf) | ((q[j-4] >> 6) << 4), (q[j+4] >> 4) | ((q[j] >> 6) << 4)
}

func decodeQ4_K(dst []float32, blk []byte) {
	d := halfToFloat32(binary.LittleEndian.Uint16(blk))
	dmin := halfToFloat32(binary.LittleEndian.Uint16(blk[2:]))
	scales := blk[4:16]
	q := blk[16 : 16+qkK/2]
	dst = dst[:qkK]
	for j, is := 0, 0; j < qkK; j, is = j+64, is+2 {
		sc, m := scaleMinK4(is, scales)
		d1, m1 := d*float32(sc), dmin*float32(m)
		sc, m = scaleMinK4(is+1, scales)
		d2, m2 := d*float32(sc), dmin*float32(m)
		y := dst[j : j+64]
		for l, v := range q[:32] {
			y[l] = float32(d1*float32(v&0xf)) - m1
			y[l+32] = float32(d2*float32(v>>4)) - m2
		}
		q = q[32:]
	}
}

func decodeQ5_K(dst []float32, blk []byte) {
	d := halfToFloat32(binary.LittleEndian.Uint16(blk))
	dmin := halfToFloat32(binary.LittleEndian.Uint16(blk[2:]))
	scales := blk[4:16]
	qh := blk[16 : 16+qkK/8]
	ql := blk[16+qkK/8 : 16+qkK/8+qkK/2]
	dst = dst[:qkK]
	u1, u2 := uint8(1), uint8(2)
	for j, is := 0, 0; j < qkK; j, is = j+64, is+2 {
		sc, m := scaleMinK4(is, scales)
		d1, m1 := d*float32(sc), dmin*float32(m)
		sc, m = scaleMinK4(is+1, scales)
		d2, m2 := d*float32(sc), dmin*float32(m)
		y := dst[j : j+64]
		for l, v := range ql[:32] {
			lo, hi := v&0xf, v>>4
			if qh[l]&u1 != 0 {
				lo += 16
			}
			if qh[l]&u2 != 0 {
				hi += 16
			}
			y[l] = float32(d1*float32(lo)) - m1
			y[l+32] = float32(d2*float32(hi)) - m2
		}
		ql = ql[32:]
		u1 <<= 2
		u2 <<= 2
	}
}

func decodeQ6_K(dst []float32, blk []byte) {
	ql := blk[:qkK/2]
	qh := blk[qkK/2 : qkK/2+qkK/4]
	sc := blk[qkK/2+qkK/4 : qkK/2+qkK/4+qkK/16]
	d := halfToFloat32(binary.LittleEndian.Uint16(blk[qkK/2+qkK/4+qkK/16:]))
	dst = dst[:qkK]
	for n := 0; n < qkK; n += 128 {
		y := dst[n : n+128]
		for l := range 32 {
			is := l / 16
			h := qh[l]
			q1 := int8(ql[l]&0xf|(h&3)<<4) - 32
			q2 := int8(ql[l+32]&0xf|(h>>2&3)<<4) - 32
			q3 := int8(ql[l]>>4|(h>>4&3)<<4) - 32
			q4 := int8(ql[l+32]>>4|(h>>6&3)<<4) - 32
			y[l] = float32(d*float32(int8(sc[is]))) * float32(q1)
			y[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
			y[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
			y[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
		}
		ql, qh, sc = ql[64:], qh[32:], sc[8:]
	}
}

// dequantize decodes len(dst) values (whole blocks) of format f from raw.
func (f blockFormat) dequantize(dst []float32, raw []byte) error {
	if len(dst)%f.values != 0 {
		return fmt.Errorf("kernels: %s decode of %d values: not a multiple of %d", f.name, len(dst), f.values)
	}
	nb := len(dst) / f.values
	if len(raw) < nb*f.bytes {
		return fmt.Errorf("kernels: %s decode of %d values needs %d bytes, got %d", f.name, len(dst), nb*f.bytes, len(raw))
	}
	for b := range nb {
		f.decode(dst[b*f.values:(b+1)*f.values], raw[b*f.bytes:])
	}
	return nil
}

// BlockFormat reports whether the kernels read ggml's block type of this
// name ("q5_0", "iq4_nl", "q3_K": ggml's spelling) with NewLinearBlocks and
// DequantizeBlocks.
func BlockFormat(name string) bool {
	_, ok := blockFormats[name]
	return ok
}

// DequantizeBlocks decodes len(dst) values (whole blocks) of the ggml
// block type named name, as ggml's dequantize_row_* does.
func DequantizeBlocks(name string, dst []float32, raw []byte) error {
	f, ok := blockFormats[name]
	if !ok {
		return fmt.Errorf("kernels: no decoder for ggml type %q", name)
	}
	return f.dequantize(dst, raw)
}

// NewLinearBlocks computes with a matrix of the ggml block type named
// name (out rows of in/values blocks) read in place: raw must stay valid
// (e.g. mapped) while the Linear is used. Activations meet it as they do
// in llama.cpp: quantized to q8_0 (q5_0, iq4_nl), q8_1 (q4_1, q5_1) or
// q8_K (the K-quants and iq4_xs; q2_K on the float path).
func NewLinearBlocks(name string, raw []byte, out, in int) (Linear, error) {
	f, ok := blockFormats[name]
	if !ok {
		return nil, fmt.Errorf("kernels: no kernel for ggml type %q", name)
	}
	return newLinearBlocks(f, raw, out, in)
}

// DequantizeQ4_0 decodes len(dst) values (a multiple of 32) of ggml q4_0 data.
func DequantizeQ4_0(dst []float32, raw []byte) error { return formatQ4_0.dequantize(dst, raw) }

// DequantizeQ4_K decodes len(dst) values (a multiple of 256) of ggml q4_K data.
func DequantizeQ4_K(dst []float32, raw []byte) error { return formatQ4_K.dequantize(dst, raw) }

// DequantizeQ5_K decodes len(dst) values (a multiple of 256) of ggml q5_K data.
func DequantizeQ5_K(dst []float32, raw []byte) error { return formatQ5_K.dequantize(dst, raw) }

// DequantizeQ6_K decodes len(dst) values (a multiple of 256) of ggml q6_K data.
func DequantizeQ6_K(dst []float32, raw []byte) error { return formatQ6_K.dequantize(dst, raw) }

// linearBlocks keeps W in the file's bytes (a slice of the memory mapping:
// nothing is copied at load) and decodes one panel of 32 output rows per
// task into the task's scratch buffer, which every row of activations then
// reuses, as linearQ8 does.
type linearBlocks struct {
	out, in  int
	f        blockFormat
	raw      []byte
	rowBytes int
}

func (l *linearBlocks) In() int  { return l.in }
func (l *linearBlocks) Out() int { return l.out }

func (l *linearBlocks) Forward(dst, x []float32, rows int) {
	if l.int8Path() {
		l.forwardQ8(dst, x, rows)
		return
	}
	if blocksInt8 && l.f.kind == kindQ2_K {
		// q2_K takes the float path, but its activations are what
		// llama.cpp's int8 products see: rounded through q8_K.
		buf := getScratch(rows * l.in)
		defer scratch.Put(buf)
		roundQ8K(*buf, x, rows, l.in)
		x = *buf
	}
	gemm(dst, x, rows, l.in, l.out, func(p int, buf []float32) ([]float32, int) {
		l.decodePanel(buf, p)
		return buf, panelCols
	})
}

// decodePanel writes panel p k-major into buf (In×32 floats): buf[i*32+j]
// is W[p*32+j][i], zero past Out. It goes block column by block column, so
// the part of buf being written (one block's values × 32) stays in cache.
func (l *linearBlocks) decodePanel(buf []float32, p int) {
	var tmp [qkK]float32
	o0 := p * panelCols
	nc := min(panelCols, l.out-o0)
	if nc < panelCols {
		clear(buf[:l.in*panelCols])
	}
	v, nb := l.f.values, l.in/l.f.values
	for b := range nb {
		out := buf[b*v*panelCols : (b+1)*v*panelCols]
		for j := range nc {
			off := (o0+j)*l.rowBytes + b*l.f.bytes
			l.f.decode(tmp[:v], l.raw[off:off+l.f.bytes])
			for i, x := range tmp[:v] {
				out[i*panelCols+j] = x
			}
		}
	}
}

func newLinearBlocks(f blockFormat, raw []byte, out, in int) (Linear, error) {
	if in%f.values != 0 {
		return nil, fmt.Errorf("kernels: %s matrix of %d×%d: the input size must be a multiple of %d", f.name, out, in, f.values)
	}
	rowBytes := in / f.values * f.bytes
	if err := checkRaw(f.name, raw, out, in, out*rowBytes); err != nil {
		return nil, err
	}
	return &linearBlocks{out: out, in: in, f: f, raw: raw[:out*rowBytes], rowBytes: rowBytes}, nil
}

// NewLinearQ4_0 computes with ggml q4_0 data (per output row, In/32 blocks)
// read in place: raw must stay valid (e.g. mapped) while the Linear is used.
func NewLinearQ4_0(raw []byte, out, in int) (Linear, error) {
	return newLinearBlocks(formatQ4_0, raw, out, in)
}

// NewLinearQ4_K computes with ggml q4_K data (In/256 blocks per output row)
// read in place.
func NewLinearQ4_K(raw []byte, out, in int) (Linear, error) {
	return newLinearBlocks(formatQ4_K, raw, out, in)
}

// NewLinearQ5_K computes with ggml q5_K data read in place.
func NewLinearQ5_K(raw []byte, out, in int) (Linear, error) {
	return newLinearBlocks(formatQ5_K, raw, out, in)
}

// NewLinearQ6_K computes with ggml q6_K data read in place.
func NewLinearQ6_K(raw []byte, out, in int) (Linear, error) {
	return newLinearBlocks(formatQ6_K, raw, out, in)
}

// Footprint reports the memory a Linear holds: heap bytes it allocated
// (packed or repacked weights) and bytes it reads in place from its raw
// data (a file mapping, resident once a pass has touched them).
func Footprint(l Linear) (heap, mapped int64) {
	switch l := l.(type) {
	case *linearF32:
		return int64(4 * len(l.panels)), 0
	case *linearF16:
		return int64(2 * len(l.panels)), 0
	case *linearBF16:
		return int64(4 * len(l.panels)), 0
	case *linearQ8:
		return int64(4*len(l.scales) + len(l.quants)), 0
	case *linearQ8Int8:
		return int64(4*len(l.scales) + len(l.quants)), 0
	case *linearBlocks:
		return 0, int64(len(l.raw))
	}
	return 0, 0
}
