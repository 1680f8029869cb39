package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"

	"golang.org/x/sys/unix"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// maxDims is ggml's GGML_MAX_DIMS: a tensor has at most four dimensions.
const maxDims = 4

// maxNesting bounds arrays of arrays, so a hostile file cannot recurse deeply.
const maxNesting = 8

// A TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name   string
	Type   Type
	Dims   []uint64 // ne0 first, as GGUF stores them (ne0 is the contiguous one)
	Offset uint64   // from the start of the data section
	// Data holds the exact bytes of the tensor, a slice of the file (or of
	// the mapping, valid until File.Close). It is nil when the type is not
	// known, since then its size is not known either.
	Data []byte

	file string // for messages
}

// A File is a parsed GGUF file.
type File struct {
	Version    uint32
	Path       string // file name used in messages
	Alignment  uint64
	DataOffset uint64 // where the data section starts in the file
	Size       uint64 // file size in bytes
	Tensors    []*TensorInfo

	keys    []string
	kv      map[string]Value
	tensors map[string]*TensorInfo
	mapping []byte // from Open; nil for Parse
}

// Open memory-maps the GGUF file at path read-only and parses it. Tensor
// data stay in the mapping, so opening a large model costs little memory
// until its weights are touched.
// Only a regular file is opened: a named pipe or a device given by mistake
// is refused at once instead of blocking (opening a FIFO waits for a writer)
// or being mapped.
func Open(path string) (*File, error) {
	// O_NONBLOCK: opening a FIFO returns at once, so the check below can
	// refuse it; it changes nothing for a regular file, which is mapped.
	fd, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file; give the path of a .gguf model file", path, fileKind(st.Mode()))
	}
	size := st.Size()
	if size < 24 {
		// Too short to hold a header. A file that does not even start
		// like one is not a model at all (a text file, an HTML error page
		// saved by a failed download); only one that does was cut short.
		head := make([]byte, min(size, int64(len(Magic))))
		if _, err := io.ReadFull(fd, head); err != nil {
			return nil, fmt.Errorf("open model: %w", err)
		}
		if err := checkMagic(path, head); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %d bytes is too short for a GGUF file; the file may be truncated — download it again", path, size)
	}
	if uint64(size) > uint64(math.MaxInt) {
		return nil, fmt.Errorf("%s: %d bytes is too large to map on this machine", path, size)
	}
	data, err := unix.Mmap(int(fd.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: memory-map: %w", path, err)
	}
	f, err := Parse(path, data)
	if err != nil {
		_ = unix.Munmap(data)
		return nil, err
	}
	f.mapping = data
	return f, nil
}

// fileKind names what a file that is not a regular one is, for messages.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// Close releases the mapping made by Open; the Data of its tensors must not
// be used afterwards. It does nothing for a File from Parse.
func (f *File) Close() error {
	if f.mapping == nil {
		return nil
	}
	m := f.mapping
	f.mapping = nil
	for _, t := range f.Tensors {
		t.Data = nil
	}
	if err := unix.Munmap(m); err != nil {
		return fmt.Errorf("%s: unmap: %w", f.Path, err)
	}
	return nil
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	t, ok := f.tensors[name]
	return t, ok
}

// Parse reads a GGUF file held in memory; name is used in messages. The
// tensors' Data alias data.
func Parse(name string, data []byte) (*File, error) {
	d := &decoder{name: name, buf: data}
	f, err := d.file()
	if err != nil {
		return nil, err
	}
	return f, nil
}

// errTruncated marks a read past the end of the buffer; decoder.fail turns
// it into a message saying what was being read.
var errTruncated = errors.New("truncated")

type decoder struct {
	name string
	buf  []byte
	pos  uint64
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{d.name}, args...)...)
}

func (d *decoder) truncated(what string) error {
	return d.errorf("%s at byte %d runs past the end of the file (file size %d); the file may be truncated — download it again",
		what, d.pos, len(d.buf))
}

func (d *decoder) left() uint64 { return uint64(len(d.buf)) - d.pos }

