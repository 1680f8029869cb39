package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sampleModel builds a small file using every setter and every tensor type
// dfim computes with.
func sampleModel(t testing.TB) ([]byte, map[string][]float32) {
	t.Helper()
	w := NewWriter()
	w.SetString("general.architecture", "llada")
	w.SetUint32("llada.block_count", 2)
	w.SetInt32("tokenizer.ggml.mask_token_id", 7)
	w.SetFloat32("llada.rope.freq_base", 10000)
	w.SetBool("diffusion.shift_logits", false)
	w.SetUint64("big", 1<<40)
	w.SetStrings("tokenizer.ggml.tokens", []string{"a", "b", "Ġc", ""})
	w.SetInt32s("tokenizer.ggml.token_type", []int32{1, 1, 3, -2})
	w.SetFloat32s("scores", []float32{0.5, -1.25})

	rng := rand.New(rand.NewPCG(1, 2))
	vals := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	want := map[string][]float32{}
	f32 := vals(6)
	if err := w.AddF32("f32", []uint64{3, 2}, f32); err != nil {
		t.Fatal(err)
	}
	want["f32"] = f32

	f16 := vals(5)
	b16 := make([]byte, 2*len(f16))
	for i, x := range f16 {
		h := Float32ToFloat16(x)
		binary.LittleEndian.PutUint16(b16[2*i:], h)
		f16[i] = Float16ToFloat32(h)
	}
	if err := w.AddTensor("f16", TypeF16, []uint64{5}, b16); err != nil {
		t.Fatal(err)
	}
	want["f16"] = f16

	bf := vals(4)
	bb := make([]byte, 2*len(bf))
	for i, x := range bf {
		h := Float32ToBFloat16(x)
		binary.LittleEndian.PutUint16(bb[2*i:], h)
		bf[i] = BFloat16ToFloat32(h)
	}
	if err := w.AddTensor("bf16", TypeBF16, []uint64{2, 2}, bb); err != nil {
		t.Fatal(err)
	}
	want["bf16"] = bf

	q := vals(64)
	qb := QuantizeQ8_0(q)
	dq := make([]float32, 64)
	DequantizeQ8_0(dq, qb)
	if err := w.AddTensor("blk.0.attn_q.weight", TypeQ8_0, []uint64{32, 2}, qb); err != nil {
		t.Fatal(err)
	}
	want["blk.0.attn_q.weight"] = dq

	b, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b, want
}

func checkSample(t *testing.T, f *File, want map[string][]float32) {
	t.Helper()
	if f.Version != 3 || f.Alignment != DefaultAlignment || f.Arch() != "llada" {
		t.Errorf("version %d alignment %d arch %q", f.Version, f.Alignment, f.Arch())
	}
	wantKeys := []string{"general.architecture", "llada.block_count", "tokenizer.ggml.mask_token_id",
		"llada.rope.freq_base", "diffusion.shift_logits", "big", "tokenizer.ggml.tokens",
		"tokenizer.ggml.token_type", "scores"}
	if !slices.Equal(f.Keys(), wantKeys) {
		t.Errorf("keys %q, want %q", f.Keys(), wantKeys)
	}
	if v, ok := f.Uint("llada.block_count"); !ok || v != 2 {
		t.Errorf("Uint(block_count) = %d, %v", v, ok)
	}
	if v, ok := f.Uint("tokenizer.ggml.mask_token_id"); !ok || v != 7 {
		t.Errorf("Uint of a positive int32 = %d, %v", v, ok)
	}
	if v, ok := f.Int("big"); !ok || v != 1<<40 {
		t.Errorf("Int(big) = %d, %v", v, ok)
	}
	if v, ok := f.Float("llada.rope.freq_base"); !ok || v != 10000 {
		t.Errorf("Float = %v, %v", v, ok)
	}
	if v, ok := f.Bool("diffusion.shift_logits"); !ok || v {
		t.Errorf("Bool = %v, %v", v, ok)
	}
	if _, ok := f.String("llada.block_count"); ok {
		t.Error("String of an integer key succeeded")
	}
	if v, ok := f.Strings("tokenizer.ggml.tokens"); !ok || !slices.Equal(v, []string{"a", "b", "Ġc", ""}) {
		t.Errorf("Strings = %q, %v", v, ok)
	}
	if v, ok := f.Ints("tokenizer.ggml.token_type"); !ok || !slices.Equal(v, []int64{1, 1, 3, -2}) {
		t.Errorf("Ints = %v, %v", v, ok)
	}
	if v, ok := f.Floats("scores"); !ok || !slices.Equal(v, []float64{0.5, -1.25}) {
		t.Errorf("Floats = %v, %v", v, ok)
	}
	if len(f.Tensors) != len(want) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(want))
	}
	for name, w := range want {
		ti, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("tensor %q missing", name)
		}
		if ti.Offset%f.Alignment != 0 || (f.DataOffset+ti.Offset)%f.Alignment != 0 {
			t.Errorf("%s: offset %d not aligned", name, ti.Offset)
		}
		got, err := ti.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	if ti, _ := f.Tensor("f32"); !slices.Equal(ti.Dims, []uint64{3, 2}) || ti.Elements() != 6 || ti.Size() != 24 {
		t.Errorf("f32 dims %v elements %d size %d", ti.Dims, ti.Elements(), ti.Size())
	}
}

