package convert

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dfim/dfim/engine/native/gguf"
)

// Token types as llama.cpp writes tokenizer.ggml.token_type.
const (
	tokNormal      = 1
	tokControl     = 3
	tokUserDefined = 4
	tokUnused      = 5
)

// The pre-tokenizer regular expressions of the byte-level BPE vocabularies
// dfim knows, as tokenizer.json spells them. llama.cpp identifies a
// vocabulary by hashing what transformers makes of it; dfim reads the
// pattern itself.
const (
	qwen2Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// bailingPattern is Ling/BailingMoE's, which LLaDA-MoE uses: llama.cpp
	// calls it "llada-moe" and splits it as "bailingmoe" (Qwen2's split with
	// possessive quantifiers).
	bailingPattern = `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`
)

// vocab is a checkpoint's tokenizer as GGUF stores it.
type vocab struct {
	pre     string
	tokens  []string
	types   []int32
	merges  []string
	special map[string]int // bos, eos, padding, unknown, mask → id
	addBOS  *bool
	byText  map[string]int
}

type hfTokenizer struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	PreTokenizer *preTokenizer `json:"pre_tokenizer"`
	Model        struct {
		Type   string          `json:"type"`
		Vocab  map[string]int  `json:"vocab"`
		Merges json.RawMessage `json:"merges"`
	} `json:"model"`
}

type preTokenizer struct {
	Type          string          `json:"type"`
	Pretokenizers []*preTokenizer `json:"pretokenizers"`
	Pattern       struct {
		Regex string `json:"Regex"`
	} `json:"pattern"`
	UseRegex *bool `json:"use_regex"`
}

// readVocab reads tokenizer.json (and tokenizer_config.json when present)
// as llama.cpp's converter does for these families: ids past the tokenizer
// up to size (the embedding rows, when the table is padded) become
// "[PAD<id>]" tokens of type unused; added tokens are control tokens when
// special, user-defined otherwise.
func readVocab(dir string, size int, cfg map[string]any, family string) (*vocab, error) {
	path := filepath.Join(dir, "tokenizer.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%v; a checkpoint needs its tokenizer.json to be converted", err)
	}
	var tj hfTokenizer
	if err := json.Unmarshal(b, &tj); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if tj.Model.Type != "BPE" {
		return nil, fmt.Errorf("%s: tokenizer model %q; dfim converts byte-level BPE tokenizers", path, tj.Model.Type)
	}
	v := &vocab{special: map[string]int{}, byText: map[string]int{}}
	if v.pre, err = preName(tj.PreTokenizer, family); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	byID := map[int]string{}
	maxID := -1
	for tok, id := range tj.Model.Vocab {
		byID[id] = tok
		maxID = max(maxID, id)
	}
	added := map[int]bool{}
	special := map[int]bool{}
	for _, a := range tj.AddedTokens {
		byID[a.ID] = a.Content
		added[a.ID] = true
		special[a.ID] = a.Special
		maxID = max(maxID, a.ID)
	}
	if size <= 0 {
		size = maxID + 1
	}
	if maxID >= size {
		return nil, fmt.Errorf("%s: token id %d is past the model's %d embedding rows; the tokenizer does not belong to these weights", path, maxID, size)
	}
	for i := range size {
		tok, ok := byID[i]
		switch {
		case !ok:
			v.tokens = append(v.tokens, fmt.Sprintf("[PAD%d]", i))
			v.types = append(v.types, tokUnused)
		case added[i] && special[i]:
			v.tokens = append(v.tokens, tok)
			v.types = append(v.types, tokControl)
		case added[i]:
			v.tokens = append(v.tokens, tok)
			v.types = append(v.types, tokUserDefined)
		default:
			v.tokens = append(v.tokens, tok)
			v.types = append(v.types, tokNormal)
		}
		if ok {
			v.byText[tok] = i
		}
	}
	if v.merges, err = readMerges(tj.Model.Merges); err != nil {
		return nil, fmt.Errorf("%s: merges: %v", path, err)
	}
	v.readSpecial(dir, cfg)
	return v, nil
}

func readMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return []string{}, nil
	}
	var asStrings []string
	if err := json.Unmarshal(raw, &asStrings); err == nil {
		return asStrings, nil
	}
	var asPairs [][]string // tokenizers ≥ 0.20 writes [left, right] pairs
	if err := json.Unmarshal(raw, &asPairs); err != nil {
		return nil, err
	}
	out := make([]string, len(asPairs))
	for i, p := range asPairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("merge %d has %d parts, want 2", i, len(p))
		}
		out[i] = p[0] + " " + p[1]
	}
	return out, nil
}

