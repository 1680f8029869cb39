package convtest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/dfim/dfim/engine/native/gguf"
)

// A Checkpoint is one family's shape at test size.
type Checkpoint struct {
	Family string
	DType  string // of the checkpoint's tensors: F32, F16 or BF16
	Shards int    // >1 writes model.safetensors.index.json
	QKNorm bool   // per-head RMSNorm of q and k (Qwen3, LLaDA-MoE)
	Wide   bool   // a head_dim wider than hidden/heads (Qwen3 0.6B, CoDA)
	Bias   bool   // q/k/v biases (Qwen2)
	Tied   bool   // no lm_head: the embeddings are the output
	MoE    bool
	// DreamOn: the tokenizer adds <|expand|> and <|delete|>.
	DreamOn bool
}

// The tiny shapes.
const (
	Embd, Heads, KV, FFN, Layers, Ctx = 64, 4, 2, 96, 2, 128
	Vocab                             = 272 // rows of the embedding table, past the tokenizer's 261 tokens
	Experts, Used, ExpertFFN          = 4, 2, 32
)

// The special tokens' ids.
const (
	EOS  = 258 // <|endoftext|>
	Mask = 259 // <|mask|>
	BOS  = 260 // <|beginoftext|>
	// DreamOn's span tokens, in its checkpoints 151667 and 151668.
	Expand, Delete = 261, 262
)

// Families are the converter's families at test size, DreamOn last (a
// Dream checkpoint whose tokenizer has the span tokens).
var Families = []Checkpoint{
	{Family: "dream", DType: "BF16", Shards: 2, Bias: true},
	{Family: "llada", DType: "F32"},
	{Family: "llada-moe", DType: "BF16", QKNorm: true, MoE: true},
	{Family: "open-dcoder", DType: "BF16", Bias: true, Tied: true},
	{Family: "coda", DType: "BF16", QKNorm: true, Wide: true},
	{Family: "tiny-a2d", DType: "F16", QKNorm: true, Wide: true, Tied: true},
	{Family: "dream", DType: "BF16", Shards: 2, Bias: true, DreamOn: true},
}

// Name is the family dfim reports for the checkpoint: dreamon for a
// Dream checkpoint with the span tokens.
func (c Checkpoint) Name() string {
	if c.DreamOn {
		return "dreamon"
	}
	return c.Family
}

// A Tensor is one named tensor's shape and values.
type Tensor struct {
	Name  string
	Shape []int
	Vals  []float32
}

// HeadDim is the checkpoint's per-head width.
func (c Checkpoint) HeadDim() int {
	if c.Wide {
		return 32
	}
	return Embd / Heads
}

