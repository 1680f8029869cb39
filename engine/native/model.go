package native

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/kernels"
)

// Hparams are a model's hyper-parameters, read from the GGUF keys that
// llama.cpp writes ({arch}.block_count and so on).
type Hparams struct {
	Arch     string
	Context  int // context_length: the most positions a canvas may hold
	Embd     int // embedding_length
	Layers   int // block_count
	FFN      int // feed_forward_length
	Heads    int // attention.head_count
	KVHeads  int // attention.head_count_kv (grouped-query attention)
	HeadDim  int // attention.key_length, or Embd/Heads
	Vocab    int // rows of token_embd
	Eps      float32
	RopeBase float32
	// Neox selects RoPE that rotates the two halves of a head (Qwen2, Dream)
	// rather than adjacent pairs (LLaMA, LLaDA).
	Neox bool
	// Shift: the logits for position i come from the hidden state at i-1
	// (Dream, initialised from an autoregressive model); diffusion.shift_logits,
	// true when the key is absent, as in llama.cpp's diffusion CLI.
	Shift bool
	// Experts, ExpertsUsed and ExpertFFN describe a mixture-of-experts
	// feed-forward (llada-moe): each position's router picks ExpertsUsed of
	// Experts, each ExpertFFN wide. Zero for a dense model.
	Experts, ExpertsUsed, ExpertFFN int
}

// archSpec is what differs between the supported architectures.
type archSpec struct {
	neox bool
	// moe: the feed-forward is a mixture of experts (ffn_gate_inp and
	// ffn_{gate,up,down}_exps) instead of one ffn_{gate,up,down}.
	moe bool
	// outputBias: blk.N.attn_output.bias is added after the attention
	// projection. llama.cpp loads it for llada but its graph leaves it out
	// (build_attn gets NULL), so dfim does the same.
	outputBias bool
	// llamaCpp is every tensor llama.cpp's loader creates for the
	// architecture (llama_model_<arch>::load_arch_tensors), per layer names
	// after "blk.N.", with whether its graph ignores it. A tensor not listed
	// makes llama.cpp refuse the file ("wrong number of tensors").
	llamaCpp map[string]bool
}

// Tensors llama.cpp's loader creates for the dense diffusion architectures;
// true marks those its graph then ignores.
var (
	llamaCppLlada = map[string]bool{
		"token_embd.weight": false, "output_norm.weight": false, "output.weight": false,
		"rope_freqs.weight":    true, // build_llada passes no frequency factors to RoPE
		"blk.attn_norm.weight": false, "blk.attn_q.weight": false, "blk.attn_k.weight": false, "blk.attn_v.weight": false,
		"blk.attn_q.bias": false, "blk.attn_k.bias": false, "blk.attn_v.bias": false, // create_tensor_qkv: optional, added
		"blk.attn_qkv.weight": false, "blk.attn_qkv.bias": false,
		"blk.attn_output.weight": false, "blk.attn_output.bias": true,
		"blk.ffn_norm.weight": false, "blk.ffn_gate.weight": false, "blk.ffn_down.weight": false, "blk.ffn_up.weight": false,
		"blk.ffn_gate.bias": true, "blk.ffn_down.bias": true, "blk.ffn_up.bias": true, // build_ffn gets NULL biases
	}
	llamaCppDream = map[string]bool{
		"token_embd.weight": false, "output_norm.weight": false, "output.weight": false,
		"output.bias":          true, // loaded, never added to the logits
		"blk.attn_norm.weight": false, "blk.attn_q.weight": false, "blk.attn_k.weight": false, "blk.attn_v.weight": false,
		"blk.attn_q.bias": false, "blk.attn_k.bias": false, "blk.attn_v.bias": false,
		"blk.attn_qkv.weight": false, "blk.attn_qkv.bias": false,
		"blk.attn_output.weight": false,
		"blk.ffn_norm.weight":    false, "blk.ffn_gate.weight": false, "blk.ffn_down.weight": false, "blk.ffn_up.weight": false,
	}

	// llama_model_llada_moe::load_arch_tensors: QK-norm required, no biases
	// beyond create_tensor_qkv's, output.weight required.
	llamaCppLladaMoE = map[string]bool{
		"token_embd.weight": false, "output_norm.weight": false, "output.weight": false,
		"blk.attn_norm.weight": false, "blk.attn_q.weight": false, "blk.attn_k.weight": false, "blk.attn_v.weight": false,
		"blk.attn_q.bias": false, "blk.attn_k.bias": false, "blk.attn_v.bias": false,
		"blk.attn_qkv.weight": false, "blk.attn_qkv.bias": false,
		"blk.attn_output.weight": false, "blk.attn_q_norm.weight": false, "blk.attn_k_norm.weight": false,
		"blk.ffn_norm.weight": false, "blk.ffn_gate_inp.weight": false,
		"blk.ffn_gate_exps.weight": false, "blk.ffn_down_exps.weight": false, "blk.ffn_up_exps.weight": false,
	}
)

