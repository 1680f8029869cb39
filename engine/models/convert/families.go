package convert

import (
	"fmt"
	"regexp"
	"strings"
)

// A family is a kind of checkpoint dfim converts: how its config.json and
// tensor names read, which GGUF architecture it becomes, and how it infills.
type family struct {
	name string // dfim.family
	arch string // general.architecture
	// hfArch are config.json "architectures" values that select the family.
	hfArch []string
	// llamaCpp: llama.cpp's convert_hf_to_gguf.py converts the family, and
	// dfim writes the names, types and keys it writes.
	llamaCpp bool
	// shift is diffusion.shift_logits; nil writes no key (llama.cpp's
	// default, true, as its Dream converter leaves it).
	shift *bool
	// permuteQK: q/k rows are reordered from the halves RoPE of the
	// checkpoint to the adjacent pairs of the GGUF architecture (LLaDA).
	permuteQK bool
	// mask is the mask token id when config.json has none (-1: none).
	mask int
	// addBOS, when set, is tokenizer.ggml.add_bos_token whatever the
	// tokenizer config says.
	addBOS *bool
	// names maps a checkpoint tensor name to its GGUF name.
	names func(string) (string, bool)
	// source says where the infilling format was read, for doc and report.
	source string
}

var (
	yes, no = true, false

	families = []family{
		{name: "dream", arch: "dream", hfArch: []string{"DreamModel"}, llamaCpp: true, mask: -1, names: qwenNames,
			source: "Dream-org/Dream generation_utils.py (logits shifted right by one, mask_token_id in config.json); DreamOn adds <|expand|>/<|delete|>"},
		// DreamOn is a DreamModel whose tokenizer adds <|expand|> and
		// <|delete|>: a mask may become two masks or vanish while denoising.
		{name: "dreamon", arch: "dream", llamaCpp: true, mask: -1, names: qwenNames,
			source: "Dream-org/DreamOn (DreamModel with <|expand|>, <|delete|>: variable-length infilling; shifted like Dream)"},
		{name: "llada", arch: "llada", hfArch: []string{"LLaDAModelLM"}, llamaCpp: true, shift: &no, permuteQK: true, mask: 126336, addBOS: &yes, names: lladaNames,
			source: "ML-GSAI/LLaDA generate.py (unshifted logits, mask id 126336, BOS first)"},
		{name: "llada-moe", arch: "llada-moe", hfArch: []string{"LLaDAMoEModel", "LLaDAMoEModelLM"}, llamaCpp: true, shift: &no, mask: 156895, names: qwenNames,
			source: "inclusionAI/LLaDA-MoE-7B-A1B model card generate() (unshifted, mask 156895, EOS/pad 156892)"},
		{name: "open-dcoder", arch: "dream", hfArch: []string{"Qwen2ForCausalLM"}, shift: &yes, mask: -1, names: qwenNames,
			source: "pengzhangzhi/Open-dLLM veomni/models/transformers/qwen2/generation_utils.py (logits = cat(logits[:, :1], logits[:, :-1])), eval_infill.py (prefix, masks, suffix; mask from the tokenizer)"},
		{name: "coda", arch: "dream", hfArch: []string{"CoDALanguageModel"}, shift: &yes, mask: -1, names: qwenNames,
			source: "SalesforceAIResearch/CoDA CoDALanguageModel/modeling_coda.py (Qwen3 with QK-norm, loss on logits[:-1] against input[1:]: shifted; mask_token_id in config.json)"},
		{name: "tiny-a2d", arch: "dream", hfArch: []string{"Qwen3ForCausalLM", "A2DQwen3LMHeadModel", "A2DQwen3ForCausalLM"}, shift: &no, mask: -1, names: qwenNames,
			source: "ZHZisZZ/dllm MDLMConfig.right_shift_logits = False (Tiny-A2D MDLM checkpoints: unshifted; mask from the tokenizer)"},
	}
)