// Tensors makes random weights under the family's published names.
func (c Checkpoint) Tensors(seed uint64) []Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []Tensor
	add := func(name string, scale float64, offset float32, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = offset + float32(r.NormFloat64()*scale)
		}
		out = append(out, Tensor{name, shape, v})
	}
	hd := c.HeadDim()
	mat := func(name string, rows, cols int) { add(name, 1/math.Sqrt(float64(cols)), 0, rows, cols) }
	norm := func(name string, n int) { add(name, 0.1, 1, n) }
	if c.Family == "llada" {
		p := "model.transformer."
		add(p+"wte.weight", 1, 0, Vocab, Embd)
		for i := range Layers {
			b := fmt.Sprintf("%sblocks.%d.", p, i)
			norm(b+"attn_norm.weight", Embd)
			mat(b+"q_proj.weight", Heads*hd, Embd)
			mat(b+"k_proj.weight", KV*hd, Embd)
			mat(b+"v_proj.weight", KV*hd, Embd)
			mat(b+"attn_out.weight", Embd, Heads*hd)
			norm(b+"ff_norm.weight", Embd)
			mat(b+"ff_proj.weight", FFN, Embd)
			mat(b+"up_proj.weight", FFN, Embd)
			mat(b+"ff_out.weight", Embd, FFN)
		}
		norm(p+"ln_f.weight", Embd)
		add(p+"ff_out.weight", 0.5, 0, Vocab, Embd)
		return out
	}
	add("model.embed_tokens.weight", 1, 0, Vocab, Embd)
	for i := range Layers {
		b := fmt.Sprintf("model.layers.%d.", i)
		norm(b+"input_layernorm.weight", Embd)
		mat(b+"self_attn.q_proj.weight", Heads*hd, Embd)
		mat(b+"self_attn.k_proj.weight", KV*hd, Embd)
		mat(b+"self_attn.v_proj.weight", KV*hd, Embd)
		if c.Bias {
			add(b+"self_attn.q_proj.bias", 0.2, 0, Heads*hd)
			add(b+"self_attn.k_proj.bias", 0.2, 0, KV*hd)
			add(b+"self_attn.v_proj.bias", 0.2, 0, KV*hd)
		}
		if c.QKNorm {
			norm(b+"self_attn.q_norm.weight", hd)
			norm(b+"self_attn.k_norm.weight", hd)
		}
		mat(b+"self_attn.o_proj.weight", Embd, Heads*hd)
		norm(b+"post_attention_layernorm.weight", Embd)
		if c.MoE {
			mat(b+"mlp.gate.weight", Experts, Embd)
			for x := range Experts {
				e := fmt.Sprintf("%smlp.experts.%d.", b, x)
				mat(e+"gate_proj.weight", ExpertFFN, Embd)
				mat(e+"up_proj.weight", ExpertFFN, Embd)
				mat(e+"down_proj.weight", Embd, ExpertFFN)
			}
		} else {
			mat(b+"mlp.gate_proj.weight", FFN, Embd)
			mat(b+"mlp.up_proj.weight", FFN, Embd)
			mat(b+"mlp.down_proj.weight", Embd, FFN)
		}
	}
	norm("model.norm.weight", Embd)
	if !c.Tied {
		add("lm_head.weight", 0.5, 0, Vocab, Embd)
	}
	return out
}

// Safetensors encodes tensors in dtype (F32, F16 or BF16) as one
// safetensors file.
func Safetensors(dtype string, ts []Tensor) []byte {
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var body []byte
	for _, x := range ts {
		start := len(body)
		for _, v := range x.Vals {
			switch dtype {
			case "F32":
				body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
			case "F16":
				body = binary.LittleEndian.AppendUint16(body, gguf.Float32ToFloat16(v))
			case "BF16":
				body = binary.LittleEndian.AppendUint16(body, gguf.Float32ToBFloat16(v))
			default:
				panic("convtest: dtype " + dtype + " is none of F32, F16, BF16")
			}
		}
		header[x.Name] = map[string]any{"dtype": dtype, "shape": x.Shape, "data_offsets": []int{start, len(body)}}
	}
	h, _ := json.Marshal(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), body...)
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

// The pre-tokenizers' split patterns, as the families' tokenizer.json
// files spell them (engine/models/convert recognizes them by their text).
const (
	qwen2Pattern   = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	llama3Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	bailingPattern = `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`
)

// tokenizer returns tokenizer.json and tokenizer_config.json: a
// byte-level BPE of 261 tokens (263 for DreamOn), the bytes, two merges,
// then the special tokens; with LLaMA 3's split for LLaDA, BailingMoE's
// for LLaDA-MoE and Qwen2's for the rest, merges as [left, right] pairs
// for one.
func (c Checkpoint) tokenizer() (tok, cfg any) {
	voc := map[string]int{}
	for i, s := range gpt2Bytes() {
		voc[s] = i
	}
	sp := gpt2Bytes()[' ']
	voc[sp+"t"] = 256
	voc["he"] = 257
	var merges any = []string{sp + " t", "h e"}
	pattern := qwen2Pattern
	switch c.Family {
	case "llada":
		pattern = llama3Pattern
		merges = [][]string{{sp, "t"}, {"h", "e"}}
	case "llada-moe":
		pattern = bailingPattern
	}
	added := []map[string]any{
		{"id": EOS, "content": "<|endoftext|>", "special": true},
		{"id": Mask, "content": "<|mask|>", "special": true},
		{"id": BOS, "content": "<|beginoftext|>", "special": true},
	}
	if c.DreamOn {
		added = append(added, map[string]any{"id": Expand, "content": "<|expand|>", "special": true},
			map[string]any{"id": Delete, "content": "<|delete|>", "special": true})
	}
	tok = map[string]any{
		"added_tokens": added,
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]string{"Regex": pattern}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		}},
		"model": map[string]any{"type": "BPE", "vocab": voc, "merges": merges},
	}
	cfg = map[string]any{
		"bos_token": "<|beginoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
		"mask_token": map[string]any{"content": "<|mask|>"}, "add_bos_token": false,
	}
	return tok, cfg
}