var arches = map[string]archSpec{
	"llada": {neox: false, llamaCpp: llamaCppLlada},
	"dream": {neox: true, outputBias: true, llamaCpp: llamaCppDream},
	// RoPE on halves: llama.cpp lists llada-moe with the NEOX architectures.
	"llada-moe": {neox: true, moe: true, llamaCpp: llamaCppLladaMoE},
}

// dfimUses are the tensors dfim computes with beyond llama.cpp's lists:
// QK-norm and, for dream, the attention output bias.
var dfimUses = map[string]bool{"blk.attn_q_norm.weight": true, "blk.attn_k_norm.weight": true, "blk.attn_output.bias": true}

// block is one transformer layer; field tags name the GGUF tensor (after
// "blk.N.") and its shape in ggml order (ne0 first, i.e. input dimension
// first for a weight matrix).
type block struct {
	AttnNorm []float32      `gguf:"attn_norm.weight" shape:"embd"`
	Q        kernels.Linear `gguf:"attn_q.weight" shape:"embd,q"`
	K        kernels.Linear `gguf:"attn_k.weight" shape:"embd,kv"`
	V        kernels.Linear `gguf:"attn_v.weight" shape:"embd,kv"`
	QBias    []float32      `gguf:"attn_q.bias,optional" shape:"q"`
	KBias    []float32      `gguf:"attn_k.bias,optional" shape:"kv"`
	VBias    []float32      `gguf:"attn_v.bias,optional" shape:"kv"`
	// QK-norm: RMSNorm of each head (length head_dim) or of the whole
	// projection (length q or kv), before RoPE.
	QNorm   []float32      `gguf:"attn_q_norm.weight,optional" shape:"head|q"`
	KNorm   []float32      `gguf:"attn_k_norm.weight,optional" shape:"head|kv"`
	O       kernels.Linear `gguf:"attn_output.weight" shape:"q,embd"`
	OBias   []float32      `gguf:"attn_output.bias,optional" shape:"embd"`
	FFNNorm []float32      `gguf:"ffn_norm.weight" shape:"embd"`
	// The feed-forward: denseFFN (bound for dense architectures) or moe.
	denseFFN
	moe *moeFFN
}

// denseFFN is a SwiGLU feed-forward: Down(SiLU(Gate x) * Up x).
type denseFFN struct {
	Gate kernels.Linear `gguf:"ffn_gate.weight" shape:"embd,ffn"`
	Up   kernels.Linear `gguf:"ffn_up.weight" shape:"embd,ffn"`
	Down kernels.Linear `gguf:"ffn_down.weight" shape:"ffn,embd"`
}

// moeFFN is a mixture of SwiGLU experts as llama.cpp's build_moe_ffn runs
// it for llada-moe: the router's softmax over all experts, the ExpertsUsed
// most probable, their outputs summed weighted by those probabilities (not
// renormalised). The experts' weights are the slices of the 3-D tensors
// ffn_{gate,up,down}_exps, one matrix per expert.
type moeFFN struct {
	Router         kernels.Linear `gguf:"ffn_gate_inp.weight" shape:"embd,experts"`
	gate, up, down []kernels.Linear
}

// head is the model's input and output: embeddings and the language-model
// head. output.weight absent means it is tied to token_embd.
type head struct {
	TokenEmbd  *embedding     `gguf:"token_embd.weight" shape:"embd,vocab"`
	OutputNorm []float32      `gguf:"output_norm.weight" shape:"embd"`
	Output     kernels.Linear `gguf:"output.weight,optional" shape:"embd,vocab"`
}

