package convert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/models/convert/convtest"
	"github.com/dfim/dfim/engine/native"
	"github.com/dfim/dfim/engine/native/gguf"
)

// The tiny checkpoints (engine/models/convert/convtest): every family's
// shape at test size, its tensors named and laid out as the family
// publishes them.
type tinyCkpt = convtest.Checkpoint

const (
	tVocab, tLayers = convtest.Vocab, convtest.Layers
	idEOS           = convtest.EOS
	idMask          = convtest.Mask
	idBOS           = convtest.BOS
	// DreamOn's span tokens, in its checkpoints 151667 and 151668.
	idExpand, idDelete = convtest.Expand, convtest.Delete
)

// tinyFamilies are the six families; DreamOn is dream with DreamOn set.
var tinyFamilies = convtest.Families[:6]

// writeCkpt makes c's checkpoint folder.
func writeCkpt(t *testing.T, c tinyCkpt, dir string) {
	t.Helper()
	if err := c.Write(dir); err != nil {
		t.Fatal(err)
	}
}

// writeSafetensors writes tensors in dtype as one safetensors file.
func writeSafetensors(t *testing.T, path, dtype string, ts []convtest.Tensor) {
	t.Helper()
	if err := os.WriteFile(path, convtest.Safetensors(dtype, ts), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// python returns the interpreter for the reference, or skips (fails under
// CI=true) when numpy is missing.
func python(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		py = "python3"
	}
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		msg := fmt.Sprintf("the logits parity tests need Python 3 with numpy for the reference forward (Debian: apt install python3-numpy): %s -c 'import numpy': %v", py, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// testTokens is a canvas of the tiny vocabulary: text, masks, the padded
// rows past the tokenizer.
var testTokens = []int32{idBOS, 72, 101, 256, 257, idMask, idMask, idMask, 40, 41, idEOS, 265, 3, idMask}

// TestLogitsParity converts a tiny checkpoint of every family, runs the
// GGUF through dfim's native engine and compares its logits with an
// independent numpy forward of the checkpoint itself. Converted to f32 the
// two must agree to rounding; as published (bf16/f16) and as q8_0, dfim
// rounds the activations to the weights' type as llama.cpp does, so the
// bound is looser and one near-tie may flip.
func TestLogitsParity(t *testing.T) {
	py := python(t)
	for _, c := range tinyFamilies {
		t.Run(c.Family, func(t *testing.T) {
			dir := t.TempDir()
			writeCkpt(t, c, dir)
			want := referenceLogits(t, py, dir, c.Family)
			for _, q := range []struct {
				quant    string
				maxDelta float64
				minAgree int
			}{{"f32", 1e-4, len(testTokens)}, {"", 0.15, len(testTokens) - 1}, {"q8_0", 1, len(testTokens) - 1}} {
				dst := filepath.Join(t.TempDir(), "model.gguf")
				rep, err := Checkpoint(dir, dst, Options{Quant: q.quant})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Family != c.Family {
					t.Errorf("family %q, want %q", rep.Family, c.Family)
				}
				got := dfimLogits(t, dst, rep)
				maxD, agree := compare(t, got, want)
				t.Logf("%s from %s as %s (%s, shift %v, mask %s): max |Δ| %.2g (logits' max |x| %.3g), top-1 agrees on %d/%d positions",
					c.Family, c.DType, rep.Type, rep.Arch, rep.Shift, rep.Mask, maxD, maxAbs(want), agree, len(testTokens))
				if agree < q.minAgree || maxD > q.maxDelta {
					t.Errorf("%s: logits differ from the reference: max |Δ| %.3g (want ≤ %g), top-1 agrees on %d of %d positions (want ≥ %d)",
						rep.Type, maxD, q.maxDelta, agree, len(testTokens), q.minAgree)
				}
			}
		})
	}
}

func dfimLogits(t *testing.T, path string, rep Report) []float32 {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := native.New(path, f, native.Settings{})
	if err != nil {
		f.Close()
		t.Fatal(err)
	}
	defer d.Close()
	m := d.Model()
	if m.Vocab != tVocab || m.Shift != rep.Shift {
		t.Fatalf("dfim loaded vocab %d shift %v, want %d %v", m.Vocab, m.Shift, tVocab, rep.Shift)
	}
	if rep.LlamaCpp && len(m.Warnings) > 0 {
		t.Errorf("a %s file should load in llama.cpp as it is, but dfim warns: %q", rep.Family, m.Warnings)
	}
	got, err := d.Logits(testTokens)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func referenceLogits(t *testing.T, py, dir, family string) []float32 {
	t.Helper()
	var ids []string
	for _, id := range testTokens {
		ids = append(ids, strconv.Itoa(int(id)))
	}
	out := filepath.Join(t.TempDir(), "ref.f32")
	cmd := exec.Command(py, filepath.Join("testdata", "reference.py"), dir, family, strings.Join(ids, ","), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference forward: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	if len(v) != len(testTokens)*tVocab {
		t.Fatalf("reference wrote %d logits, want %d", len(v), len(testTokens)*tVocab)
	}
	return v
}

// compare returns the largest absolute difference and on how many
// positions the argmax agrees.
func compare(t *testing.T, got, want []float32) (float64, int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d logits, reference %d", len(got), len(want))
	}
	maxD, agree := 0.0, 0
	for p := range len(got) / tVocab {
		g, w := got[p*tVocab:(p+1)*tVocab], want[p*tVocab:(p+1)*tVocab]
		for i := range g {
			maxD = max(maxD, math.Abs(float64(g[i]-w[i])))
		}
		if argmax(g) == argmax(w) {
			agree++
		}
	}
	return maxD, agree
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	return m
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// TestLlamaCppLayout checks the converted files against what llama.cpp's
// convert_hf_to_gguf.py writes for the families it knows: tensor names and
// types, and the metadata keys its loader and diffusion CLI read.
func TestLlamaCppLayout(t *testing.T) {
	for _, c := range tinyFamilies[:3] {
		t.Run(c.Family, func(t *testing.T) {
			dir := t.TempDir()
			writeCkpt(t, c, dir)
			dst := filepath.Join(t.TempDir(), "m.gguf")
			if _, err := Checkpoint(dir, dst, Options{}); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(dst)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			a := c.Family
			wantKeys := []string{"general.architecture", a + ".block_count", a + ".context_length", a + ".embedding_length",
				a + ".attention.head_count", a + ".attention.head_count_kv", a + ".rope.freq_base",
				a + ".attention.layer_norm_rms_epsilon", a + ".attention.causal", "general.file_type",
				"tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
				"tokenizer.ggml.merges", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.mask_token_id"}
			switch a {
			case "dream":
				wantKeys = append(wantKeys, a+".feed_forward_length")
			case "llada":
				wantKeys = append(wantKeys, a+".feed_forward_length", a+".vocab_size", a+".rope.dimension_count", "diffusion.shift_logits", "tokenizer.ggml.add_bos_token")
			case "llada-moe":
				wantKeys = append(wantKeys, a+".expert_count", a+".expert_used_count", a+".expert_feed_forward_length", "diffusion.shift_logits")
			}
			for _, k := range wantKeys {
				if _, ok := f.Get(k); !ok {
					t.Errorf("key %s is missing", k)
				}
			}
			if _, ok := f.Get("diffusion.shift_logits"); ok && a == "dream" {
				t.Errorf("dream: llama.cpp's converter writes no diffusion.shift_logits (its CLI shifts by default)")
			}
			if pre, _ := f.String("tokenizer.ggml.pre"); pre != map[string]string{"dream": "qwen2", "llada": "llama-bpe", "llada-moe": "llada-moe"}[a] {
				t.Errorf("tokenizer.ggml.pre %q", pre)
			}
			toks, _ := f.Strings("tokenizer.ggml.tokens")
			types, _ := f.Ints("tokenizer.ggml.token_type")
			if len(toks) != tVocab || toks[tVocab-1] != fmt.Sprintf("[PAD%d]", tVocab-1) || types[tVocab-1] != tokUnused || types[idMask] != tokControl {
				t.Errorf("vocabulary: %d tokens, last %q type %d, mask type %d; want %d, [PAD%d] unused, control", len(toks), toks[len(toks)-1], types[len(types)-1], types[idMask], tVocab, tVocab-1)
			}
			var names []string
			for _, ti := range f.Tensors {
				names = append(names, ti.Name)
				want := gguf.TypeBF16
				if c.DType != "BF16" {
					want = gguf.TypeF16
				}
				if len(ti.Dims) == 1 || strings.HasSuffix(ti.Name, "_norm.weight") || strings.HasSuffix(ti.Name, "gate_inp.weight") {
					want = gguf.TypeF32
				}
				if ti.Type != want {
					t.Errorf("tensor %s is %v, llama.cpp writes %v", ti.Name, ti.Type, want)
				}
			}
			sort.Strings(names)
			blk0 := map[string][]string{
				"dream":     {"attn_k.bias", "attn_k.weight", "attn_norm.weight", "attn_output.weight", "attn_q.bias", "attn_q.weight", "attn_v.bias", "attn_v.weight", "ffn_down.weight", "ffn_gate.weight", "ffn_norm.weight", "ffn_up.weight"},
				"llada":     {"attn_k.weight", "attn_norm.weight", "attn_output.weight", "attn_q.weight", "attn_v.weight", "ffn_down.weight", "ffn_gate.weight", "ffn_norm.weight", "ffn_up.weight"},
				"llada-moe": {"attn_k.weight", "attn_k_norm.weight", "attn_norm.weight", "attn_output.weight", "attn_q.weight", "attn_q_norm.weight", "attn_v.weight", "ffn_down_exps.weight", "ffn_gate_exps.weight", "ffn_gate_inp.weight", "ffn_norm.weight", "ffn_up_exps.weight"},
			}[a]
			var want []string
			for i := range tLayers {
				for _, n := range blk0 {
					want = append(want, fmt.Sprintf("blk.%d.%s", i, n))
				}
			}
			want = append(want, "output.weight", "output_norm.weight", "token_embd.weight")
			sort.Strings(want)
			if !slices.Equal(names, want) {
				t.Errorf("tensors\n got %q\nwant %q", names, want)
			}
		})
	}
}

// TestConvertedTokenizer: the vocabulary, merges (as strings and as pairs)
// and special tokens come through to dfim's tokenizer.
func TestConvertedTokenizer(t *testing.T) {
	for _, c := range []tinyCkpt{tinyFamilies[0], tinyFamilies[1]} {
		t.Run(c.Family, func(t *testing.T) {
			dir := t.TempDir()
			writeCkpt(t, c, dir)
			dst := filepath.Join(t.TempDir(), "m.gguf")
			rep, err := Checkpoint(dir, dst, Options{})
			if err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(dst)
			if err != nil {
				t.Fatal(err)
			}
			d, err := native.New(dst, f, native.Settings{})
			if err != nil {
				f.Close()
				t.Fatal(err)
			}
			defer d.Close()
			if got := d.Tokenizer().Encode(" the"); !slices.Equal(got, []int32{256, 257}) {
				t.Errorf(`Encode(" the") = %v, want [256 257] (the merges "Ġ t" and "h e")`, got)
			}
			if got := d.CanvasTokens("a<|mask|>"); got[len(got)-1] != idMask {
				t.Errorf("CanvasTokens ends %v, want the mask %d", got, idMask)
			}
			wantBOS := c.Family == "llada" // llama.cpp's LLaDA converter sets add_bos_token
			if rep.AddBOS != wantBOS || rep.EOS != "<|endoftext|> (258)" || rep.BOS != "<|beginoftext|> (260)" {
				t.Errorf("report: add BOS %v, EOS %s, BOS %s", rep.AddBOS, rep.EOS, rep.BOS)
			}
		})
	}
}

// TestConvertErrors: what a checkpoint dfim cannot convert is told.
func TestConvertErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(dir string)
		opt  Options
		want string
	}{
		"other quant": {nil, Options{Quant: "q3_K_S"}, "llama-quantize"},
		"unknown arch": {func(dir string) {
			writeJSON(t, filepath.Join(dir, "config.json"), map[string]any{"architectures": []string{"GPT2LMHeadModel"}})
		}, Options{}, "none a diffusion coder dfim converts"},
		"stray tensor": {func(dir string) {
			writeSafetensors(t, filepath.Join(dir, "model.safetensors"), "F32", append(tinyFamilies[3].Tensors(1), convtest.Tensor{Name: "vision.proj.weight", Shape: []int{2}, Vals: []float32{1, 2}}))
		}, Options{}, "tensor vision.proj.weight"},
		"truncated": {func(dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-10], 0o644)
		}, Options{}, "truncated or corrupt"},
		"no mask": {func(dir string) {
			writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{"eos_token": "<|endoftext|>"})
		}, Options{}, "no mask token"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeCkpt(t, tinyFamilies[3], dir) // open-dcoder: mask from the tokenizer
			if tc.edit != nil {
				tc.edit(dir)
			}
			dst := filepath.Join(t.TempDir(), "m.gguf")
			_, err := Checkpoint(dir, dst, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if _, err := os.Stat(dst); err == nil {
				t.Errorf("a failed conversion left %s", dst)
			}
		})
	}
}

// TestKQuants: q4_K and q6_K blocks written here decode, in the native
// engine's kernels, to the matrix they were made from (within each type's
// error), and the ggml block sizes hold.
func TestKQuants(t *testing.T) {
	const out, in = 8, 512
	r := rand.New(rand.NewPCG(3, 4))
	w := make([]float32, out*in)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	w[5] = 0 // a zero and a large value in the first block
	w[6] = 9
	for _, q := range []struct {
		typ    gguf.Type
		data   []byte
		maxRel float64
	}{{gguf.TypeQ4_K, quantizeQ4K(w), 0.12}, {gguf.TypeQ6_K, quantizeQ6K(w), 0.03}} {
		if size, _ := q.typ.RowSize(uint64(len(w))); uint64(len(q.data)) != size {
			t.Fatalf("%v: %d bytes, ggml's blocks take %d", q.typ, len(q.data), size)
		}
		l, err := newKernelLinear(q.typ, q.data, out, in)
		if err != nil {
			t.Fatal(err)
		}
		// Row i of the identity times W^T is column i of W^T: W's values.
		eye := make([]float32, in*in)
		for i := range in {
			eye[i*in+i] = 1
		}
		got := make([]float32, in*out)
		l.Forward(got, eye, in)
		var errSq, sumSq float64
		for o := range out {
			for i := range in {
				d := float64(got[i*out+o] - w[o*in+i])
				errSq += d * d
				sumSq += float64(w[o*in+i]) * float64(w[o*in+i])
			}
		}
		rel := math.Sqrt(errSq / sumSq)
		t.Logf("%v: relative RMS error %.4f", q.typ, rel)
		if rel > q.maxRel {
			t.Errorf("%v: relative RMS error %.4f, want ≤ %g: the blocks do not decode to the matrix", q.typ, rel, q.maxRel)
		}
	}
}

// TestQ4KM: --quant q4_K_M picks llama-quantize's types tensor by tensor;
// the tiny checkpoint's rows of 64 values are not K-quant blocks, so every
// matrix there takes the q8_0 fallback rather than blocks ggml cannot read.
func TestQ4KM(t *testing.T) {
	dir := t.TempDir()
	c := tinyFamilies[0]
	writeCkpt(t, c, dir)
	dst := filepath.Join(t.TempDir(), "m.gguf")
	rep, err := Checkpoint(dir, dst, Options{Quant: "q4_K_M"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ft, _ := f.Uint("general.file_type"); ft != 15 || rep.Type != "q4_K_M" {
		t.Errorf("file type %d (%s), want 15 (LLAMA_FTYPE_MOSTLY_Q4_K_M)", ft, rep.Type)
	}
	for _, ti := range f.Tensors {
		if len(ti.Dims) == 2 && ti.Type != gguf.TypeQ8_0 {
			t.Errorf("%s: %v; rows of 64 values are not K-quant blocks, want the q8_0 fallback", ti.Name, ti.Type)
		}
	}
	cv := &converter{ftype: gguf.TypeQ4_K, mix: true, hasOut: true, hp: hparams{layers: 32}}
	for name, want := range map[string]gguf.Type{
		"output.weight": gguf.TypeQ6_K, "token_embd.weight": gguf.TypeQ4_K, "blk.0.attn_v.weight": gguf.TypeQ6_K,
		"blk.4.attn_v.weight": gguf.TypeQ4_K, "blk.6.ffn_down.weight": gguf.TypeQ6_K, "blk.7.ffn_down.weight": gguf.TypeQ4_K,
		"blk.31.ffn_down_exps.weight": gguf.TypeQ6_K, "blk.9.attn_q.weight": gguf.TypeQ4_K,
	} {
		if got := cv.typeFor(name, []uint64{4096, 4096}); got != want {
			t.Errorf("Q4_K_M %s: %v, llama-quantize writes %v", name, got, want)
		}
	}
	cv.hasOut = false
	if got := cv.typeFor("token_embd.weight", []uint64{4096, 4096}); got != gguf.TypeQ6_K {
		t.Errorf("tied token_embd: %v, want q6_K", got)
	}
}

// TestDreamOn: a DreamModel whose tokenizer has <|expand|> and <|delete|>
// is DreamOn: the same llama.cpp file, with the span tokens and the length
// mode in dfim's keys.
func TestDreamOn(t *testing.T) {
	dir := t.TempDir()
	c := tinyFamilies[0]
	c.DreamOn = true
	writeCkpt(t, c, dir)
	dst := filepath.Join(t.TempDir(), "m.gguf")
	rep, err := Checkpoint(dir, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Family != "dreamon" || rep.Arch != "dream" || !rep.LlamaCpp || rep.LengthMode != "expand-delete" {
		t.Errorf("report %+v, want family dreamon, arch dream, llama.cpp, expand-delete", rep)
	}
	f, err := gguf.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The engine reads the length mode under the same keys.
	if LengthModeKey != native.LengthModeKey || ExpandTokenKey != native.ExpandTokenKey || DeleteTokenKey != native.DeleteTokenKey || rep.LengthMode != native.LengthExpandDelete {
		t.Errorf("keys %s %s %s (mode %s); engine/native reads %s %s %s (mode %s)", LengthModeKey, ExpandTokenKey, DeleteTokenKey, rep.LengthMode,
			native.LengthModeKey, native.ExpandTokenKey, native.DeleteTokenKey, native.LengthExpandDelete)
	}
	fam, _ := f.String(FamilyKey)
	mode, _ := f.String(LengthModeKey)
	e, _ := f.Uint(ExpandTokenKey)
	d, _ := f.Uint(DeleteTokenKey)
	if fam != "dreamon" || mode != "expand-delete" || e != idExpand || d != idDelete {
		t.Errorf("keys: family %q, length mode %q, expand %d, delete %d", fam, mode, e, d)
	}
	types, _ := f.Ints("tokenizer.ggml.token_type")
	if types[idExpand] != tokControl || types[idDelete] != tokControl {
		t.Errorf("span tokens have types %d, %d; want control", types[idExpand], types[idDelete])
	}
}

// TestRunsInLlamaCpp runs the converted files of the families llama.cpp
// knows through llama.cpp itself (the logits probe of
// engine/native/testdata/llamacpp, built by its make.sh) and compares them
// with the reference forward. It needs DFIM_LLAMACPP_LOGITS, the probe's
// path, and is skipped without it: no machine of the test suite builds
// llama.cpp.
func TestRunsInLlamaCpp(t *testing.T) {
	probe := os.Getenv("DFIM_LLAMACPP_LOGITS")
	if probe == "" {
		t.Skip("DFIM_LLAMACPP_LOGITS is not set: build engine/native/testdata/llamacpp/logits.cpp (see make.sh) and point it there")
	}
	py := python(t)
	var ids []string
	for _, id := range testTokens {
		ids = append(ids, strconv.Itoa(int(id)))
	}
	for _, c := range tinyFamilies[:3] {
		t.Run(c.Family, func(t *testing.T) {
			dir := t.TempDir()
			writeCkpt(t, c, dir)
			want := referenceLogits(t, py, dir, c.Family)
			for _, quant := range []string{"f32", ""} {
				dst := filepath.Join(t.TempDir(), "m.gguf")
				rep, err := Checkpoint(dir, dst, Options{Quant: quant})
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(probe, dst, "2", strings.Join(ids, ",")).Output()
				if err != nil {
					t.Fatalf("%s: %v", probe, err)
				}
				var res struct {
					OK       bool   `json:"ok"`
					Error    string `json:"error"`
					Shift    bool   `json:"shift_logits"`
					Canvases []struct {
						Logits [][]float32 `json:"logits"`
					} `json:"canvases"`
				}
				if err := json.Unmarshal(out, &res); err != nil || !res.OK {
					t.Fatalf("llama.cpp refuses the %s file: %v %s", rep.Type, err, res.Error)
				}
				if res.Shift != rep.Shift {
					t.Errorf("llama.cpp shifts %v, the converter says %v", res.Shift, rep.Shift)
				}
				var got []float32
				rows := res.Canvases[0].Logits
				for p := range rows {
					r := p
					if res.Shift && p > 0 {
						r = p - 1
					}
					got = append(got, rows[r]...)
				}
				maxD, agree := compare(t, got, want)
				t.Logf("llama.cpp, %s from %s as %s: max |Δ| %.2g, top-1 agrees on %d/%d positions", c.Family, c.DType, rep.Type, maxD, agree, len(testTokens))
				limit, minAgree := 1e-3, len(testTokens)
				if quant == "" {
					limit, minAgree = 0.15, len(testTokens)-1
				}
				if maxD > limit || agree < minAgree {
					t.Errorf("llama.cpp's logits differ from the reference: max |Δ| %.3g, top-1 %d/%d", maxD, agree, len(testTokens))
				}
			}
		})
	}
}