func TestParseRoundTrip(t *testing.T) {
	b, want := sampleModel(t)
	f, err := Parse("sample.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	checkSample(t, f, want)
	ti, _ := f.Tensor("f32")
	if v, ok := ti.F32View(); !ok || !slices.Equal(v, want["f32"]) {
		t.Errorf("F32View = %v, %v", v, ok)
	}
	if _, ok := f.Tensors[1].F32View(); ok {
		t.Error("F32View of an f16 tensor succeeded")
	}
}

func TestOpenMapsFile(t *testing.T) {
	b, want := sampleModel(t)
	path := filepath.Join(t.TempDir(), "model.gguf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSample(t, f, want)
	if f.Path != path || f.Size != uint64(len(b)) {
		t.Errorf("path %q size %d", f.Path, f.Size)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	ti, _ := f.Tensor("f32")
	if _, err := ti.Float32s(); err == nil {
		t.Error("Float32s after Close succeeded")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.gguf")); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Open of a directory: %v", err)
	}
}

// TestShortFilesSayWhatTheyAre: a file too short for a header is "not a
// GGUF file" when its first bytes are not the magic's (a 3-byte text file
// given to --model), and "truncated" only when they are.
func TestShortFilesSayWhatTheyAre(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		data, want, notWant string
	}{
		{"hi\n", "not a GGUF model file", "truncated"},
		{"", "empty, not a GGUF file", "truncated"},
		{"<html><body>404</body>", "not a GGUF model file", "truncated"},
		{"GGU", "too short for a GGUF file; the file may be truncated", "not a GGUF"},
		{"GGUF\x03\x00\x00\x00", "too short for a GGUF file; the file may be truncated", "not a GGUF"},
	} {
		path := filepath.Join(dir, "model.gguf")
		if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.notWant) {
			t.Errorf("Open of %q: %v; want %q", tc.data, err, tc.want)
		}
		_, err = Parse("m.gguf", []byte(tc.data))
		if tc.notWant == "truncated" && (err == nil || !strings.Contains(err.Error(), "not a GGUF")) {
			t.Errorf("Parse of %q: %v; want not a GGUF model file", tc.data, err)
		}
	}
}