// Model is a loaded llada or dream transformer.
type Model struct {
	Hparams
	head
	blocks []block
	// Params is the number of weights, over every tensor of the file.
	Params int64
	// HeapBytes is the memory the weights take on the heap (packed or
	// repacked matrices, decoded vectors); MappedBytes what every pass reads
	// in place from the file (quantized blocks, the embedding table), which
	// is resident once touched. KVBytes is the key/value cache of a canvas
	// of the full context.
	HeapBytes, MappedBytes, KVBytes int64
	// Warnings say where this file means something other than it would in
	// llama.cpp, or where llama.cpp would refuse it: one line each, naming
	// the tensor or key.
	Warnings []string
}

// LoadModel binds a GGUF file's tensors to a Model and validates every
// shape. name is the file name used in errors.
func LoadModel(name string, f *gguf.File) (*Model, error) {
	hp, err := readHparams(name, f)
	if err != nil {
		return nil, err
	}
	m := &Model{Hparams: hp}
	if _, ok := f.Bool("diffusion.shift_logits"); !ok && hp.Arch == "llada" {
		m.Warnings = append(m.Warnings, "metadata key diffusion.shift_logits is absent: the logits are shifted (position i predicted from i-1), as llama.cpp's diffusion CLI does; LLaDA is trained unshifted and llama.cpp's converter writes false, so the file is probably incomplete")
	}
	dims := map[string]int{
		"embd": hp.Embd, "q": hp.Heads * hp.HeadDim, "kv": hp.KVHeads * hp.HeadDim,
		"ffn": hp.FFN, "vocab": hp.Vocab, "head": hp.HeadDim,
		"experts": hp.Experts, "effn": hp.ExpertFFN,
	}
	if err := bind(name, f, "", &m.head, dims); err != nil {
		return nil, err
	}
	if m.Output == nil {
		// Tied embeddings: the output projection is token_embd itself.
		t, _ := f.Tensor("token_embd.weight")
		if m.Output, err = newLinear(name, t, hp.Vocab, hp.Embd); err != nil {
			return nil, err
		}
	}
	spec := arches[hp.Arch]
	m.blocks = make([]block, hp.Layers)
	for i := range m.blocks {
		b := &m.blocks[i]
		prefix := "blk." + strconv.Itoa(i) + "."
		if err := bind(name, f, prefix, b, dims); err != nil {
			return nil, err
		}
		if spec.moe {
			if b.moe, err = bindExperts(name, f, prefix, dims); err != nil {
				return nil, err
			}
		} else if err := bind(name, f, prefix, &b.denseFFN, dims); err != nil {
			return nil, err
		}
		if !spec.outputBias {
			b.OBias = nil
		}
	}
	m.Warnings = append(m.Warnings, llamaCppWarnings(hp.Arch, spec, f)...)
	m.countMemory(f)
	for _, t := range f.Tensors {
		n := int64(1)
		for _, d := range t.Dims {
			n *= int64(d)
		}
		m.Params += n
	}
	return m, nil
}

