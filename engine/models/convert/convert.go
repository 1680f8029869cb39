package convert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dfim/dfim/engine/native/gguf"
)

// Options selects how a checkpoint is written.
type Options struct {
	// Quant is the tensor type of the weight matrices: "" keeps f16/bf16 as
	// published (an f32 checkpoint becomes f16, as llama.cpp's "auto");
	// "f32", "f16", "bf16", "q8_0", "q6_K" and "q4_K_M" (llama-quantize's
	// mixture of q4_K and q6_K) convert on the way. Norms, biases and the MoE
	// router stay f32, as llama.cpp writes them. Other types: convert to f16
	// and run llama-quantize.
	Quant string
	// Family forces a family (see Families) instead of reading it from
	// config.json's architectures.
	Family string
}

// Report describes a finished conversion.
type Report struct {
	Family string // dream, llada, llada-moe, open-dcoder, coda, tiny-a2d
	Arch   string // general.architecture written to the GGUF
	// LlamaCpp: llama.cpp converts this family and the file has the names,
	// types and keys its converter writes, so it also runs there.
	LlamaCpp bool
	Tensors  int
	Params   int64
	Type     string // the weight matrices' type: f16, bf16, q8_0, q4_K_M, ...
	// Shift: the logits for position i come from the hidden state at i-1.
	Shift bool
	// Mask, BOS, EOS and Pad are the special tokens, "text (id)" or "none".
	Mask, BOS, EOS, Pad string
	AddBOS              bool
	// LengthMode is how a hole's length is decided: "fixed" (the canvas
	// holds as many masks as the fill may have tokens, pad/EOS end it early)
	// or "expand-delete" (DreamOn: the model grows or shrinks the span).
	LengthMode string
	// Source says where the family's infilling format was read.
	Source   string
	Warnings []string
}

// Keys dfim writes beside llama.cpp's: the checkpoint family a file was
// converted from, how a hole's length is decided, and DreamOn's span
// tokens. llama.cpp ignores them.
const (
	FamilyKey      = "dfim.family"
	LengthModeKey  = "dfim.length_mode"
	ExpandTokenKey = "dfim.expand_token_id"
	DeleteTokenKey = "dfim.delete_token_id"
)

// Families lists the families Checkpoint converts.
func Families() []string {
	var out []string
	for _, f := range families {
		out = append(out, f.name)
	}
	return out
}

// Checkpoint converts the Hugging Face checkpoint in srcDir (config.json,
// tokenizer.json, *.safetensors) to a GGUF file at dstPath, written to a
// temporary file beside it and renamed into place when complete.
func Checkpoint(srcDir, dstPath string, opt Options) (Report, error) {
	cfgPath := filepath.Join(srcDir, "config.json")
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return Report{}, fmt.Errorf("convert: %v; a checkpoint folder holds config.json, tokenizer.json and *.safetensors", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		return Report{}, fmt.Errorf("convert: %s: %v", cfgPath, err)
	}
	fam, err := detectFamily(cfg, opt.Family)
	if err != nil {
		return Report{}, fmt.Errorf("convert: %s: %v", cfgPath, err)
	}
	ck, err := openCheckpoint(srcDir)
	if err != nil {
		return Report{}, fmt.Errorf("convert: %v", err)
	}
	defer ck.close()
	c := &converter{fam: fam, cfg: cfg, ck: ck, w: gguf.NewWriter(), src: srcDir}
	rep, err := c.run(opt)
	if err != nil {
		return Report{}, fmt.Errorf("convert %s: %v", srcDir, err)
	}
	if err := writeAtomic(dstPath, c.w); err != nil {
		return Report{}, fmt.Errorf("convert: writing %s: %v", dstPath, err)
	}
	return rep, nil
}

func writeAtomic(path string, w *gguf.Writer) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.partial")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := w.WriteTo(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

