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

	"github.com/dfim/dfim/engine/native"
	"github.com/dfim/dfim/engine/native/gguf"
)

// A tiny checkpoint: every family's shape at test size, its tensors named
// and laid out as the family publishes them.
type tinyCkpt struct {
	family string
	dtype  string // of the checkpoint's tensors: F32, F16 or BF16
	shards int    // >1 writes model.safetensors.index.json
	qkNorm bool   // per-head RMSNorm of q and k (Qwen3, LLaDA-MoE)
	wide   bool   // a head_dim wider than hidden/heads (Qwen3 0.6B, CoDA)
	bias   bool   // q/k/v biases (Qwen2)
	tied   bool   // no lm_head: the embeddings are the output
	moe    bool
	// dreamon: the tokenizer adds <|expand|> and <|delete|>.
	dreamon bool
}

const (
	tEmbd, tHeads, tKV, tFFN, tLayers, tCtx = 64, 4, 2, 96, 2, 128
	tVocab                                  = 272 // rows of the embedding table, past the tokenizer's 261 tokens
	tExperts, tUsed, tExpertFFN             = 4, 2, 32
)

type stWrite struct {
	name  string
	shape []int
	vals  []float32
}

func (c tinyCkpt) headDim() int {
	if c.wide {
		return 32
	}
	return tEmbd / tHeads
}

// tensors makes random weights under the family's published names.
func (c tinyCkpt) tensors(seed uint64) []stWrite {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []stWrite
	add := func(name string, scale float64, offset float32, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = offset + float32(r.NormFloat64()*scale)
		}
		out = append(out, stWrite{name, shape, v})
	}
	hd := c.headDim()
	mat := func(name string, rows, cols int) { add(name, 1/math.Sqrt(float64(cols)), 0, rows, cols) }
	norm := func(name string, n int) { add(name, 0.1, 1, n) }
	if c.family == "llada" {
		p := "model.transformer."
		add(p+"wte.weight", 1, 0, tVocab, tEmbd)
		for i := range tLayers {
			b := fmt.Sprintf("%sblocks.%d.", p, i)
			norm(b+"attn_norm.weight", tEmbd)
			mat(b+"q_proj.weight", tHeads*hd, tEmbd)
			mat(b+"k_proj.weight", tKV*hd, tEmbd)
			mat(b+"v_proj.weight", tKV*hd, tEmbd)
			mat(b+"attn_out.weight", tEmbd, tHeads*hd)
			norm(b+"ff_norm.weight", tEmbd)
			mat(b+"ff_proj.weight", tFFN, tEmbd)
			mat(b+"up_proj.weight", tFFN, tEmbd)
			mat(b+"ff_out.weight", tEmbd, tFFN)
		}
		norm(p+"ln_f.weight", tEmbd)
		add(p+"ff_out.weight", 0.5, 0, tVocab, tEmbd)
		return out
	}
	add("model.embed_tokens.weight", 1, 0, tVocab, tEmbd)
	for i := range tLayers {
		b := fmt.Sprintf("model.layers.%d.", i)
		norm(b+"input_layernorm.weight", tEmbd)
		mat(b+"self_attn.q_proj.weight", tHeads*hd, tEmbd)
		mat(b+"self_attn.k_proj.weight", tKV*hd, tEmbd)
		mat(b+"self_attn.v_proj.weight", tKV*hd, tEmbd)
		if c.bias {
			add(b+"self_attn.q_proj.bias", 0.2, 0, tHeads*hd)
			add(b+"self_attn.k_proj.bias", 0.2, 0, tKV*hd)
			add(b+"self_attn.v_proj.bias", 0.2, 0, tKV*hd)
		}
		if c.qkNorm {
			norm(b+"self_attn.q_norm.weight", hd)
			norm(b+"self_attn.k_norm.weight", hd)
		}
		mat(b+"self_attn.o_proj.weight", tEmbd, tHeads*hd)
		norm(b+"post_attention_layernorm.weight", tEmbd)
		if c.moe {
			mat(b+"mlp.gate.weight", tExperts, tEmbd)
			for x := range tExperts {
				e := fmt.Sprintf("%smlp.experts.%d.", b, x)
				mat(e+"gate_proj.weight", tExpertFFN, tEmbd)
				mat(e+"up_proj.weight", tExpertFFN, tEmbd)
				mat(e+"down_proj.weight", tEmbd, tExpertFFN)
			}
		} else {
			mat(b+"mlp.gate_proj.weight", tFFN, tEmbd)
			mat(b+"mlp.up_proj.weight", tFFN, tEmbd)
			mat(b+"mlp.down_proj.weight", tEmbd, tFFN)
		}
	}
	norm("model.norm.weight", tEmbd)
	if !c.tied {
		add("lm_head.weight", 0.5, 0, tVocab, tEmbd)
	}
	return out
}