func readHparams(name string, f *gguf.File) (Hparams, error) {
	arch := f.Arch()
	spec, ok := arches[arch]
	if !ok {
		return Hparams{}, fmt.Errorf("%s: architecture %q is not supported (the native engine runs llada, dream and llada-moe)", name, arch)
	}
	hp := Hparams{Arch: arch, Neox: spec.neox, Shift: true}
	need := func(key string, dst *int) error {
		v, ok := f.Uint(arch + "." + key)
		if !ok || v == 0 || v > 1<<24 {
			return fmt.Errorf("%s: metadata key %s.%s is missing or out of range; the file is not a complete %s model", name, arch, key, arch)
		}
		*dst = int(v)
		return nil
	}
	for _, k := range []struct {
		key string
		dst *int
	}{{"context_length", &hp.Context}, {"embedding_length", &hp.Embd}, {"block_count", &hp.Layers},
		{"attention.head_count", &hp.Heads}} {
		if err := need(k.key, k.dst); err != nil {
			return hp, err
		}
	}
	if spec.moe {
		if err := need("expert_count", &hp.Experts); err != nil {
			return hp, err
		}
		if err := need("expert_used_count", &hp.ExpertsUsed); err != nil {
			return hp, err
		}
		if hp.ExpertsUsed > hp.Experts {
			return hp, fmt.Errorf("%s: %s.expert_used_count is %d but the model has %d experts; the file is not a valid %s model", name, arch, hp.ExpertsUsed, hp.Experts, arch)
		}
		// As llama.cpp: the experts' width, else feed_forward_length shared
		// among the experts used.
		if v, ok := f.Uint(arch + ".feed_forward_length"); ok && v <= 1<<24 {
			hp.FFN = int(v)
		}
		if v, ok := f.Uint(arch + ".expert_feed_forward_length"); ok && v > 0 && v <= 1<<24 {
			hp.ExpertFFN = int(v)
		} else {
			hp.ExpertFFN = hp.FFN / hp.ExpertsUsed
		}
		if hp.ExpertFFN <= 0 {
			return hp, fmt.Errorf("%s: metadata key %s.expert_feed_forward_length is missing or out of range; the file is not a complete %s model", name, arch, arch)
		}
	} else if err := need("feed_forward_length", &hp.FFN); err != nil {
		return hp, err
	}
	hp.KVHeads = hp.Heads
	if v, ok := f.Uint(arch + ".attention.head_count_kv"); ok {
		hp.KVHeads = int(v)
	}
	if hp.KVHeads <= 0 || hp.Heads%hp.KVHeads != 0 {
		return hp, fmt.Errorf("%s: %d attention heads cannot share %d key/value heads", name, hp.Heads, hp.KVHeads)
	}
	hp.HeadDim = hp.Embd / hp.Heads
	if v, ok := f.Uint(arch + ".attention.key_length"); ok && v > 0 {
		hp.HeadDim = int(v)
	}
	if hp.HeadDim <= 0 || hp.HeadDim%2 != 0 {
		return hp, fmt.Errorf("%s: head dimension %d must be even and positive for RoPE", name, hp.HeadDim)
	}
	if v, ok := f.Uint(arch + ".rope.dimension_count"); ok && int(v) != hp.HeadDim {
		return hp, fmt.Errorf("%s: partial RoPE (%d of %d head dimensions) is not supported", name, v, hp.HeadDim)
	}
	hp.Eps = 1e-6
	if v, ok := f.Float(arch + ".attention.layer_norm_rms_epsilon"); ok {
		hp.Eps = float32(v)
	}
	hp.RopeBase = 10000
	if v, ok := f.Float(arch + ".rope.freq_base"); ok {
		hp.RopeBase = float32(v)
	}
	if v, ok := f.Bool("diffusion.shift_logits"); ok {
		hp.Shift = v
	}
	t, ok := f.Tensor("token_embd.weight")
	if !ok || len(t.Dims) != 2 {
		return hp, fmt.Errorf("%s: tensor token_embd.weight is missing or not a matrix", name)
	}
	hp.Vocab = int(t.Dims[1])
	if v, ok := f.Uint(arch + ".vocab_size"); ok && int(v) != hp.Vocab {
		return hp, fmt.Errorf("%s: %s.vocab_size is %d but token_embd.weight has %d rows", name, arch, v, hp.Vocab)
	}
	if math.IsNaN(float64(hp.Eps)) || hp.Eps <= 0 || hp.RopeBase <= 0 {
		return hp, fmt.Errorf("%s: rms epsilon %g or rope base %g is not positive", name, hp.Eps, hp.RopeBase)
	}
	return hp, nil
}

// countMemory fills HeapBytes, MappedBytes and KVBytes.
func (m *Model) countMemory(f *gguf.File) {
	add := func(l kernels.Linear) {
		h, mp := kernels.Footprint(l)
		m.HeapBytes += h
		m.MappedBytes += mp
	}
	add(m.Output)
	if _, untied := f.Tensor("output.weight"); untied {
		m.MappedBytes += int64(len(m.TokenEmbd.raw)) // rows looked up in place
	}
	for i := range m.blocks {
		b := &m.blocks[i]
		for _, l := range []kernels.Linear{b.Q, b.K, b.V, b.O, b.Gate, b.Up, b.Down} {
			if l != nil {
				add(l)
			}
		}
		if e := b.moe; e != nil {
			add(e.Router)
			for x := range e.gate {
				add(e.gate[x])
				add(e.up[x])
				add(e.down[x])
			}
		}
		m.HeapBytes += 4 * int64(len(b.AttnNorm)+len(b.FFNNorm)+len(b.QBias)+len(b.KBias)+len(b.VBias)+len(b.OBias)+len(b.QNorm)+len(b.KNorm))
	}
	m.HeapBytes += 4 * int64(len(m.OutputNorm))
	m.KVBytes = 2 * 4 * int64(m.Layers) * int64(m.KVHeads*m.HeadDim) * int64(m.Context)
}