func TestTruncatedFilesFail(t *testing.T) {
	b, _ := sampleModel(t)
	f, err := Parse("whole.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	// The padding after the last tensor may go: a cut before its end may not.
	last := f.Tensors[len(f.Tensors)-1]
	dataEnd := int(f.DataOffset + last.Offset + last.Size())
	for n := 0; n < dataEnd; n += 97 {
		_, err := Parse("cut.gguf", b[:n])
		if err == nil {
			t.Fatalf("file cut to %d of %d bytes parsed", n, len(b))
		}
		if !strings.HasPrefix(err.Error(), "cut.gguf: ") {
			t.Errorf("error does not name the file: %v", err)
		}
	}
	// Cut inside the last tensor's data: the message says which and why.
	_, err = Parse("model.gguf", b[:dataEnd-1])
	if err == nil || !strings.Contains(err.Error(), `tensor "blk.0.attn_q.weight" data runs past the end of the file`) ||
		!strings.Contains(err.Error(), "download it again") {
		t.Errorf("error for truncated data: %v", err)
	}
}

// raw builds GGUF bytes by hand, to write what the Writer refuses to.
type raw struct{ bytes.Buffer }

func (r *raw) u32(v uint32) *raw { _ = binary.Write(r, binary.LittleEndian, v); return r }
func (r *raw) u64(v uint64) *raw { _ = binary.Write(r, binary.LittleEndian, v); return r }
func (r *raw) str(s string) *raw { r.u64(uint64(len(s))); r.WriteString(s); return r }
func (r *raw) header(version uint32, tensors, kvs uint64) *raw {
	r.WriteString("GGUF")
	return r.u32(version).u64(tensors).u64(kvs)
}

// tensorFile is a file with one f32 tensor of the given dims and offset,
// and data bytes after the (aligned) header.
func tensorFile(typ Type, dims []uint64, offset uint64, data int) []byte {
	r := new(raw).header(3, 1, 0)
	r.str("w").u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	r.u32(uint32(typ)).u64(offset)
	for r.Len()%DefaultAlignment != 0 {
		r.WriteByte(0)
	}
	r.Write(make([]byte, data))
	return r.Bytes()
}

func TestCorruptFilesFail(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"bad magic", []byte("GGML\x03\x00\x00\x00" + strings.Repeat("\x00", 16)), "not a GGUF model file"},
		{"version 1", new(raw).header(1, 0, 0).Bytes(), "version 1"},
		{"version 9", new(raw).header(9, 0, 0).Bytes(), "unknown GGUF version 9"},
		{"big endian", new(raw).header(3<<24, 0, 0).Bytes(), "big-endian"},
		{"tensor count 2^40", new(raw).header(3, 1<<40, 0).Bytes(), "claims 1099511627776 tensors"},
		{"metadata count 2^62", new(raw).header(3, 0, 1<<62).Bytes(), "metadata entries"},
		{"huge key length", new(raw).header(3, 0, 1).u64(1 << 62).u64(0).u64(0).Bytes(), "claims 4611686018427387904 bytes"},
		{"huge string value", new(raw).header(3, 0, 1).str("k").u32(uint32(ValueString)).u64(math.MaxUint64).Bytes(), `metadata "k"`},
		{"huge array", new(raw).header(3, 0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueUint32)).u64(1 << 61).Bytes(), "claims 2305843009213693952 elements"},
		{"huge string array", new(raw).header(3, 0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueString)).u64(1 << 40).Bytes(), "elements"},
		{"unknown value type", new(raw).header(3, 0, 1).str("k").u32(99).u64(0).Bytes(), "unknown value type 99"},
		{"unknown array type", new(raw).header(3, 0, 1).str("k").u32(uint32(ValueArray)).u32(77).u64(1).Bytes(), "unknown value type 77"},
		{"duplicate key", new(raw).header(3, 0, 2).str("k").u32(uint32(ValueUint32)).u32(0).str("k").u32(uint32(ValueUint32)).u32(0).Bytes(), "appears twice"},
		{"bad alignment", new(raw).header(3, 0, 1).str("general.alignment").u32(uint32(ValueUint32)).u32(48).Bytes(), "power of two"},
		{"five dims", tensorFile(TypeF32, []uint64{1, 1, 1, 1, 1}, 0, 4), "5 dimensions"},
		{"dims overflow", tensorFile(TypeF32, []uint64{1 << 32, 1 << 32}, 0, 4), "overflows"},
		{"dims over int64", tensorFile(TypeF32, []uint64{1 << 63}, 0, 4), "overflows"},
		{"size overflow", tensorFile(TypeF32, []uint64{1 << 62}, 0, 4), "no valid byte size"},
		{"data past end", tensorFile(TypeF32, []uint64{4, 4}, 0, 60), `tensor "w" data runs past the end of the file (offset 96, size 64, file size 156)`},
		{"offset past end", tensorFile(TypeF32, []uint64{1}, math.MaxUint64-31, 4), "runs past the end"},
		{"misaligned offset", tensorFile(TypeF32, []uint64{1}, 4, 8), "not a multiple of the alignment"},
		{"partial q8_0 block", tensorFile(TypeQ8_0, []uint64{33}, 0, 68), "not a multiple of q8_0's block"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.gguf", c.data)
			if err == nil {
				t.Fatal("parsed")
			}
			if !strings.HasPrefix(err.Error(), "bad.gguf: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestUnknownTypesOpenButDoNotRead(t *testing.T) {
	// A known quantization dfim cannot compute with: bounds are checked and
	// data bound, reading fails with advice.
	f, err := Parse("q4.gguf", tensorFile(TypeQ4_K, []uint64{256, 2}, 0, 288))
	if err != nil {
		t.Fatal(err)
	}
	ti := f.Tensors[0]
	if len(ti.Data) != 288 || ti.Type.String() != "q4_K" {
		t.Errorf("q4_K tensor: %d bytes, type %s", len(ti.Data), ti.Type)
	}
	if _, err := ti.Float32s(); err == nil || !strings.Contains(err.Error(), "q4_K") || !strings.Contains(err.Error(), "llama-quantize") {
		t.Errorf("Float32s of q4_K: %v", err)
	}
	// A type number ggml does not define: the file still lists it.
	f, err = Parse("new.gguf", tensorFile(Type(200), []uint64{7}, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if ti := f.Tensors[0]; ti.Data != nil || ti.Type.String() != "type(200)" {
		t.Errorf("unknown type: data %v, name %s", ti.Data, ti.Type)
	}
	if _, err := f.Tensors[0].Float32s(); err == nil {
		t.Error("Float32s of an unknown type succeeded")
	}
}

func TestWriterRejects(t *testing.T) {
	w := NewWriter()
	if err := w.AddF32("x", []uint64{3}, []float32{1, 2}); err == nil {
		t.Error("wrong data length accepted")
	}
	if err := w.AddF32(strings.Repeat("n", 64), []uint64{1}, []float32{1}); err == nil {
		t.Error("64-byte name accepted")
	}
	if err := w.AddTensor("q", TypeQ8_0, []uint64{16}, make([]byte, 17)); err == nil {
		t.Error("partial q8_0 block accepted")
	}
	if err := w.AddF32("x", []uint64{1}, []float32{1}); err != nil {
		t.Fatal(err)
	}
	if err := w.AddF32("x", []uint64{1}, []float32{1}); err == nil {
		t.Error("duplicate tensor accepted")
	}
}

func TestWriterAlignment(t *testing.T) {
	w := NewWriter()
	w.SetUint32("general.alignment", 64)
	for _, name := range []string{"a", "b"} {
		if err := w.AddF32(name, []uint64{3}, []float32{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("a.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 || f.Tensors[1].Offset != 64 {
		t.Errorf("alignment %d data offset %d second tensor at %d", f.Alignment, f.DataOffset, f.Tensors[1].Offset)
	}
	if len(b) != int(f.DataOffset)+128 {
		t.Errorf("file is %d bytes, want %d", len(b), f.DataOffset+128)
	}
}

func TestValueString(t *testing.T) {
	b, _ := sampleModel(t)
	f, err := Parse("s.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"general.architecture":  `"llada"`,
		"tokenizer.ggml.tokens": `[string × 4] "a", "b", "Ġc", ""`,
		"scores":                `[f32 × 2] 0.5, -1.25`,
		"llada.block_count":     `2`,
	} {
		v, _ := f.Get(key)
		if v.String() != want {
			t.Errorf("%s formats as %s, want %s", key, v, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	b, _ := sampleModel(f)
	f.Add(b)
	f.Add(tensorFile(TypeQ4_K, []uint64{256, 2}, 0, 288))
	f.Add(new(raw).header(3, 0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueArray)).u64(1).u32(uint32(ValueUint8)).u64(2).Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.gguf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.gguf: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, k := range file.Keys() {
			v, _ := file.Get(k)
			_ = v.String()
		}
		for _, ti := range file.Tensors {
			if ti.Data != nil && uint64(len(ti.Data)) != ti.Size() {
				t.Fatalf("tensor %q has %d bytes, size %d", ti.Name, len(ti.Data), ti.Size())
			}
			if ti.Elements() < 1<<16 {
				_, _ = ti.Float32s()
			}
		}
	})
}

// TestNotAModelEchoesNoBytes: a file that is not a GGUF model (a client's
// model setting can name any file, say a secrets file) is refused without
// a byte of it in the message, short or long. The error used to quote its
// first four bytes.
func TestNotAModelEchoesNoBytes(t *testing.T) {
	dir := t.TempDir()
	for _, data := range []string{"pw=hunter2-and-more-than-24-bytes-of-secret\n", "pw=1"} {
		path := filepath.Join(dir, "secrets.env")
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if err == nil || !strings.Contains(err.Error(), "not a GGUF model file") || strings.Contains(err.Error(), "pw") {
			t.Errorf("Open of a %d-byte file that is not a model: %v; want \"not a GGUF model file\" and none of its bytes", len(data), err)
		}
		if _, err := Parse(path, []byte(data)); err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("Parse of a %d-byte file that is not a model: %v; want none of its bytes", len(data), err)
		}
	}
}