type converter struct {
	fam   *family
	cfg   map[string]any
	ck    *checkpoint
	w     *gguf.Writer
	src   string
	ftype gguf.Type
	// mix: Q4_K_M, llama.cpp's mixture: q4_K, with q6_K for the output
	// head and for some layers' attn_v and ffn_down.
	mix    bool
	hasOut bool
	hp     hparams
	// expand, del: DreamOn's span tokens.
	expand, del int
}

type hparams struct {
	ctx, embd, layers, ffn, heads, kvHeads, headDim, vocab int
	experts, expertsUsed, expertFFN                        int
	eps, theta                                             float64
	gating                                                 string // the router's score function, when config.json names it
}

// gatingKeys are where config.json may name the router's score function
// (llama.cpp's find_hparam list).
var gatingKeys = []string{"score_function", "scoring_func", "score_func", "moe_router_activation", "moe_router_activation_func", "expert_selection_fn"}

// num is the first of keys config.json has as a number.
func (c *converter) num(keys ...string) (float64, bool) {
	for _, k := range keys {
		if v, ok := c.cfg[k].(float64); ok {
			return v, true
		}
	}
	return 0, false
}

func (c *converter) int(keys ...string) int {
	v, _ := c.num(keys...)
	return int(v)
}

func (c *converter) readHparams() error {
	h := &c.hp
	h.embd = c.int("hidden_size", "d_model", "n_embd")
	h.layers = c.int("num_hidden_layers", "n_layers", "n_layer", "num_layers")
	h.heads = c.int("num_attention_heads", "n_heads", "n_head")
	h.kvHeads = c.int("num_key_value_heads", "n_kv_heads")
	if h.kvHeads == 0 {
		h.kvHeads = h.heads
	}
	// llama.cpp's TextModel order; LLaDA's mlp_hidden_size as its LLaDA converter.
	h.ffn = c.int("prefix_dense_intermediate_size", "dense_intermediate_size", "intermediate_size", "mlp_hidden_size", "n_inner", "hidden_dim")
	h.ctx = c.int("max_position_embeddings", "n_ctx", "n_positions", "max_length", "max_sequence_length", "model_max_length")
	h.headDim = c.int("head_dim")
	h.vocab = c.int("vocab_size")
	h.experts = c.int("num_local_experts", "num_experts", "n_routed_experts")
	h.expertsUsed = c.int("num_experts_per_tok", "num_experts_per_token", "top_k_experts")
	h.expertFFN = c.int("expert_intermediate_size", "moe_intermediate_size")
	var ok bool
	if h.eps, ok = c.num("rms_norm_eps", "norm_eps"); !ok {
		h.eps = 1e-6
	}
	if h.theta, ok = c.num("rope_theta"); !ok {
		h.theta = 10000
	}
	for _, k := range []struct {
		name string
		v    int
	}{{"hidden_size", h.embd}, {"num_hidden_layers", h.layers}, {"num_attention_heads", h.heads}, {"max_position_embeddings", h.ctx}} {
		if k.v <= 0 {
			return fmt.Errorf("config.json has no %s (or its %s spelling); the checkpoint is incomplete", k.name, c.fam.name)
		}
	}
	if c.fam.arch == "llada-moe" && (h.experts <= 0 || h.expertsUsed <= 0) {
		return fmt.Errorf("config.json has no num_experts / num_experts_per_tok; a %s checkpoint needs both", c.fam.name)
	}
	for _, k := range gatingKeys {
		if v, ok := c.cfg[k].(string); ok {
			h.gating = v
			if v != "softmax" {
				return fmt.Errorf("config.json's %s is %q; dfim's mixture of experts routes by softmax only", k, v)
			}
			break
		}
	}
	if c.fam.arch != "llada-moe" && h.ffn <= 0 {
		return fmt.Errorf("config.json has no intermediate_size; the checkpoint is incomplete")
	}
	return nil
}

