package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// Float16ToFloat32 converts an IEEE 754 half-precision value, subnormals,
// infinities and NaNs included.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: value = mant × 2^-24, exact in float32.
		f := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(f))
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// Float32ToFloat16 converts to half precision rounding to nearest even, as
// the F16C instruction ggml uses does; values too large become infinity.
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // inf or NaN (keep NaN quiet and non-zero)
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal or zero in half precision.
		if e < -10 {
			return sign
		}
		m := mant | 0x800000 // implicit leading one
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, up to infinity: that is correct
	}
	return sign | uint16(r)
}

// BFloat16ToFloat32 converts a bfloat16 value (the top half of a float32).
func BFloat16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// Float32ToBFloat16 rounds to nearest even as ggml_compute_fp32_to_bf16 does.
func Float32ToBFloat16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 { // NaN: force quiet
		return uint16(u>>16) | 64
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// f16Table maps every half-precision bit pattern to float32 (256 KiB),
// built the first time a large f16 tensor is converted.
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = Float16ToFloat32(uint16(i))
	}
	return &t
})

// QuantizeQ8_0 quantizes src to q8_0 blocks exactly as ggml's reference
// quantize_row_q8_0: per block of 32 values, d = max|x|/127 stored as f16
// and q = round(x/d). A last partial block is quantized as if padded with
// zeros, so callers wanting a ggml tensor pass a multiple of 32 values.
func QuantizeQ8_0(src []float32) []byte {
	nb := (len(src) + QK8_0 - 1) / QK8_0
	out := make([]byte, nb*BlockQ8_0Len)
	var block [QK8_0]float32
	for i := range nb {
		clear(block[:])
		copy(block[:], src[i*QK8_0:min(len(src), (i+1)*QK8_0)])
		amax := float32(0)
		for _, x := range block {
			amax = max(amax, abs32(x))
		}
		d := amax / 127
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		o := out[i*BlockQ8_0Len : (i+1)*BlockQ8_0Len]
		binary.LittleEndian.PutUint16(o, Float32ToFloat16(d))
		for j, x := range block {
			o[2+j] = byte(int8(roundAway(x * id)))
		}
	}
	return out
}

// DequantizeQ8_0 expands q8_0 blocks into dst: min(len(dst)/32,
// len(src)/34) whole blocks are converted.
func DequantizeQ8_0(dst []float32, src []byte) {
	nb := min(len(dst)/QK8_0, len(src)/BlockQ8_0Len)
	for i := range nb {
		b := src[i*BlockQ8_0Len : (i+1)*BlockQ8_0Len]
		d := Float16ToFloat32(binary.LittleEndian.Uint16(b))
		out := dst[i*QK8_0 : (i+1)*QK8_0]
		for j := range out {
			out[j] = float32(int8(b[2+j])) * d
		}
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// roundAway rounds half away from zero, like C's roundf.
func roundAway(x float32) float32 { return float32(math.Round(float64(x))) }

// Float32s returns the tensor's values as float32, converting f16, bf16,
// f64 and q8_0. Other types are an error: dfim cannot compute with them.
func (t *TensorInfo) Float32s() ([]float32, error) {
	if !t.Type.Supported() {
		return nil, fmt.Errorf("%s: tensor %q has type %s, which dfim cannot compute with (it reads f32, f16, bf16 and q8_0); convert the model with llama-quantize to q8_0 or f16",
			t.file, t.Name, t.Type)
	}
	n := t.Elements()
	if size, _ := t.Type.RowSize(n); uint64(len(t.Data)) != size {
		return nil, fmt.Errorf("%s: tensor %q has %d bytes of data, want %d (the file was closed, or the tensor was built by hand wrongly)",
			t.file, t.Name, len(t.Data), size)
	}
	out := make([]float32, n)
	src := t.Data
	switch t.Type {
	case TypeF32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case TypeF16:
		tab := f16Table()
		for i := range out {
			out[i] = tab[binary.LittleEndian.Uint16(src[2*i:])]
		}
	case TypeBF16:
		for i := range out {
			out[i] = BFloat16ToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case TypeF64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case TypeQ8_0:
		DequantizeQ8_0(out, src)
	}
	return out, nil
}

// F32View returns the data of an f32 tensor as a []float32 without copying,
// or ok=false when the tensor is not f32 or its bytes are not 4-aligned.
// The view aliases the file: it must not be written, and for a File from
// Open it is valid only until Close. (GGUF is little-endian, as are the
// machines dfim runs on.)
func (t *TensorInfo) F32View() (v []float32, ok bool) {
	if t.Type != TypeF32 || len(t.Data) == 0 || uint64(len(t.Data)) != 4*t.Elements() {
		return nil, false
	}
	p := unsafe.Pointer(unsafe.SliceData(t.Data))
	if uintptr(p)%4 != 0 {
		return nil, false
	}
	return unsafe.Slice((*float32)(p), len(t.Data)/4), true
}
