package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// A Linear is a weight matrix W (Out×In, row-major: each output row's In
// weights contiguous, GGUF's layout with ne0=In, ne1=Out) applied to rows of
// activations.
type Linear interface {
	In() int
	Out() int
	// Forward computes dst[r*Out+o] = sum_i x[r*In+i] * W[o*In+i] for r < rows.
	Forward(dst, x []float32, rows int)
}

// linearF32 holds W packed into panels: panel p is In×panelCols floats,
// row i holding W[p*32+j][i] for j < 32 (zero past Out).
type linearF32 struct {
	out, in int
	panels  []float32
}

func (l *linearF32) In() int  { return l.in }
func (l *linearF32) Out() int { return l.out }

func (l *linearF32) Forward(dst, x []float32, rows int) {
	size := l.in * panelCols
	gemm(dst, x, rows, l.in, l.out, func(p int, _ []float32) ([]float32, int) {
		return l.panels[p*size : (p+1)*size], panelCols
	})
}

// NewLinearF32 packs w (out×in, row-major) into panels; w is not kept. It
// panics if w is shorter than out*in.
func NewLinearF32(w []float32, out, in int) Linear {
	if out < 0 || in < 0 || len(w) < out*in {
		panic(fmt.Sprintf("kernels: NewLinearF32: %d weights for a %d×%d matrix", len(w), out, in))
	}
	return packF32(out, in, func(o int, row []float32) { copy(row, w[o*in:(o+1)*in]) })
}

// packF32 builds a linearF32 from a function that decodes output row o.
func packF32(out, in int, decodeRow func(o int, row []float32)) *linearF32 {
	np := (out + panelCols - 1) / panelCols
	l := &linearF32{out: out, in: in, panels: make([]float32, np*in*panelCols)}
	row := make([]float32, in)
	for o := 0; o < out; o++ {
		decodeRow(o, row)
		p, j := o/panelCols, o%panelCols
		panel := l.panels[p*in*panelCols : (p+1)*in*panelCols]
		for i, v := range row {
			panel[i*panelCols+j] = v
		}
	}
	return l
}

func checkRaw(kind string, raw []byte, out, in, need int) error {
	if out <= 0 || in <= 0 {
		return fmt.Errorf("kernels: %s matrix of %d×%d: both sizes must be positive", kind, out, in)
	}
	if len(raw) < need {
		return fmt.Errorf("kernels: %s matrix of %d×%d needs %d bytes, got %d (truncated tensor data?)", kind, out, in, need, len(raw))
	}
	return nil
}

// NewLinearF16 packs W, little-endian IEEE half floats, into panels that
// stay half floats (f16.go); raw is not kept.
func NewLinearF16(raw []byte, out, in int) (Linear, error) {
	if err := checkRaw("f16", raw, out, in, 2*out*in); err != nil {
		return nil, err
	}
	return packF16(raw, out, in), nil
}

// NewLinearBF16 decodes W from little-endian bfloat16 into packed float32
// panels. Forward rounds the activations to bfloat16 first, as llama.cpp
// does (bf16 weights meet bf16 activations there): the products are then
// exact, and the same file gives llama.cpp's logits.
func NewLinearBF16(raw []byte, out, in int) (Linear, error) {
	if err := checkRaw("bf16", raw, out, in, 2*out*in); err != nil {
		return nil, err
	}
	return &linearBF16{packF32(out, in, func(o int, row []float32) { BF16ToF32(row, raw[2*o*in:2*(o+1)*in]) })}, nil
}

// linearBF16 is bf16 weights decoded to float32 panels.
type linearBF16 struct{ *linearF32 }

func (l *linearBF16) Forward(dst, x []float32, rows int) {
	buf := getScratch(rows * l.in)
	defer scratch.Put(buf)
	roundActs(*buf, x[:rows*l.in], roundBF16)
	l.linearF32.Forward(dst, *buf, rows)
}

// roundActs sets dst[i] = round(x[i]).
func roundActs(dst, x []float32, round func(float32) float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = round(v)
	}
}

// roundBF16 rounds x to the nearest bfloat16 (ties to even; a NaN stays a
// NaN), as ggml's GGML_FP32_TO_BF16 does.
func roundBF16(x float32) float32 {
	u := math.Float32bits(x)
	if u&0x7fffffff > 0x7f800000 {
		return math.Float32frombits((u | 0x400000) &^ 0xffff)
	}
	return math.Float32frombits((u + 0x7fff + (u>>16)&1) &^ 0xffff)
}

// roundHalf rounds x to the nearest IEEE half float (ties to even, beyond
// the largest half to ±inf, a NaN stays a NaN), as F16C's VCVTPS2PH and so
// ggml's GGML_FP32_TO_FP16 do.
func roundHalf(x float32) float32 { return halfToFloat32(float32ToHalf(x)) }

// q8Block is ggml's q8_0 block: a half-float scale and 32 int8 quants.
const (
	q8BlockLen   = 32
	q8BlockBytes = 2 + q8BlockLen
)