// llamaCppWarnings names the tensors of f that llama.cpp's graph ignores
// (dfim ignores them too) or that make llama.cpp refuse the file (dfim uses
// or ignores them, as it says). A tensor found in several layers is one
// warning, naming the first.
func llamaCppWarnings(arch string, spec archSpec, f *gguf.File) []string {
	type seen struct {
		first string
		n     int
	}
	var order []string
	found := map[string]*seen{}
	for _, t := range f.Tensors {
		key := t.Name
		if rest, ok := strings.CutPrefix(t.Name, "blk."); ok {
			if i := strings.IndexByte(rest, '.'); i > 0 {
				if _, err := strconv.Atoi(rest[:i]); err == nil {
					key = "blk." + rest[i+1:]
				}
			}
		}
		if ignored, ok := spec.llamaCpp[key]; ok && !ignored {
			continue
		}
		if s := found[key]; s != nil {
			s.n++
			continue
		}
		found[key] = &seen{first: t.Name, n: 1}
		order = append(order, key)
	}
	var out []string
	for _, key := range order {
		s := found[key]
		name := s.first
		if s.n > 1 {
			name = fmt.Sprintf("%s (and %d more layers)", s.first, s.n-1)
		}
		uses := dfimUses[key] && (key != "blk.attn_output.bias" || spec.outputBias)
		switch ignored, known := spec.llamaCpp[key]; {
		case known && ignored:
			out = append(out, fmt.Sprintf("tensor %s is ignored: llama.cpp loads it for %s but its graph does not use it, and dfim follows llama.cpp", name, arch))
		case uses:
			out = append(out, fmt.Sprintf("tensor %s is used by dfim, but llama.cpp refuses %s files that hold it (wrong number of tensors): this file will not load there", name, arch))
		default:
			out = append(out, fmt.Sprintf("tensor %s is not part of a %s model: dfim ignores it, and llama.cpp refuses files that hold it (wrong number of tensors)", name, arch))
		}
	}
	return out
}

var linearType = reflect.TypeFor[kernels.Linear]()

// bindExperts binds a layer's router and experts: ffn_gate_exps and
// ffn_up_exps are [embd, effn, experts] in ggml order, ffn_down_exps
// [effn, embd, experts], each expert's matrix contiguous.
func bindExperts(name string, f *gguf.File, prefix string, dims map[string]int) (*moeFFN, error) {
	e := &moeFFN{}
	if err := bind(name, f, prefix, e, dims); err != nil {
		return nil, err
	}
	for _, x := range []struct {
		tensor, shape string
		dst           *[]kernels.Linear
	}{{"ffn_gate_exps.weight", "embd,effn,experts", &e.gate}, {"ffn_up_exps.weight", "embd,effn,experts", &e.up},
		{"ffn_down_exps.weight", "effn,embd,experts", &e.down}} {
		tname := prefix + x.tensor
		t, ok := f.Tensor(tname)
		if !ok {
			return nil, fmt.Errorf("%s: tensor %s is missing; the file is incomplete or not a %s model", name, tname, f.Arch())
		}
		want, err := matchShape(x.shape, t.Dims, dims)
		if err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %v", name, tname, err)
		}
		in, out, n := want[0], want[1], want[2]
		row, ok := t.Type.RowSize(uint64(in))
		if !ok || uint64(len(t.Data)) != row*uint64(out*n) {
			return nil, fmt.Errorf("%s: tensor %s holds %d bytes, want %d experts of %d rows of %d %v values", name, tname, len(t.Data), n, out, in, t.Type)
		}
		per := int(row) * out
		for i := range n {
			sub := *t
			sub.Name = fmt.Sprintf("%s (expert %d)", tname, i)
			sub.Dims = []uint64{uint64(in), uint64(out)}
			sub.Data = t.Data[i*per : (i+1)*per]
			l, err := newLinear(name, &sub, out, in)
			if err != nil {
				return nil, err
			}
			*x.dst = append(*x.dst, l)
		}
	}
	return e, nil
}