// detectFamily picks the family from config.json's architectures (or
// model_type), or by name when the caller forces one.
func detectFamily(cfg map[string]any, force string) (*family, error) {
	if force != "" {
		for i := range families {
			if families[i].name == force {
				return &families[i], nil
			}
		}
		return nil, fmt.Errorf("family %q is not one dfim converts (%s)", force, familyNames())
	}
	var archs []string
	if a, ok := cfg["architectures"].([]any); ok {
		for _, x := range a {
			if s, ok := x.(string); ok {
				archs = append(archs, s)
			}
		}
	}
	for _, a := range archs {
		for i := range families {
			for _, h := range families[i].hfArch {
				if a == h {
					return &families[i], nil
				}
			}
		}
	}
	if mt, _ := cfg["model_type"].(string); strings.EqualFold(mt, "dream") {
		return &families[0], nil
	}
	return nil, fmt.Errorf("config.json names architectures %v, none a diffusion coder dfim converts (%s)", archs, familyNames())
}

func familyNames() string {
	var n []string
	for _, f := range families {
		n = append(n, f.name)
	}
	return strings.Join(n, ", ")
}

var (
	qwenLayer  = regexp.MustCompile(`^model\.layers\.(\d+)\.(.+)$`)
	lladaLayer = regexp.MustCompile(`^model\.transformer\.blocks\.(\d+)\.(.+)$`)
)

// qwenNames maps the Qwen2/Qwen3 layout (Dream, LLaDA-MoE, Open-dCoder,
// CoDA, Tiny-A2D) to GGUF names, as llama.cpp's TensorNameMap does. The
// experts of a mixture are stacked by the caller.
func qwenNames(n string) (string, bool) {
	switch n {
	case "model.embed_tokens.weight":
		return "token_embd.weight", true
	case "model.norm.weight":
		return "output_norm.weight", true
	case "lm_head.weight":
		return "output.weight", true
	}
	m := qwenLayer.FindStringSubmatch(n)
	if m == nil {
		return "", false
	}
	blk, rest := "blk."+m[1]+".", m[2]
	for _, p := range []struct{ hf, gg string }{
		{"input_layernorm.", "attn_norm."}, {"post_attention_layernorm.", "ffn_norm."},
		{"self_attn.q_proj.", "attn_q."}, {"self_attn.k_proj.", "attn_k."}, {"self_attn.v_proj.", "attn_v."},
		{"self_attn.o_proj.", "attn_output."}, {"self_attn.q_norm.", "attn_q_norm."}, {"self_attn.k_norm.", "attn_k_norm."},
		{"mlp.gate_proj.", "ffn_gate."}, {"mlp.up_proj.", "ffn_up."}, {"mlp.down_proj.", "ffn_down."},
		{"mlp.gate.", "ffn_gate_inp."},
	} {
		if s, ok := strings.CutPrefix(rest, p.hf); ok {
			return blk + p.gg + s, true
		}
	}
	return "", false
}

// lladaNames maps LLaDA's OLMo-derived layout.
func lladaNames(n string) (string, bool) {
	switch n {
	case "model.transformer.wte.weight":
		return "token_embd.weight", true
	case "model.transformer.ln_f.weight":
		return "output_norm.weight", true
	case "model.transformer.ff_out.weight":
		return "output.weight", true
	}
	m := lladaLayer.FindStringSubmatch(n)
	if m == nil {
		return "", false
	}
	blk, rest := "blk."+m[1]+".", m[2]
	for _, p := range []struct{ hf, gg string }{
		{"attn_norm.", "attn_norm."}, {"ff_norm.", "ffn_norm."},
		{"q_proj.", "attn_q."}, {"k_proj.", "attn_k."}, {"v_proj.", "attn_v."}, {"attn_out.", "attn_output."},
		{"ff_proj.", "ffn_gate."}, {"up_proj.", "ffn_up."}, {"ff_out.", "ffn_down."},
		{"q_norm.", "attn_q_norm."}, {"k_norm.", "attn_k_norm."},
	} {
		if s, ok := strings.CutPrefix(rest, p.hf); ok {
			return blk + p.gg + s, true
		}
	}
	return "", false
}

// expertName recognises model.layers.N.mlp.experts.X.{gate,up,down}_proj.weight.
var expertName = regexp.MustCompile(`^model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.(gate|up|down)_proj\.weight$`)