// writeSafetensors writes tensors in dtype as one safetensors file.
func writeSafetensors(t *testing.T, path, dtype string, ts []stWrite) {
	t.Helper()
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var body []byte
	for _, x := range ts {
		start := len(body)
		for _, v := range x.vals {
			switch dtype {
			case "F32":
				body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
			case "F16":
				body = binary.LittleEndian.AppendUint16(body, gguf.Float32ToFloat16(v))
			case "BF16":
				body = binary.LittleEndian.AppendUint16(body, gguf.Float32ToBFloat16(v))
			}
		}
		header[x.name] = map[string]any{"dtype": dtype, "shape": x.shape, "data_offsets": []int{start, len(body)}}
	}
	h, _ := json.Marshal(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), body...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gpt2Bytes is GPT-2's byte-to-unicode table.
func gpt2Bytes() [256]string {
	var t [256]string
	n := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			t[b] = string(rune(b))
		} else {
			t[b] = string(rune(256 + n))
			n++
		}
	}
	return t
}

const (
	idEOS  = 258 // <|endoftext|>
	idMask = 259 // <|mask|>
	idBOS  = 260 // <|beginoftext|>
	// DreamOn's span tokens, in its checkpoints 151667 and 151668.
	idExpand, idDelete = 261, 262
)

// writeTokenizer writes a byte-level BPE tokenizer.json of 261 tokens: the
// bytes, two merges, then the special tokens; with LLaMA 3's split for
// LLaDA, BailingMoE's for LLaDA-MoE and Qwen2's for the rest, merges as
// [left, right] pairs for one.
func writeTokenizer(t *testing.T, dir, family string, dreamon bool) {
	t.Helper()
	voc := map[string]int{}
	for i, s := range gpt2Bytes() {
		voc[s] = i
	}
	sp := gpt2Bytes()[' ']
	voc[sp+"t"] = 256
	voc["he"] = 257
	var merges any = []string{sp + " t", "h e"}
	pattern := qwen2Pattern
	switch family {
	case "llada":
		pattern = llama3Pattern
		merges = [][]string{{sp, "t"}, {"h", "e"}}
	case "llada-moe":
		pattern = bailingPattern
	}
	added := []map[string]any{
		{"id": idEOS, "content": "<|endoftext|>", "special": true},
		{"id": idMask, "content": "<|mask|>", "special": true},
		{"id": idBOS, "content": "<|beginoftext|>", "special": true},
	}
	if dreamon {
		added = append(added, map[string]any{"id": idExpand, "content": "<|expand|>", "special": true},
			map[string]any{"id": idDelete, "content": "<|delete|>", "special": true})
	}
	tj := map[string]any{
		"added_tokens": added,
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]string{"Regex": pattern}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		}},
		"model": map[string]any{"type": "BPE", "vocab": voc, "merges": merges},
	}
	writeJSON(t, filepath.Join(dir, "tokenizer.json"), tj)
	writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{
		"bos_token": "<|beginoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
		"mask_token": map[string]any{"content": "<|mask|>"}, "add_bos_token": false,
	})
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