// ftypeFor resolves Options.Quant against the checkpoint's own dtype.
func (c *converter) ftypeFor(quant string) (gguf.Type, error) {
	switch strings.ToLower(quant) {
	case "":
		for _, t := range c.ck.tensors {
			if len(t.shape) == 2 && t.dtype == "BF16" {
				return gguf.TypeBF16, nil
			}
		}
		return gguf.TypeF16, nil
	case "f32":
		return gguf.TypeF32, nil
	case "f16":
		return gguf.TypeF16, nil
	case "bf16":
		return gguf.TypeBF16, nil
	case "q8_0":
		return gguf.TypeQ8_0, nil
	case "q4_k_m":
		c.mix = true
		return gguf.TypeQ4_K, nil
	case "q6_k":
		return gguf.TypeQ6_K, nil
	}
	return 0, fmt.Errorf("quantization %q is not written by dfim's converter (it writes f32, f16, bf16, q8_0, q4_K_M and q6_K); for other types convert to f16 and run llama-quantize FILE OUT TYPE", quant)
}

// fileTypes are llama.cpp's general.file_type values (LLAMA_FTYPE_*).
var fileTypes = map[gguf.Type]uint32{gguf.TypeF32: 0, gguf.TypeF16: 1, gguf.TypeQ8_0: 7, gguf.TypeQ4_K: 15, gguf.TypeQ6_K: 18, gguf.TypeBF16: 32}

func (c *converter) run(opt Options) (Report, error) {
	fam := c.fam
	if err := c.readHparams(); err != nil {
		return Report{}, err
	}
	var err error
	if c.ftype, err = c.ftypeFor(opt.Quant); err != nil {
		return Report{}, err
	}
	rep := Report{Family: fam.name, Arch: fam.arch, LlamaCpp: fam.llamaCpp, Type: c.ftype.String(), Source: fam.source, Shift: fam.shift == nil || *fam.shift}
	if c.mix {
		rep.Type = "q4_K_M"
	}
	if rs, ok := c.cfg["rope_scaling"].(map[string]any); ok && len(rs) > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("config.json sets rope_scaling %v; dfim runs plain RoPE, so positions past the original context are not scaled", rs))
	}

	// Tensors first: the embedding rows are the vocabulary size.
	tensors, err := c.tensors()
	if err != nil {
		return Report{}, err
	}
	_, c.hasOut = tensors["output.weight"]
	emb := c.ck.tensors[tensors["token_embd.weight"].src[0]]
	rows := emb.shape[0]
	if c.hp.vocab > 0 && c.hp.vocab != rows {
		return Report{}, fmt.Errorf("config.json's vocab_size is %d but the embedding table has %d rows", c.hp.vocab, rows)
	}
	voc, err := readVocab(c.src, rows, c.cfg, fam.name)
	if err != nil {
		return Report{}, err
	}
	if id, ok := intOf(c.cfg["mask_token_id"]); ok {
		voc.special["mask"] = id
	} else if fam.mask >= 0 {
		voc.special["mask"] = fam.mask
	}
	if id, ok := voc.special["mask"]; !ok || id >= rows {
		return Report{}, fmt.Errorf("no mask token: config.json has no mask_token_id and tokenizer_config.json no mask_token (or it is past the %d embedding rows); a diffusion model needs one", rows)
	}
	if fam.addBOS != nil {
		voc.addBOS = fam.addBOS
	}
	rep.LengthMode = "fixed"
	expand, okE := voc.byText["<|expand|>"]
	del, okD := voc.byText["<|delete|>"]
	if fam.name == "dream" && okE && okD {
		c.fam, _ = detectFamily(nil, "dreamon")
		fam = c.fam
		rep.Family, rep.Source, rep.LengthMode = fam.name, fam.source, "expand-delete"
		c.expand, c.del = expand, del
	}

	c.writeKeys(voc, rep.LengthMode)
	for _, name := range sortedNames(tensors) {
		if err := c.addTensor(name, tensors[name]); err != nil {
			return Report{}, err
		}
		rep.Tensors++
		n := int64(1)
		for _, d := range tensors[name].dims {
			n *= int64(d)
		}
		rep.Params += n
	}
	rep.Mask, rep.BOS, rep.EOS, rep.Pad = voc.describe("mask"), voc.describe("bos"), voc.describe("eos"), voc.describe("padding")
	rep.AddBOS = voc.addBOS != nil && *voc.addBOS
	if _, ok := tensors["blk.0.attn_q_norm.weight"]; ok && fam.arch == "dream" {
		rep.Warnings = append(rep.Warnings, "the layers have QK-norm, which llama.cpp's dream architecture does not load: the file runs in dfim only")
	}
	return rep, nil
}

