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
	// (Dream, initialised from an autoregressive model); diffusion.shift_logits.
	Shift bool
}

// archSpec is what differs between the supported architectures.
type archSpec struct {
	neox      bool
	shift     bool // default when diffusion.shift_logits is absent
	needsBias bool // attn_q/k/v.bias are required
}

var arches = map[string]archSpec{
	"llada": {neox: false, shift: false},
	"dream": {neox: true, shift: true, needsBias: true},
}

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
	Gate    kernels.Linear `gguf:"ffn_gate.weight" shape:"embd,ffn"`
	Up      kernels.Linear `gguf:"ffn_up.weight" shape:"embd,ffn"`
	Down    kernels.Linear `gguf:"ffn_down.weight" shape:"ffn,embd"`
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
}

// LoadModel binds a GGUF file's tensors to a Model and validates every
// shape. name is the file name used in errors.
func LoadModel(name string, f *gguf.File) (*Model, error) {
	hp, err := readHparams(name, f)
	if err != nil {
		return nil, err
	}
	m := &Model{Hparams: hp}
	dims := map[string]int{
		"embd": hp.Embd, "q": hp.Heads * hp.HeadDim, "kv": hp.KVHeads * hp.HeadDim,
		"ffn": hp.FFN, "vocab": hp.Vocab, "head": hp.HeadDim,
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
		if err := bind(name, f, "blk."+strconv.Itoa(i)+".", b, dims); err != nil {
			return nil, err
		}
		if spec.needsBias && (b.QBias == nil || b.KBias == nil || b.VBias == nil) {
			return nil, fmt.Errorf("%s: %s layer %d lacks attn_q/k/v.bias, which this architecture needs; the file is incomplete or not a %s model", name, hp.Arch, i, hp.Arch)
		}
	}
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
		return Hparams{}, fmt.Errorf("%s: architecture %q is not supported (the native engine runs llada and dream)", name, arch)
	}
	hp := Hparams{Arch: arch, Neox: spec.neox, Shift: spec.shift}
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
		{"feed_forward_length", &hp.FFN}, {"attention.head_count", &hp.Heads}} {
		if err := need(k.key, k.dst); err != nil {
			return hp, err
		}
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

var linearType = reflect.TypeFor[kernels.Linear]()

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
	default:
		return nil, fmt.Errorf("%s: tensor %s has type %v; the native engine computes with f32, f16, bf16 and q8_0 (requantize the file, e.g. llama-quantize ... Q8_0)", name, t.Name, t.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %v", name, t.Name, err)
	}
	return l, nil
}