func (c tinyCkpt) config() map[string]any {
	if c.family == "llada" {
		return map[string]any{"architectures": []string{"LLaDAModelLM"}, "d_model": tEmbd, "n_heads": tHeads, "n_kv_heads": tKV,
			"n_layers": tLayers, "mlp_hidden_size": tFFN, "max_sequence_length": tCtx, "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
			"vocab_size": tVocab, "embedding_size": tVocab, "mask_token_id": idMask, "eos_token_id": idEOS, "pad_token_id": idEOS, "weight_tying": false}
	}
	arch := map[string]string{"dream": "DreamModel", "llada-moe": "LLaDAMoEModelLM", "open-dcoder": "Qwen2ForCausalLM",
		"coda": "CoDALanguageModel", "tiny-a2d": "Qwen3ForCausalLM"}[c.family]
	cfg := map[string]any{"architectures": []string{arch}, "hidden_size": tEmbd, "num_attention_heads": tHeads,
		"num_key_value_heads": tKV, "num_hidden_layers": tLayers, "intermediate_size": tFFN, "max_position_embeddings": tCtx,
		"rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "vocab_size": tVocab, "tie_word_embeddings": c.tied,
		"eos_token_id": idEOS, "pad_token_id": idEOS}
	if c.wide {
		cfg["head_dim"] = c.headDim()
	}
	switch c.family {
	case "dream", "coda", "llada-moe":
		cfg["mask_token_id"] = idMask
	}
	if c.moe {
		cfg["num_experts"], cfg["num_experts_per_tok"], cfg["expert_intermediate_size"] = tExperts, tUsed, tExpertFFN
		cfg["rope_theta"] = 50000.0
	}
	return cfg
}

// write makes the checkpoint folder.
func (c tinyCkpt) write(t *testing.T, dir string) {
	t.Helper()
	ts := c.tensors(uint64(len(c.family)) * 31)
	writeJSON(t, filepath.Join(dir, "config.json"), c.config())
	writeTokenizer(t, dir, c.family, c.dreamon)
	if c.shards <= 1 {
		writeSafetensors(t, filepath.Join(dir, "model.safetensors"), c.dtype, ts)
		return
	}
	weightMap := map[string]string{}
	per := (len(ts) + c.shards - 1) / c.shards
	for s := range c.shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", s+1, c.shards)
		part := ts[s*per : min(len(ts), (s+1)*per)]
		for _, x := range part {
			weightMap[x.name] = name
		}
		writeSafetensors(t, filepath.Join(dir, name), c.dtype, part)
	}
	writeJSON(t, filepath.Join(dir, "model.safetensors.index.json"), map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
}

var tinyFamilies = []tinyCkpt{
	{family: "dream", dtype: "BF16", shards: 2, bias: true},
	{family: "llada", dtype: "F32"},
	{family: "llada-moe", dtype: "BF16", qkNorm: true, moe: true},
	{family: "open-dcoder", dtype: "BF16", bias: true, tied: true},
	{family: "coda", dtype: "BF16", qkNorm: true, wide: true},
	{family: "tiny-a2d", dtype: "F16", qkNorm: true, wide: true, tied: true},
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
		t.Run(c.family, func(t *testing.T) {
			dir := t.TempDir()
			c.write(t, dir)
			want := referenceLogits(t, py, dir, c.family)
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
				if rep.Family != c.family {
					t.Errorf("family %q, want %q", rep.Family, c.family)
				}
				got := dfimLogits(t, dst, rep)
				maxD, agree := compare(t, got, want)
				t.Logf("%s from %s as %s (%s, shift %v, mask %s): max |Δ| %.2g (logits' max |x| %.3g), top-1 agrees on %d/%d positions",
					c.family, c.dtype, rep.Type, rep.Arch, rep.Shift, rep.Mask, maxD, maxAbs(want), agree, len(testTokens))
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
		t.Run(c.family, func(t *testing.T) {
			dir := t.TempDir()
			c.write(t, dir)
			dst := filepath.Join(t.TempDir(), "m.gguf")
			if _, err := Checkpoint(dir, dst, Options{}); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(dst)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			a := c.family
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
				if c.dtype != "BF16" {
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
		t.Run(c.family, func(t *testing.T) {
			dir := t.TempDir()
			c.write(t, dir)
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
			wantBOS := c.family == "llada" // llama.cpp's LLaDA converter sets add_bos_token
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
			writeSafetensors(t, filepath.Join(dir, "model.safetensors"), "F32", append(tinyFamilies[3].tensors(1), stWrite{"vision.proj.weight", []int{2}, []float32{1, 2}}))
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
			tinyFamilies[3].write(t, dir) // open-dcoder: mask from the tokenizer
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
	c.write(t, dir)
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
	c.dreamon = true
	c.write(t, dir)
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
		t.Run(c.family, func(t *testing.T) {
			dir := t.TempDir()
			c.write(t, dir)
			want := referenceLogits(t, py, dir, c.family)
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
				t.Logf("llama.cpp, %s from %s as %s: max |Δ| %.2g, top-1 agrees on %d/%d positions", c.family, c.dtype, rep.Type, maxD, agree, len(testTokens))
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