func (c *converter) writeKeys(voc *vocab, lengthMode string) {
	w, a, h, fam := c.w, c.fam.arch, c.hp, c.fam
	w.SetString("general.architecture", a)
	w.SetString("general.type", "model")
	w.SetString("general.name", filepath.Base(filepath.Clean(c.src)))
	w.SetUint32(a+".block_count", uint32(h.layers))
	w.SetUint32(a+".context_length", uint32(h.ctx))
	w.SetUint32(a+".embedding_length", uint32(h.embd))
	if h.ffn > 0 {
		w.SetUint32(a+".feed_forward_length", uint32(h.ffn))
	}
	w.SetUint32(a+".attention.head_count", uint32(h.heads))
	w.SetUint32(a+".attention.head_count_kv", uint32(h.kvHeads))
	w.SetFloat32(a+".rope.freq_base", float32(h.theta))
	w.SetFloat32(a+".attention.layer_norm_rms_epsilon", float32(h.eps))
	if h.experts > 0 {
		w.SetUint32(a+".expert_count", uint32(h.experts))
		w.SetUint32(a+".expert_used_count", uint32(h.expertsUsed))
	}
	if h.gating == "softmax" {
		w.SetUint32(a+".expert_gating_func", 1) // LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX
	}
	if h.headDim > 0 {
		w.SetUint32(a+".attention.key_length", uint32(h.headDim))
		w.SetUint32(a+".attention.value_length", uint32(h.headDim))
	}
	w.SetUint32("general.file_type", fileTypes[c.ftype])
	switch a {
	case "llada":
		w.SetUint32(a+".vocab_size", uint32(len(voc.tokens)))
		hd := h.headDim
		if hd == 0 {
			hd = h.embd / h.heads
		}
		w.SetUint32(a+".rope.dimension_count", uint32(hd))
	case "llada-moe":
		if h.expertFFN > 0 {
			w.SetUint32(a+".expert_feed_forward_length", uint32(h.expertFFN))
		}
	}
	w.SetBool(a+".attention.causal", false)
	if fam.shift != nil {
		w.SetBool("diffusion.shift_logits", *fam.shift)
	}
	w.SetUint32("general.quantization_version", 2)
	voc.write(w)
	w.SetString(FamilyKey, fam.name)
	w.SetString(LengthModeKey, lengthMode)
	if lengthMode == "expand-delete" {
		w.SetUint32(ExpandTokenKey, uint32(c.expand))
		w.SetUint32(DeleteTokenKey, uint32(c.del))
	}
}

// A gtensor is one GGUF tensor to write: its checkpoint source(s) (several
// for stacked experts), GGUF dimensions (ne0 first) and how q/k rows are
// permuted (heads, 0 for none).
type gtensor struct {
	src     []string
	dims    []uint64
	permute int
}

