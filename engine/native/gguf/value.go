package gguf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ValueType is the type tag of a metadata value, numbered as in the GGUF
// specification.
type ValueType uint32

// The GGUF metadata value types.
const (
	ValueUint8   ValueType = 0
	ValueInt8    ValueType = 1
	ValueUint16  ValueType = 2
	ValueInt16   ValueType = 3
	ValueUint32  ValueType = 4
	ValueInt32   ValueType = 5
	ValueFloat32 ValueType = 6
	ValueBool    ValueType = 7
	ValueString  ValueType = 8
	ValueArray   ValueType = 9
	ValueUint64  ValueType = 10
	ValueInt64   ValueType = 11
	ValueFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"}

func (v ValueType) String() string {
	if int(v) < len(valueTypeNames) {
		return valueTypeNames[v]
	}
	return fmt.Sprintf("value_type(%d)", uint32(v))
}

// scalarSize is the encoded size of a fixed-size value type, 0 for string
// and array, -1 for an unknown type.
func (v ValueType) scalarSize() int {
	switch v {
	case ValueUint8, ValueInt8, ValueBool:
		return 1
	case ValueUint16, ValueInt16:
		return 2
	case ValueUint32, ValueInt32, ValueFloat32:
		return 4
	case ValueUint64, ValueInt64, ValueFloat64:
		return 8
	case ValueString, ValueArray:
		return 0
	}
	return -1
}

func (v ValueType) signed() bool {
	return v == ValueInt8 || v == ValueInt16 || v == ValueInt32 || v == ValueInt64
}

func (v ValueType) unsigned() bool {
	return v == ValueUint8 || v == ValueUint16 || v == ValueUint32 || v == ValueUint64
}

func (v ValueType) float() bool { return v == ValueFloat32 || v == ValueFloat64 }

// A Value is one metadata value. Scalars of every integer type are held as
// int64 or uint64, floats as float64; arrays hold their element type and
// a typed slice ([]string, []int64, []uint64, []float64, []bool or []Value
// for arrays of arrays).
type Value struct {
	Type ValueType
	Elem ValueType // element type, for arrays
	v    any
}

// Any returns the value as a Go value: string, int64, uint64, float64, bool,
// or for arrays []string, []int64, []uint64, []float64, []bool, []Value.
func (v Value) Any() any { return v.v }

// Len is the number of elements of an array value, 0 otherwise.
func (v Value) Len() int {
	switch a := v.v.(type) {
	case []string:
		return len(a)
	case []int64:
		return len(a)
	case []uint64:
		return len(a)
	case []float64:
		return len(a)
	case []bool:
		return len(a)
	case []Value:
		return len(a)
	}
	return 0
}

// String formats the value for people: arrays show their type, length and
// first few elements.
func (v Value) String() string {
	if v.Type != ValueArray {
		return formatScalar(v.v)
	}
	const show = 6
	var b strings.Builder
	fmt.Fprintf(&b, "[%s × %d]", v.Elem, v.Len())
	n := min(v.Len(), show)
	if n > 0 {
		b.WriteString(" ")
	}
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		switch a := v.v.(type) {
		case []string:
			b.WriteString(formatScalar(a[i]))
		case []int64:
			b.WriteString(formatScalar(a[i]))
		case []uint64:
			b.WriteString(formatScalar(a[i]))
		case []float64:
			b.WriteString(formatScalar(a[i]))
		case []bool:
			b.WriteString(formatScalar(a[i]))
		case []Value:
			b.WriteString(a[i].String())
		}
	}
	if v.Len() > n {
		b.WriteString(", …")
	}
	return b.String()
}

func formatScalar(x any) string {
	switch x := x.(type) {
	case string:
		if len(x) > 80 {
			x = x[:80] + "…"
		}
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// Get returns the metadata value of key.
func (f *File) Get(key string) (Value, bool) {
	v, ok := f.kv[key]
	return v, ok
}

// Keys returns the metadata keys in file order.
func (f *File) Keys() []string { return f.keys }

// String returns a string value.
func (f *File) String(key string) (string, bool) {
	s, ok := f.kv[key].v.(string)
	return s, ok
}

// Uint returns an integer value of any unsigned type, or of a signed type
// when it is not negative.
func (f *File) Uint(key string) (uint64, bool) {
	switch x := f.kv[key].v.(type) {
	case uint64:
		return x, true
	case int64:
		if x >= 0 {
			return uint64(x), true
		}
	}
	return 0, false
}

// Int returns an integer value of any type that fits in an int64.
func (f *File) Int(key string) (int64, bool) {
	switch x := f.kv[key].v.(type) {
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// Float returns a float value; integer values are converted too, since
// writers differ in how they store e.g. rope frequencies.
func (f *File) Float(key string) (float64, bool) {
	switch x := f.kv[key].v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, bool) {
	b, ok := f.kv[key].v.(bool)
	return b, ok
}

// Strings returns an array of strings. The slice is shared: do not modify it.
func (f *File) Strings(key string) ([]string, bool) {
	s, ok := f.kv[key].v.([]string)
	return s, ok
}

// Ints returns an array of integers of any type (unsigned values above
// MaxInt64 make it fail).
func (f *File) Ints(key string) ([]int64, bool) {
	switch a := f.kv[key].v.(type) {
	case []int64:
		return a, true
	case []uint64:
		out := make([]int64, len(a))
		for i, x := range a {
			if x > math.MaxInt64 {
				return nil, false
			}
			out[i] = int64(x)
		}
		return out, true
	}
	return nil, false
}

// Floats returns an array of floats; integer arrays are converted.
func (f *File) Floats(key string) ([]float64, bool) {
	switch a := f.kv[key].v.(type) {
	case []float64:
		return a, true
	case []int64:
		out := make([]float64, len(a))
		for i, x := range a {
			out[i] = float64(x)
		}
		return out, true
	case []uint64:
		out := make([]float64, len(a))
		for i, x := range a {
			out[i] = float64(x)
		}
		return out, true
	}
	return nil, false
}

// Arch returns general.architecture, or "" when it is missing.
func (f *File) Arch() string {
	s, _ := f.String("general.architecture")
	return s
}
