package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// A Writer builds a GGUF v3 file in memory: metadata in the order set,
// then tensors in the order added. Go tests use it to make tiny models;
// train/ has its own writer in Python for the built-in model.
type Writer struct {
	keys    []string
	kv      map[string]wvalue
	tensors []wtensor
	names   map[string]bool
}

type wvalue struct {
	typ  ValueType
	elem ValueType
	v    any
}

type wtensor struct {
	name string
	typ  Type
	dims []uint64
	data []byte
}

// maxTensorName is ggml's GGML_MAX_NAME less the terminating NUL: llama.cpp
// refuses longer tensor names.
const maxTensorName = 63

// NewWriter returns an empty Writer.
func NewWriter() *Writer {
	return &Writer{kv: map[string]wvalue{}, names: map[string]bool{}}
}

// set stores a value; setting a key again replaces the value in place.
func (w *Writer) set(key string, v wvalue) {
	if _, ok := w.kv[key]; !ok {
		w.keys = append(w.keys, key)
	}
	w.kv[key] = v
}

// SetString sets a string value.
func (w *Writer) SetString(key, v string) { w.set(key, wvalue{typ: ValueString, v: v}) }

// SetUint32 sets a uint32 value.
func (w *Writer) SetUint32(key string, v uint32) { w.set(key, wvalue{typ: ValueUint32, v: v}) }

// SetInt32 sets an int32 value.
func (w *Writer) SetInt32(key string, v int32) { w.set(key, wvalue{typ: ValueInt32, v: v}) }

// SetUint64 sets a uint64 value.
func (w *Writer) SetUint64(key string, v uint64) { w.set(key, wvalue{typ: ValueUint64, v: v}) }

// SetFloat32 sets a float32 value.
func (w *Writer) SetFloat32(key string, v float32) { w.set(key, wvalue{typ: ValueFloat32, v: v}) }

// SetBool sets a bool value.
func (w *Writer) SetBool(key string, v bool) { w.set(key, wvalue{typ: ValueBool, v: v}) }

// SetStrings sets an array of strings.
func (w *Writer) SetStrings(key string, v []string) {
	w.set(key, wvalue{typ: ValueArray, elem: ValueString, v: v})
}

// SetInt32s sets an array of int32.
func (w *Writer) SetInt32s(key string, v []int32) {
	w.set(key, wvalue{typ: ValueArray, elem: ValueInt32, v: v})
}

// SetFloat32s sets an array of float32.
func (w *Writer) SetFloat32s(key string, v []float32) {
	w.set(key, wvalue{typ: ValueArray, elem: ValueFloat32, v: v})
}

// AddTensor adds a tensor whose data are already encoded in typ. dims are
// ne0 first. The data length must match the type and dimensions.
func (w *Writer) AddTensor(name string, typ Type, dims []uint64, data []byte) error {
	if name == "" || len(name) > maxTensorName {
		return fmt.Errorf("gguf writer: tensor name %q must be 1 to %d bytes long (llama.cpp's limit)", name, maxTensorName)
	}
	if w.names[name] {
		return fmt.Errorf("gguf writer: tensor %q added twice", name)
	}
	if len(dims) > maxDims {
		return fmt.Errorf("gguf writer: tensor %q has %d dimensions, ggml allows %d", name, len(dims), maxDims)
	}
	if !typ.Known() {
		return fmt.Errorf("gguf writer: tensor %q has unknown type %s", name, typ)
	}
	n := uint64(1)
	for _, d := range dims {
		if d != 0 && n > math.MaxInt64/d {
			return fmt.Errorf("gguf writer: tensor %q dimensions %v overflow", name, dims)
		}
		n *= d
	}
	if len(dims) > 0 && dims[0]%typ.BlockLen() != 0 {
		return fmt.Errorf("gguf writer: tensor %q: ne0=%d is not a multiple of %s's block of %d", name, dims[0], typ, typ.BlockLen())
	}
	size, ok := typ.RowSize(n)
	if !ok || uint64(len(data)) != size {
		return fmt.Errorf("gguf writer: tensor %q of type %s and dimensions %v needs %d bytes, got %d", name, typ, dims, size, len(data))
	}
	w.names[name] = true
	w.tensors = append(w.tensors, wtensor{name, typ, append([]uint64(nil), dims...), data})
	return nil
}

// AddF32 adds a float32 tensor.
func (w *Writer) AddF32(name string, dims []uint64, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return w.AddTensor(name, TypeF32, dims, b)
}

// alignment is general.alignment when set as a uint32, else the default.
func (w *Writer) alignment() uint64 {
	if v, ok := w.kv["general.alignment"]; ok && v.typ == ValueUint32 {
		if a := uint64(v.v.(uint32)); a != 0 && a&(a-1) == 0 {
			return a
		}
	}
	return DefaultAlignment
}

// WriteTo writes the file. Tensor data are laid out back to back, each
// padded to the alignment, as llama.cpp expects.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	cw := &countWriter{w: bufio.NewWriter(out)}
	align := w.alignment()
	cw.write([]byte(Magic))
	cw.u32(3)
	cw.u64(uint64(len(w.tensors)))
	cw.u64(uint64(len(w.keys)))
	for _, k := range w.keys {
		cw.str(k)
		v := w.kv[k]
		cw.u32(uint32(v.typ))
		cw.value(v)
	}
	offset := uint64(0)
	for _, t := range w.tensors {
		cw.str(t.name)
		cw.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			cw.u64(d)
		}
		cw.u32(uint32(t.typ))
		cw.u64(offset)
		offset += pad(uint64(len(t.data)), align)
	}
	cw.zeros(pad(uint64(cw.n), align) - uint64(cw.n))
	for _, t := range w.tensors {
		cw.write(t.data)
		cw.zeros(pad(uint64(len(t.data)), align) - uint64(len(t.data)))
	}
	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	return cw.n, cw.err
}

func pad(n, align uint64) uint64 { return (n + align - 1) / align * align }

type countWriter struct {
	w   *bufio.Writer
	n   int64
	err error
	buf [8]byte
}

func (c *countWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *countWriter) zeros(n uint64) {
	var z [64]byte
	for n > 0 {
		k := min(n, uint64(len(z)))
		c.write(z[:k])
		n -= k
	}
}

func (c *countWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(c.buf[:], v)
	c.write(c.buf[:4])
}

func (c *countWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(c.buf[:], v)
	c.write(c.buf[:8])
}

func (c *countWriter) str(s string) {
	c.u64(uint64(len(s)))
	c.write([]byte(s))
}

func (c *countWriter) value(v wvalue) {
	switch x := v.v.(type) {
	case string:
		c.str(x)
	case uint32:
		c.u32(x)
	case int32:
		c.u32(uint32(x))
	case uint64:
		c.u64(x)
	case float32:
		c.u32(math.Float32bits(x))
	case bool:
		b := byte(0)
		if x {
			b = 1
		}
		c.write([]byte{b})
	case []string:
		c.u32(uint32(ValueString))
		c.u64(uint64(len(x)))
		for _, s := range x {
			c.str(s)
		}
	case []int32:
		c.u32(uint32(ValueInt32))
		c.u64(uint64(len(x)))
		for _, i := range x {
			c.u32(uint32(i))
		}
	case []float32:
		c.u32(uint32(ValueFloat32))
		c.u64(uint64(len(x)))
		for _, f := range x {
			c.u32(math.Float32bits(f))
		}
	}
}

// Bytes returns the file as one byte slice.
func (w *Writer) Bytes() ([]byte, error) {
	var b bytesBuffer
	_, err := w.WriteTo(&b)
	return b, err
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}