// preName names the pre-tokenizer as llama.cpp's tokenizer.ggml.pre does.
func preName(p *preTokenizer, family string) (string, error) {
	var regexes []string
	byteLevelRegex := false
	var walk func(*preTokenizer)
	walk = func(p *preTokenizer) {
		if p == nil {
			return
		}
		switch p.Type {
		case "Sequence":
			for _, c := range p.Pretokenizers {
				walk(c)
			}
		case "Split":
			regexes = append(regexes, p.Pattern.Regex)
		case "ByteLevel":
			byteLevelRegex = p.UseRegex == nil || *p.UseRegex
		}
	}
	walk(p)
	switch {
	case len(regexes) == 1 && regexes[0] == qwen2Pattern:
		if family == "llada-moe" {
			return "llada-moe", nil
		}
		return "qwen2", nil
	case len(regexes) == 1 && regexes[0] == bailingPattern:
		if family == "llada-moe" {
			return "llada-moe", nil
		}
		return "bailingmoe", nil
	case len(regexes) == 1 && regexes[0] == llama3Pattern:
		// Also for LLaDA: llama.cpp knows no "llada" pre-tokenizer (its
		// loader refuses the name), and splits LLaMA 3's pattern as llama-bpe.
		return "llama-bpe", nil
	case len(regexes) == 0 && byteLevelRegex:
		return "gpt2", nil
	}
	return "", fmt.Errorf("pre-tokenizer %q is not one dfim knows (Qwen2's, LLaMA 3's, BailingMoE's or GPT-2's byte-level split)", regexes)
}

// readSpecial finds the special token ids: tokenizer_config.json's
// bos/eos/pad/unk/mask_token texts, then config.json's *_token_id where
// those are absent (llama.cpp's SpecialVocab order).
func (v *vocab) readSpecial(dir string, cfg map[string]any) {
	var tc map[string]any
	if b, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json")); err == nil {
		json.Unmarshal(b, &tc)
	}
	for _, k := range []struct{ hf, gguf string }{{"bos", "bos"}, {"eos", "eos"}, {"pad", "padding"}, {"unk", "unknown"}, {"mask", "mask"}} {
		text := ""
		switch t := tc[k.hf+"_token"].(type) {
		case string:
			text = t
		case map[string]any:
			text, _ = t["content"].(string)
		}
		if id, ok := v.byText[text]; ok && text != "" {
			v.special[k.gguf] = id
			continue
		}
		if id, ok := intOf(cfg[k.hf+"_token_id"]); ok && id >= 0 && id < len(v.tokens) {
			v.special[k.gguf] = id
		}
	}
	if b, ok := tc["add_bos_token"].(bool); ok {
		v.addBOS = &b
	}
}

func intOf(x any) (int, bool) {
	switch n := x.(type) {
	case float64:
		return int(n), n == float64(int(n))
	case []any: // eos_token_id may be a list; llama.cpp takes the first
		if len(n) > 0 {
			return intOf(n[0])
		}
	}
	return 0, false
}

// write sets the tokenizer.ggml.* keys.
func (v *vocab) write(w *gguf.Writer) {
	w.SetString("tokenizer.ggml.model", "gpt2")
	w.SetString("tokenizer.ggml.pre", v.pre)
	w.SetStrings("tokenizer.ggml.tokens", v.tokens)
	w.SetInt32s("tokenizer.ggml.token_type", v.types)
	w.SetStrings("tokenizer.ggml.merges", v.merges)
	for _, k := range []string{"bos", "eos", "unknown", "padding", "mask"} {
		if id, ok := v.special[k]; ok {
			w.SetUint32("tokenizer.ggml."+k+"_token_id", uint32(id))
		}
	}
	if v.addBOS != nil {
		w.SetBool("tokenizer.ggml.add_bos_token", *v.addBOS)
	}
}

// describe is the special tokens for people: "mask <|mask|> (151666)".
func (v *vocab) describe(kind string) string {
	id, ok := v.special[kind]
	if !ok {
		return "none"
	}
	return fmt.Sprintf("%s (%d)", strings.TrimSpace(v.tokens[id]), id)
}