func (d *decoder) bytes(n uint64, what string) ([]byte, error) {
	if n > d.left() {
		return nil, d.truncated(what)
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) u32(what string) (uint32, error) {
	b, err := d.bytes(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64(what string) (uint64, error) {
	b, err := d.bytes(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (d *decoder) str(what string) (string, error) {
	start := d.pos
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > d.left() {
		return "", d.errorf("%s at byte %d claims %d bytes but only %d remain; the file is corrupt or truncated — download it again",
			what, start, n, d.left())
	}
	b, _ := d.bytes(n, what)
	return string(b), nil
}

// checkMagic reports a file whose first bytes (head, at most four) are
// not the start of Magic as not a GGUF file; a head that is a proper
// prefix of Magic passes, since only a truncated GGUF file starts so.
func checkMagic(name string, head []byte) error {
	if len(head) > len(Magic) {
		head = head[:len(Magic)]
	}
	if len(head) == 0 {
		return fmt.Errorf("%s: the file is empty, not a GGUF file; give a .gguf model file", name)
	}
	if string(head) != Magic[:len(head)] {
		// The file's own bytes stay out of the message: the path may come
		// from a client's settings, and any file can be named.
		return fmt.Errorf("%s: not a GGUF model file (it does not start with %q); give a .gguf model file", name, Magic)
	}
	return nil
}

func (d *decoder) file() (*File, error) {
	if err := checkMagic(d.name, d.buf); err != nil {
		return nil, err
	}
	if _, err := d.bytes(4, "magic"); err != nil {
		return nil, err
	}
	version, err := d.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case bits.ReverseBytes32(version) == 2 || bits.ReverseBytes32(version) == 3:
		return nil, d.errorf("big-endian GGUF files are not supported; convert the model on a little-endian machine")
	case version == 1:
		return nil, d.errorf("GGUF version 1 is not supported (llama.cpp dropped it in 2023); convert the model again")
	default:
		return nil, d.errorf("unknown GGUF version %d (dfim reads 2 and 3)", version)
	}
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64("metadata count")
	if err != nil {
		return nil, err
	}
	// A key/value takes at least 13 bytes and a tensor description at
	// least 24: counts beyond that cannot be honest.
	if nKV > d.left()/13 {
		return nil, d.errorf("header claims %d metadata entries, more than the %d-byte file can hold; the file is corrupt", nKV, len(d.buf))
	}
	if nTensors > d.left()/24 {
		return nil, d.errorf("header claims %d tensors, more than the %d-byte file can hold; the file is corrupt or truncated", nTensors, len(d.buf))
	}
	f := &File{
		Version:   version,
		Path:      d.name,
		Alignment: DefaultAlignment,
		Size:      uint64(len(d.buf)),
		kv:        make(map[string]Value, nKV),
		keys:      make([]string, 0, nKV),
		tensors:   make(map[string]*TensorInfo, nTensors),
	}
	for i := range nKV {
		key, err := d.str(fmt.Sprintf("metadata key %d", i))
		if err != nil {
			return nil, err
		}
		if _, dup := f.kv[key]; dup {
			return nil, d.errorf("metadata key %q appears twice; the file is corrupt", key)
		}
		vt, err := d.u32(fmt.Sprintf("type of metadata %q", key))
		if err != nil {
			return nil, err
		}
		v, err := d.value(key, ValueType(vt), 0)
		if err != nil {
			return nil, err
		}
		f.kv[key] = v
		f.keys = append(f.keys, key)
	}
	if v, ok := f.kv["general.alignment"]; ok {
		a, isUint := v.v.(uint64)
		if !isUint || a == 0 || a&(a-1) != 0 || a > 1<<30 {
			return nil, d.errorf("general.alignment is %s; it must be a power of two", v)
		}
		f.Alignment = a
	}
	f.Tensors = make([]*TensorInfo, 0, nTensors)
	for i := range nTensors {
		t, err := d.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		if _, dup := f.tensors[t.Name]; dup {
			return nil, d.errorf("tensor %q appears twice; the file is corrupt", t.Name)
		}
		f.tensors[t.Name] = t
		f.Tensors = append(f.Tensors, t)
	}
	// The data section starts at the next multiple of the alignment.
	start := d.pos
	if r := start % f.Alignment; r != 0 {
		start += f.Alignment - r
	}
	f.DataOffset = start
	for _, t := range f.Tensors {
		if err := f.bindData(d, t); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (d *decoder) tensorInfo(i uint64) (*TensorInfo, error) {
	name, err := d.str(fmt.Sprintf("name of tensor %d", i))
	if err != nil {
		return nil, err
	}
	nd, err := d.u32(fmt.Sprintf("tensor %q dimension count", name))
	if err != nil {
		return nil, err
	}
	if nd > maxDims {
		return nil, d.errorf("tensor %q has %d dimensions; ggml allows at most %d — the file is corrupt", name, nd, maxDims)
	}
	t := &TensorInfo{Name: name, Dims: make([]uint64, nd), file: d.name}
	for j := range t.Dims {
		if t.Dims[j], err = d.u64(fmt.Sprintf("tensor %q dimension %d", name, j)); err != nil {
			return nil, err
		}
	}
	typ, err := d.u32(fmt.Sprintf("tensor %q type", name))
	if err != nil {
		return nil, err
	}
	t.Type = Type(typ)
	if t.Offset, err = d.u64(fmt.Sprintf("tensor %q offset", name)); err != nil {
		return nil, err
	}
	// ggml keeps element counts in int64: larger products are corrupt.
	n := uint64(1)
	for _, dim := range t.Dims {
		hi, lo := bits.Mul64(n, dim)
		if hi != 0 || lo > math.MaxInt64 {
			return nil, d.errorf("tensor %q has dimensions %v whose product overflows; the file is corrupt", name, t.Dims)
		}
		n = lo
	}
	return t, nil
}

// bindData checks a tensor's place in the data section and points its Data
// at it. Unknown types are left without data: the file still opens.
func (f *File) bindData(d *decoder, t *TensorInfo) error {
	if !t.Type.Known() {
		return nil
	}
	if len(t.Dims) > 0 && t.Dims[0]%t.Type.BlockLen() != 0 {
		return d.errorf("tensor %q has %d values per row, not a multiple of %s's block of %d; the file is corrupt",
			t.Name, t.Dims[0], t.Type, t.Type.BlockLen())
	}
	size, ok := t.Type.RowSize(t.Elements())
	if !ok {
		return d.errorf("tensor %q of type %s with dimensions %v has no valid byte size; the file is corrupt", t.Name, t.Type, t.Dims)
	}
	if t.Offset%f.Alignment != 0 {
		return d.errorf("tensor %q data offset %d is not a multiple of the alignment %d; the file is corrupt", t.Name, t.Offset, f.Alignment)
	}
	start, carry1 := bits.Add64(f.DataOffset, t.Offset, 0)
	end, carry2 := bits.Add64(start, size, 0)
	if carry1 != 0 || carry2 != 0 || end > f.Size {
		return d.errorf("tensor %q data runs past the end of the file (offset %d, size %d, file size %d); the file may be truncated — download it again",
			t.Name, f.DataOffset+t.Offset, size, f.Size)
	}
	t.Data = d.buf[start:end:end]
	return nil
}

func (d *decoder) value(key string, vt ValueType, depth int) (Value, error) {
	what := fmt.Sprintf("metadata %q", key)
	switch {
	case vt == ValueString:
		s, err := d.str(what)
		return Value{Type: vt, v: s}, err
	case vt == ValueArray:
		return d.array(key, depth)
	case vt.scalarSize() > 0:
		b, err := d.bytes(uint64(vt.scalarSize()), what)
		if err != nil {
			return Value{}, err
		}
		return Value{Type: vt, v: scalar(vt, b)}, nil
	}
	return Value{}, d.errorf("metadata %q has unknown value type %d; the file is corrupt or from a newer GGUF version", key, uint32(vt))
}

// scalar decodes a fixed-size value held in b (len(b) == vt.scalarSize()).
func scalar(vt ValueType, b []byte) any {
	switch vt {
	case ValueUint8:
		return uint64(b[0])
	case ValueInt8:
		return int64(int8(b[0]))
	case ValueUint16:
		return uint64(binary.LittleEndian.Uint16(b))
	case ValueInt16:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case ValueUint32:
		return uint64(binary.LittleEndian.Uint32(b))
	case ValueInt32:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	case ValueFloat32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case ValueBool:
		return b[0] != 0
	case ValueUint64:
		return binary.LittleEndian.Uint64(b)
	case ValueInt64:
		return int64(binary.LittleEndian.Uint64(b))
	case ValueFloat64:
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return nil
}

func (d *decoder) array(key string, depth int) (Value, error) {
	what := fmt.Sprintf("metadata %q", key)
	if depth >= maxNesting {
		return Value{}, d.errorf("metadata %q nests arrays deeper than %d; the file is corrupt", key, maxNesting)
	}
	et, err := d.u32(what + " element type")
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	start := d.pos
	n, err := d.u64(what + " length")
	if err != nil {
		return Value{}, err
	}
	minSize := uint64(elem.scalarSize())
	switch elem {
	case ValueString:
		minSize = 8
	case ValueArray:
		minSize = 12
	}
	if elem.scalarSize() < 0 {
		return Value{}, d.errorf("metadata %q is an array of unknown value type %d; the file is corrupt", key, et)
	}
	if n > d.left()/minSize {
		return Value{}, d.errorf("metadata %q at byte %d claims %d elements of type %s but only %d bytes remain; the file is corrupt or truncated — download it again",
			key, start, n, elem, d.left())
	}
	v := Value{Type: ValueArray, Elem: elem}
	switch {
	case elem == ValueString:
		a := make([]string, n)
		for i := range a {
			if a[i], err = d.str(what); err != nil {
				return Value{}, err
			}
		}
		v.v = a
	case elem == ValueArray:
		a := make([]Value, n)
		for i := range a {
			if a[i], err = d.array(key, depth+1); err != nil {
				return Value{}, err
			}
		}
		v.v = a
	default:
		size := uint64(elem.scalarSize())
		raw, err := d.bytes(n*size, what)
		if err != nil {
			return Value{}, err
		}
		switch {
		case elem == ValueBool:
			a := make([]bool, n)
			for i := range a {
				a[i] = raw[i] != 0
			}
			v.v = a
		case elem.float():
			a := make([]float64, n)
			for i := range a {
				a[i] = floatAt(elem, raw, i)
			}
			v.v = a
		case elem.signed():
			a := make([]int64, n)
			for i := range a {
				a[i] = intAt(elem, raw, i)
			}
			v.v = a
		case elem.unsigned():
			a := make([]uint64, n)
			for i := range a {
				a[i] = uintAt(elem, raw, i)
			}
			v.v = a
		}
	}
	return v, nil
}

// Elements is the number of values in the tensor (1 for a scalar).
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d // Parse checked that this cannot overflow
	}
	return n
}

// Size is the byte size of the tensor's data, 0 when its type is unknown.
func (t *TensorInfo) Size() uint64 {
	s, _ := t.Type.RowSize(t.Elements())
	return s
}

// intAt, uintAt and floatAt decode element i of a packed numeric array
// without boxing each element in an interface.
func intAt(vt ValueType, raw []byte, i int) int64 {
	switch vt {
	case ValueInt8:
		return int64(int8(raw[i]))
	case ValueInt16:
		return int64(int16(binary.LittleEndian.Uint16(raw[2*i:])))
	case ValueInt32:
		return int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
	}
	return int64(binary.LittleEndian.Uint64(raw[8*i:]))
}

func uintAt(vt ValueType, raw []byte, i int) uint64 {
	switch vt {
	case ValueUint8:
		return uint64(raw[i])
	case ValueUint16:
		return uint64(binary.LittleEndian.Uint16(raw[2*i:]))
	case ValueUint32:
		return uint64(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return binary.LittleEndian.Uint64(raw[8*i:])
}

func floatAt(vt ValueType, raw []byte, i int) float64 {
	if vt == ValueFloat32 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
}