// Config is the checkpoint's config.json.
func (c Checkpoint) Config() map[string]any {
	if c.Family == "llada" {
		return map[string]any{"architectures": []string{"LLaDAModelLM"}, "d_model": Embd, "n_heads": Heads, "n_kv_heads": KV,
			"n_layers": Layers, "mlp_hidden_size": FFN, "max_sequence_length": Ctx, "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
			"vocab_size": Vocab, "embedding_size": Vocab, "mask_token_id": Mask, "eos_token_id": EOS, "pad_token_id": EOS, "weight_tying": false}
	}
	arch := map[string]string{"dream": "DreamModel", "llada-moe": "LLaDAMoEModelLM", "open-dcoder": "Qwen2ForCausalLM",
		"coda": "CoDALanguageModel", "tiny-a2d": "Qwen3ForCausalLM"}[c.Family]
	cfg := map[string]any{"architectures": []string{arch}, "hidden_size": Embd, "num_attention_heads": Heads,
		"num_key_value_heads": KV, "num_hidden_layers": Layers, "intermediate_size": FFN, "max_position_embeddings": Ctx,
		"rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "vocab_size": Vocab, "tie_word_embeddings": c.Tied,
		"eos_token_id": EOS, "pad_token_id": EOS}
	if c.Wide {
		cfg["head_dim"] = c.HeadDim()
	}
	switch c.Family {
	case "dream", "coda", "llada-moe":
		cfg["mask_token_id"] = Mask
	}
	if c.MoE {
		cfg["num_experts"], cfg["num_experts_per_tok"], cfg["expert_intermediate_size"] = Experts, Used, ExpertFFN
		cfg["rope_theta"] = 50000.0
	}
	return cfg
}

// Files returns the checkpoint's files by name, as a Hub repository
// holds them; the weights are the same for the same family.
func (c Checkpoint) Files() map[string][]byte {
	ts := c.Tensors(uint64(len(c.Family)) * 31)
	files := map[string][]byte{}
	tok, tcfg := c.tokenizer()
	files["config.json"] = jsonOf(c.Config())
	files["tokenizer.json"] = jsonOf(tok)
	files["tokenizer_config.json"] = jsonOf(tcfg)
	if c.Shards <= 1 {
		files["model.safetensors"] = Safetensors(c.DType, ts)
		return files
	}
	weightMap := map[string]string{}
	per := (len(ts) + c.Shards - 1) / c.Shards
	for s := range c.Shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", s+1, c.Shards)
		part := ts[s*per : min(len(ts), (s+1)*per)]
		for _, x := range part {
			weightMap[x.Name] = name
		}
		files[name] = Safetensors(c.DType, part)
	}
	files["model.safetensors.index.json"] = jsonOf(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	return files
}

// Write makes the checkpoint folder dir.
func (c Checkpoint) Write(dir string) error {
	for name, data := range c.Files() {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("convtest: writing the %s checkpoint: %w", c.Name(), err)
		}
	}
	return nil
}

func jsonOf(v any) []byte {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		panic(err) // maps of plain values always marshal
	}
	return b
}