// tensors maps every checkpoint tensor to its GGUF tensor; a name that maps
// nowhere is an error, as in llama.cpp ("Can not map tensor").
func (c *converter) tensors() (map[string]*gtensor, error) {
	out := map[string]*gtensor{}
	experts := map[string]map[int]string{} // "blk.N.ffn_gate_exps.weight" → expert → source
	for name, t := range c.ck.tensors {
		if strings.HasSuffix(name, "rotary_emb.inv_freq") {
			continue
		}
		if m := expertName.FindStringSubmatch(name); m != nil {
			key := "blk." + m[1] + ".ffn_" + m[3] + "_exps.weight"
			if experts[key] == nil {
				experts[key] = map[int]string{}
			}
			x, _ := strconv.Atoi(m[2])
			experts[key][x] = name
			continue
		}
		g, ok := c.fam.names(name)
		if !ok {
			return nil, fmt.Errorf("tensor %s (in %s) is not part of a %s model; dfim does not know where it goes", name, filepath.Base(t.file), c.fam.name)
		}
		if _, dup := out[g]; dup {
			return nil, fmt.Errorf("two checkpoint tensors map to %s", g)
		}
		gt := &gtensor{src: []string{name}, dims: reverseDims(t.shape)}
		if c.fam.permuteQK {
			switch {
			case strings.HasSuffix(g, ".attn_q.weight") || strings.HasSuffix(g, ".attn_q.bias"):
				gt.permute = c.hp.heads
			case strings.HasSuffix(g, ".attn_k.weight") || strings.HasSuffix(g, ".attn_k.bias"):
				gt.permute = c.hp.kvHeads
			}
		}
		out[g] = gt
	}
	for key, byX := range experts {
		n := c.hp.experts
		if len(byX) != n {
			return nil, fmt.Errorf("%s: %d experts in the checkpoint, config.json says %d", key, len(byX), n)
		}
		gt := &gtensor{}
		var shape []int
		for x := range n {
			src, ok := byX[x]
			if !ok {
				return nil, fmt.Errorf("%s: expert %d is missing from the checkpoint", key, x)
			}
			s := c.ck.tensors[src].shape
			if shape != nil && !equalInts(s, shape) {
				return nil, fmt.Errorf("%s: expert %d has shape %v, expert 0 %v", key, x, s, shape)
			}
			shape = s
			gt.src = append(gt.src, src)
		}
		gt.dims = append(reverseDims(shape), uint64(n))
		out[key] = gt
	}
	e, ok := out["token_embd.weight"]
	if !ok {
		return nil, fmt.Errorf("the checkpoint has no token embedding table (model.embed_tokens.weight or model.transformer.wte.weight)")
	}
	if len(e.dims) != 2 {
		return nil, fmt.Errorf("the token embedding table has shape %v, want a matrix", c.ck.tensors[e.src[0]].shape)
	}
	return out, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func reverseDims(shape []int) []uint64 {
	d := make([]uint64, len(shape))
	for i, s := range shape {
		d[len(shape)-1-i] = uint64(s)
	}
	return d
}

// sortedNames orders tensors as a reader expects: the embeddings, the
// layers in order, then the output norm and head.
func sortedNames(m map[string]*gtensor) []string {
	rank := func(n string) (int, string) {
		if rest, ok := strings.CutPrefix(n, "blk."); ok {
			i, _ := strconv.Atoi(rest[:strings.IndexByte(rest, '.')])
			return i + 1, n
		}
		if n == "token_embd.weight" {
			return 0, n
		}
		return math.MaxInt32, n
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, ni := rank(names[i])
		rj, nj := rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return ni < nj
	})
	return names
}

// typeFor is the GGUF type of a tensor, as llama.cpp's converter picks it:
// vectors, norms and the router in f32, matrices in the file type. For
// Q4_K_M it follows llama-quantize's llama_tensor_get_type: q6_K for the
// output head (token_embd when tied) and for attn_v and ffn_down in the
// layers use_more_bits picks, q4_K elsewhere. Rows that are not whole
// blocks fall back: K-quants to q8_0 (llama.cpp picks q5_0, which dfim
// does not compute with), q8_0 to f16.
func (c *converter) typeFor(name string, dims []uint64) gguf.Type {
	if len(dims) <= 1 || strings.HasSuffix(name, "_norm.weight") || strings.HasSuffix(name, "ffn_gate_inp.weight") {
		return gguf.TypeF32
	}
	typ := c.ftype
	if c.mix {
		layer := -1
		if rest, ok := strings.CutPrefix(name, "blk."); ok {
			layer, _ = strconv.Atoi(rest[:strings.IndexByte(rest, '.')])
		}
		switch {
		case name == "output.weight" || (!c.hasOut && name == "token_embd.weight"):
			typ = gguf.TypeQ6_K
		case (strings.Contains(name, ".attn_v.") || strings.Contains(name, ".ffn_down")) && useMoreBits(layer, c.hp.layers):
			typ = gguf.TypeQ6_K
		}
	}
	if (typ == gguf.TypeQ4_K || typ == gguf.TypeQ6_K) && dims[0]%qk != 0 {
		typ = gguf.TypeQ8_0
	}
	if typ == gguf.TypeQ8_0 && dims[0]%gguf.QK8_0 != 0 {
		typ = gguf.TypeF16
	}
	return typ
}