// linearQ8 keeps W quantized, repacked by panel: for panel p, scales holds
// In/32 rows of panelCols float32 scales and quants holds In rows of
// panelCols int8 (k-major like linearF32). Forward dequantizes one panel at
// a time into the task's scratch buffer (In×32 floats, L1/L2-sized) and runs
// the float tile kernel on it, so every row of activations reuses one
// dequantization.
type linearQ8 struct {
	out, in int
	scales  []float32
	quants  []int8
}

func (l *linearQ8) In() int  { return l.in }
func (l *linearQ8) Out() int { return l.out }

func (l *linearQ8) Forward(dst, x []float32, rows int) {
	nb := l.in / q8BlockLen
	gemm(dst, x, rows, l.in, l.out, func(p int, buf []float32) ([]float32, int) {
		q := l.quants[p*l.in*panelCols : (p+1)*l.in*panelCols]
		s := l.scales[p*nb*panelCols : (p+1)*nb*panelCols]
		dequantPanel(buf, q, s, l.in)
		return buf, panelCols
	})
}

// NewLinearQ8_0 repacks ggml q8_0 data (per output row, In/32 blocks of a
// half-float scale and 32 int8) into panels; it stays 8-bit in memory.
// Forward quantizes the activations to q8_0 blocks and computes int8 dot
// products, as llama.cpp does (q8dot.go).
func NewLinearQ8_0(raw []byte, out, in int) (Linear, error) {
	l, err := newLinearQ8Int8(raw, out, in)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// checkQ8 checks a q8_0 matrix of out rows of in values and returns its
// blocks per row.
func checkQ8(raw []byte, out, in int) (blocks int, err error) {
	if in%q8BlockLen != 0 {
		return 0, fmt.Errorf("kernels: q8_0 matrix of %d×%d: the input size must be a multiple of %d", out, in, q8BlockLen)
	}
	nb := in / q8BlockLen
	return nb, checkRaw("q8_0", raw, out, in, out*nb*q8BlockBytes)
}

// newLinearQ8Float is the float path of q8_0 weights: activations stay
// float32, each panel is dequantized for the float tile kernel. It is
// what NewLinearQ8_0 built before the int8 path, kept to compare with.
func newLinearQ8Float(raw []byte, out, in int) (Linear, error) {
	nb, err := checkQ8(raw, out, in)
	if err != nil {
		return nil, err
	}
	np := (out + panelCols - 1) / panelCols
	l := &linearQ8{
		out: out, in: in,
		scales: make([]float32, np*nb*panelCols),
		quants: make([]int8, np*in*panelCols),
	}
	for o := 0; o < out; o++ {
		p, j := o/panelCols, o%panelCols
		q := l.quants[p*in*panelCols : (p+1)*in*panelCols]
		s := l.scales[p*nb*panelCols : (p+1)*nb*panelCols]
		row := raw[o*nb*q8BlockBytes : (o+1)*nb*q8BlockBytes]
		for b := 0; b < nb; b++ {
			blk := row[b*q8BlockBytes : (b+1)*q8BlockBytes]
			s[b*panelCols+j] = halfToFloat32(binary.LittleEndian.Uint16(blk))
			for i, v := range blk[2:] {
				q[(b*q8BlockLen+i)*panelCols+j] = int8(v)
			}
		}
	}
	return l, nil
}

// DequantizeQ8_0 decodes len(dst) values (a multiple of 32) of ggml q8_0
// data, e.g. one row of a quantized embedding table.
func DequantizeQ8_0(dst []float32, raw []byte) error {
	if len(dst)%q8BlockLen != 0 {
		return fmt.Errorf("kernels: q8_0 decode of %d values: not a multiple of %d", len(dst), q8BlockLen)
	}
	nb := len(dst) / q8BlockLen
	if len(raw) < nb*q8BlockBytes {
		return fmt.Errorf("kernels: q8_0 decode of %d values needs %d bytes, got %d", len(dst), nb*q8BlockBytes, len(raw))
	}
	for b := 0; b < nb; b++ {
		blk := raw[b*q8BlockBytes : (b+1)*q8BlockBytes]
		d := halfToFloat32(binary.LittleEndian.Uint16(blk))
		out := dst[b*q8BlockLen : (b+1)*q8BlockLen]
		for i, v := range blk[2:] {
			out[i] = float32(int8(v)) * d
		}
	}
	return nil
}

// F16ToF32 decodes len(dst) little-endian IEEE half floats from raw.
func F16ToF32(dst []float32, raw []byte) {
	raw = raw[:2*len(dst)]
	for i := range dst {
		dst[i] = halfToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
	}
}

// BF16ToF32 decodes len(dst) little-endian bfloat16 values from raw.
func BF16ToF32(dst []float32, raw []byte) {
	raw = raw[:2*len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
	}
}

func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0: // zero or subnormal: mant × 2⁻²⁴
		f := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(f) | sign)
	case 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}
