package native

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/kernels"
)

// embedding is token_embd kept in its file type: a canvas looks up a few
// hundred rows, so dequantizing all of a 150k-row table would waste memory.
type embedding struct {
	typ    gguf.Type
	raw    []byte
	rows   int
	cols   int
	stride int // bytes per row
}

func newEmbedding(name string, t *gguf.TensorInfo, rows, cols int) (*embedding, error) {
	e := &embedding{typ: t.Type, raw: t.Data, rows: rows, cols: cols}
	switch t.Type {
	case gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K,
		gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeIQ4_NL, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeIQ4_XS:
		n, ok := t.Type.RowSize(uint64(cols))
		if !ok {
			return nil, fmt.Errorf("%s: tensor %s: %v rows of %d values are not whole blocks of %d", name, t.Name, t.Type, cols, t.Type.BlockLen())
		}
		e.stride = int(n)
	default:
		return nil, unsupportedType(name, t)
	}
	if len(t.Data) != rows*e.stride {
		return nil, fmt.Errorf("%s: tensor %s holds %d bytes, want %d for %d×%d %v", name, t.Name, len(t.Data), rows*e.stride, rows, cols, t.Type)
	}
	return e, nil
}

// row writes token id's embedding into dst (len cols). Ids outside the
// table get zeros; the denoiser never produces them.
func (e *embedding) row(dst []float32, id int32) {
	if id < 0 || int(id) >= e.rows {
		clear(dst)
		return
	}
	b := e.raw[int(id)*e.stride : (int(id)+1)*e.stride]
	switch e.typ {
	case gguf.TypeF32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case gguf.TypeF16:
		for i := range dst {
			dst[i] = gguf.Float16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case gguf.TypeBF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	case gguf.TypeQ4_0:
		kernels.DequantizeQ4_0(dst, b)
	case gguf.TypeQ4_K:
		kernels.DequantizeQ4_K(dst, b)
	case gguf.TypeQ5_K:
		kernels.DequantizeQ5_K(dst, b)
	case gguf.TypeQ6_K:
		kernels.DequantizeQ6_K(dst, b)
	case gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeIQ4_NL, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeIQ4_XS:
		kernels.DequantizeBlocks(e.typ.String(), dst, b)
	case gguf.TypeQ8_0:
		for blk := 0; blk < e.cols/gguf.QK8_0; blk++ {
			q := b[blk*gguf.BlockQ8_0Len:]
			d := gguf.Float16ToFloat32(binary.LittleEndian.Uint16(q))
			for j := range gguf.QK8_0 {
				dst[blk*gguf.QK8_0+j] = d * float32(int8(q[2+j]))
			}
		}
	}
}

// unsupportedType is the error for a tensor whose type the engine does not
// compute with (IQ1–IQ3, the ternary and FP4 types, q1_0, q2_0, integers).
func unsupportedType(name string, t *gguf.TensorInfo) error {
	return fmt.Errorf("%s: tensor %s has type %v, which the native engine does not compute with (it computes with %s); "+
		"use a file that llama-quantize wrote with one of its Q8_0, Q6_K, Q5_K_M, Q5_K_S, Q4_K_M, Q4_K_S, Q3_K_L/M/S, Q2_K, "+
		"Q5_1, Q5_0, Q4_1, Q4_0, IQ4_NL or IQ4_XS recipes, which use only those types",
		name, t.Name, t.Type, computedTypes)
}