// useMoreBits is llama.cpp's choice of the layers that get more bits: the
// first and last eighth, and every third in between.
func useMoreBits(i, n int) bool { return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2 }

func (c *converter) addTensor(name string, gt *gtensor) error {
	typ := c.typeFor(name, gt.dims)
	var data []byte
	for _, src := range gt.src {
		t := c.ck.tensors[src]
		if gt.permute == 0 && len(gt.src) == 1 && dtypeType[t.dtype] == typ {
			data = t.data // as published: a slice of the mapping, no copy
			break
		}
		vals := decode(t)
		if gt.permute > 0 {
			var err error
			if vals, err = permuteRows(vals, t.shape, gt.permute); err != nil {
				return fmt.Errorf("tensor %s: %v", src, err)
			}
		}
		data = append(data, encode(vals, typ)...)
	}
	if err := c.w.AddTensor(name, typ, gt.dims, data); err != nil {
		return err
	}
	return nil
}

var dtypeType = map[string]gguf.Type{"F32": gguf.TypeF32, "F16": gguf.TypeF16, "BF16": gguf.TypeBF16}

func decode(t *stTensor) []float32 {
	n := t.elements()
	out := make([]float32, n)
	switch t.dtype {
	case "F32":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*i:]))
		}
	case "F16":
		for i := range out {
			out[i] = gguf.Float16ToFloat32(binary.LittleEndian.Uint16(t.data[2*i:]))
		}
	case "BF16":
		for i := range out {
			out[i] = gguf.BFloat16ToFloat32(binary.LittleEndian.Uint16(t.data[2*i:]))
		}
	}
	return out
}

func encode(v []float32, typ gguf.Type) []byte {
	switch typ {
	case gguf.TypeF16, gguf.TypeBF16:
		out := make([]byte, 2*len(v))
		for i, x := range v {
			h := gguf.Float32ToFloat16(x)
			if typ == gguf.TypeBF16 {
				h = gguf.Float32ToBFloat16(x)
			}
			binary.LittleEndian.PutUint16(out[2*i:], h)
		}
		return out
	case gguf.TypeQ8_0:
		return gguf.QuantizeQ8_0(v)
	case gguf.TypeQ4_K:
		return quantizeQ4K(v)
	case gguf.TypeQ6_K:
		return quantizeQ6K(v)
	}
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

// permuteRows reorders the rows of a q or k projection (or bias) from the
// halves layout of rotate_half RoPE to the adjacent pairs of ggml's normal
// RoPE, head by head, as llama.cpp's LLaDA converter does: within a head of
// d rows, row j·d/2+i moves to 2i+j.
func permuteRows(v []float32, shape []int, heads int) ([]float32, error) {
	rows := shape[0]
	if heads <= 0 || rows%(2*heads) != 0 {
		return nil, fmt.Errorf("%d rows cannot be split into %d heads of RoPE pairs", rows, heads)
	}
	cols := len(v) / rows
	hd := rows / heads
	out := make([]float32, len(v))
	for h := range heads {
		for j := range 2 {
			for i := range hd / 2 {
				src := h*hd + j*hd/2 + i
				dst := h*hd + 2*i + j
				copy(out[dst*cols:(dst+1)*cols], v[src*cols:(src+1)*cols])
			}
		}
	}
	return out, nil
}