// bind fills the tagged fields of the struct dst points to from the
// tensors prefix+tag, checking each shape against dims.
func bind(name string, f *gguf.File, prefix string, dst any, dims map[string]int) error {
	v := reflect.ValueOf(dst).Elem()
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		tag, ok := sf.Tag.Lookup("gguf")
		if !ok {
			continue
		}
		tname, opt, _ := strings.Cut(tag, ",")
		tname = prefix + tname
		t, ok := f.Tensor(tname)
		if !ok {
			if opt == "optional" {
				continue
			}
			return fmt.Errorf("%s: tensor %s is missing; the file is incomplete or not a %s model", name, tname, f.Arch())
		}
		want, err := matchShape(sf.Tag.Get("shape"), t.Dims, dims)
		if err != nil {
			return fmt.Errorf("%s: tensor %s: %v", name, tname, err)
		}
		field := v.Field(i)
		switch {
		case sf.Type == reflect.TypeFor[[]float32]():
			x, err := t.Float32s()
			if err != nil {
				return fmt.Errorf("%s: tensor %s: %v", name, tname, err)
			}
			field.Set(reflect.ValueOf(x))
		case sf.Type == linearType:
			l, err := newLinear(name, t, want[1], want[0])
			if err != nil {
				return err
			}
			field.Set(reflect.ValueOf(l))
		case sf.Type == reflect.TypeFor[*embedding]():
			e, err := newEmbedding(name, t, want[1], want[0])
			if err != nil {
				return err
			}
			field.Set(reflect.ValueOf(e))
		default:
			return fmt.Errorf("native: field %s has no binding for %v", sf.Name, sf.Type) // a bug here, not in the file
		}
	}
	return nil
}

// matchShape checks got (ggml order) against a shape tag such as
// "embd,q" or "head|q" (alternatives), returning the dimensions.
func matchShape(tag string, got []uint64, dims map[string]int) ([]int, error) {
	parts := strings.Split(tag, ",")
	var wantStr []string
	ok := len(got) == len(parts)
	out := make([]int, len(parts))
	for i, p := range parts {
		alts := strings.Split(p, "|")
		var names []string
		matched := false
		for _, a := range alts {
			d := dims[a]
			names = append(names, fmt.Sprintf("%s=%d", a, d))
			if i < len(got) && got[i] == uint64(d) {
				out[i], matched = d, true
			}
		}
		wantStr = append(wantStr, strings.Join(names, " or "))
		ok = ok && matched
	}
	if !ok {
		return nil, fmt.Errorf("shape %v, want [%s]", got, strings.Join(wantStr, ", "))
	}
	return out, nil
}

// computedTypes names the tensor types the engine computes with, for errors:
// every type of llama-quantize's legacy, K-quant and IQ4 recipes, and the
// per-tensor fallbacks it writes for rows that are not whole 256-blocks.
const computedTypes = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl, q2_K, q3_K, q4_K, q5_K, q6_K and iq4_xs"

// newLinear wraps a weight matrix of out rows of in values (GGUF layout)
// in the kernel for its type.
func newLinear(name string, t *gguf.TensorInfo, out, in int) (kernels.Linear, error) {
	var l kernels.Linear
	var err error
	switch t.Type {
	case gguf.TypeF32:
		var w []float32
		if w, err = t.Float32s(); err == nil {
			l = kernels.NewLinearF32(w, out, in)
		}
	case gguf.TypeF16:
		l, err = kernels.NewLinearF16(t.Data, out, in)
	case gguf.TypeBF16:
		l, err = kernels.NewLinearBF16(t.Data, out, in)
	case gguf.TypeQ8_0:
		l, err = kernels.NewLinearQ8_0(t.Data, out, in)
	case gguf.TypeQ4_0:
		l, err = kernels.NewLinearQ4_0(t.Data, out, in)
	case gguf.TypeQ4_K:
		l, err = kernels.NewLinearQ4_K(t.Data, out, in)
	case gguf.TypeQ5_K:
		l, err = kernels.NewLinearQ5_K(t.Data, out, in)
	case gguf.TypeQ6_K:
		l, err = kernels.NewLinearQ6_K(t.Data, out, in)
	case gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeIQ4_NL, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeIQ4_XS:
		l, err = kernels.NewLinearBlocks(t.Type.String(), t.Data, out, in)
	default:
		return nil, unsupportedType(name, t)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %v", name, t.Name, err)
	}
	return l, nil
}
