package gguf

import "fmt"

// Type is a ggml tensor type, numbered as in ggml.h.
type Type uint32

// The ggml tensor types. dfim computes with F32, F16, BF16 and Q8_0, and
// with the block types engine/native/kernels decodes: Q4_0, Q4_1, Q5_0,
// Q5_1, IQ4_NL, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS (every type of
// llama-quantize's legacy, K-quant and IQ4 recipes, and its fallbacks for
// rows that are not whole 256-blocks); the others are known by size only,
// so files using them can still be listed.
const (
	TypeF32     Type = 0
	TypeF16     Type = 1
	TypeQ4_0    Type = 2
	TypeQ4_1    Type = 3
	TypeQ5_0    Type = 6
	TypeQ5_1    Type = 7
	TypeQ8_0    Type = 8
	TypeQ8_1    Type = 9
	TypeQ2_K    Type = 10
	TypeQ3_K    Type = 11
	TypeQ4_K    Type = 12
	TypeQ5_K    Type = 13
	TypeQ6_K    Type = 14
	TypeQ8_K    Type = 15
	TypeIQ2_XXS Type = 16
	TypeIQ2_XS  Type = 17
	TypeIQ3_XXS Type = 18
	TypeIQ1_S   Type = 19
	TypeIQ4_NL  Type = 20
	TypeIQ3_S   Type = 21
	TypeIQ2_S   Type = 22
	TypeIQ4_XS  Type = 23
	TypeI8      Type = 24
	TypeI16     Type = 25
	TypeI32     Type = 26
	TypeI64     Type = 27
	TypeF64     Type = 28
	TypeIQ1_M   Type = 29
	TypeBF16    Type = 30
	TypeTQ1_0   Type = 34
	TypeTQ2_0   Type = 35
	TypeMXFP4   Type = 39
	TypeNVFP4   Type = 40
	TypeQ1_0    Type = 41
	TypeQ2_0    Type = 42
)

// QK8_0 is the number of values in one q8_0 block; a block is an fp16 scale
// followed by QK8_0 int8 quants (34 bytes).
const (
	QK8_0        = 32
	BlockQ8_0Len = 2 + QK8_0
)

type typeTraits struct {
	name      string
	blockLen  uint64 // values per block
	blockSize uint64 // bytes per block
}

var traits = map[Type]typeTraits{
	TypeF32:     {"f32", 1, 4},
	TypeF16:     {"f16", 1, 2},
	TypeQ4_0:    {"q4_0", 32, 18},
	TypeQ4_1:    {"q4_1", 32, 20},
	TypeQ5_0:    {"q5_0", 32, 22},
	TypeQ5_1:    {"q5_1", 32, 24},
	TypeQ8_0:    {"q8_0", QK8_0, BlockQ8_0Len},
	TypeQ8_1:    {"q8_1", 32, 36},
	TypeQ2_K:    {"q2_K", 256, 84},
	TypeQ3_K:    {"q3_K", 256, 110},
	TypeQ4_K:    {"q4_K", 256, 144},
	TypeQ5_K:    {"q5_K", 256, 176},
	TypeQ6_K:    {"q6_K", 256, 210},
	TypeQ8_K:    {"q8_K", 256, 292},
	TypeIQ2_XXS: {"iq2_xxs", 256, 66},
	TypeIQ2_XS:  {"iq2_xs", 256, 74},
	TypeIQ3_XXS: {"iq3_xxs", 256, 98},
	TypeIQ1_S:   {"iq1_s", 256, 50},
	TypeIQ4_NL:  {"iq4_nl", 32, 18},
	TypeIQ3_S:   {"iq3_s", 256, 110},
	TypeIQ2_S:   {"iq2_s", 256, 82},
	TypeIQ4_XS:  {"iq4_xs", 256, 136},
	TypeI8:      {"i8", 1, 1},
	TypeI16:     {"i16", 1, 2},
	TypeI32:     {"i32", 1, 4},
	TypeI64:     {"i64", 1, 8},
	TypeF64:     {"f64", 1, 8},
	TypeIQ1_M:   {"iq1_m", 256, 56},
	TypeBF16:    {"bf16", 1, 2},
	TypeTQ1_0:   {"tq1_0", 256, 54},
	TypeTQ2_0:   {"tq2_0", 256, 66},
	TypeMXFP4:   {"mxfp4", 32, 17},
	TypeNVFP4:   {"nvfp4", 64, 36},
	TypeQ1_0:    {"q1_0", 128, 18},
	TypeQ2_0:    {"q2_0", 64, 18},
}

// String is ggml's name for the type ("f32", "q8_0", "q4_K"), or
// "type(N)" for a number ggml does not define.
func (t Type) String() string {
	if tr, ok := traits[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether the byte size of tensors of this type is known.
func (t Type) Known() bool {
	_, ok := traits[t]
	return ok
}

// Supported reports whether Float32s can read tensors of this type.
func (t Type) Supported() bool {
	switch t {
	case TypeF32, TypeF16, TypeBF16, TypeQ8_0, TypeF64:
		return true
	}
	return false
}

// BlockLen is the number of values in one block of the type (1 for plain
// types), or 0 when the type is unknown.
func (t Type) BlockLen() uint64 { return traits[t].blockLen }

// BlockSize is the byte size of one block of the type, or 0 when unknown.
func (t Type) BlockSize() uint64 { return traits[t].blockSize }

// RowSize returns the bytes taken by n values of type t, and false when the
// type is unknown, n is not a whole number of blocks, or the size overflows.
func (t Type) RowSize(n uint64) (uint64, bool) {
	tr, ok := traits[t]
	if !ok || n%tr.blockLen != 0 {
		return 0, false
	}
	blocks := n / tr.blockLen
	if blocks != 0 && tr.blockSize > ^uint64(0)/blocks {
		return 0, false
	}
	return blocks * tr.blockSize, true
}
