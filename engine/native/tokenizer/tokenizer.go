package tokenizer

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dfim/dfim/engine/native/gguf"
)

// Token types, as llama.cpp writes tokenizer.ggml.token_type.
const (
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

// maskTexts are the mask tokens of diffusion models whose GGUF lacks
// tokenizer.ggml.mask_token_id: Dream's and LLaDA's.
var maskTexts = []string{"<|mask|>", "<|mdm_mask|>"}

// A Tokenizer is a byte-level BPE vocabulary with its merges and special
// tokens. It is safe for concurrent use.
type Tokenizer struct {
	pre   string
	split splitter
	// ignoreMerges: a word that is in the vocabulary is one token (LLaMA 3).
	ignoreMerges bool
	addBOS       bool

	texts   []string // vocabulary text as stored (byte-level alphabet)
	raw     []byte   // raw bytes of all tokens, back to back
	rawEnd  []uint32 // token i's bytes are raw[rawEnd[i-1]:rawEnd[i]]
	special []bool
	byText  map[string]int32
	byRaw   map[string]int32 // only with ignoreMerges: raw bytes → id
	byteTok [256]int32       // the token of each single byte, or -1
	merges  map[uint64]merge // (left id, right id) → merge

	// literal are user-defined tokens matched verbatim in text before
	// pre-tokenizing, longest first (as llama.cpp does).
	literal []literalToken

	bos, eos, pad, mask, unk int32

	cache wordCache
}

type merge struct {
	rank   int32
	result int32
}

type literalToken struct {
	text string
	id   int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// FromGGUF reads the tokenizer of a GGUF model: tokenizer.ggml.model must
// be "gpt2" (byte-level BPE); tokens, merges, token_type, pre and the
// special token ids come from the tokenizer.ggml.* keys. A missing mask id
// is found by its text, as Dream and LLaDA name it.
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	fail := func(format string, args ...any) (*Tokenizer, error) {
		return nil, fmt.Errorf("%s: tokenizer: "+format, append([]any{f.Path}, args...)...)
	}
	model, ok := f.String("tokenizer.ggml.model")
	if !ok {
		return fail("tokenizer.ggml.model is missing; the model file has no tokenizer")
	}
	if model != "gpt2" {
		return fail("tokenizer model %q is not supported; dfim reads byte-level BPE vocabularies (\"gpt2\")", model)
	}
	pre, _ := f.String("tokenizer.ggml.pre")
	pt, ok := preTokenizers[pre]
	if !ok {
		names := make([]string, 0, len(preTokenizers))
		for n := range preTokenizers {
			if n != "" {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		return fail("pre-tokenizer %q is not supported (dfim knows %s)", pre, strings.Join(names, ", "))
	}
	tokens, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok || len(tokens) == 0 {
		return fail("tokenizer.ggml.tokens is missing or empty")
	}
	if len(tokens) >= 1<<31 {
		return fail("%d tokens is more than token ids can hold", len(tokens))
	}
	types, hasTypes := f.Ints("tokenizer.ggml.token_type")
	if hasTypes && len(types) != len(tokens) {
		return fail("tokenizer.ggml.token_type has %d entries for %d tokens; the file is corrupt", len(types), len(tokens))
	}
	merges, _ := f.Strings("tokenizer.ggml.merges")
	return build(f.Path, pre, pt, tokens, types, merges, specialIDs(f), boolKey(f, "tokenizer.ggml.add_bos_token", pt.addBOS))
}

func boolKey(f *gguf.File, key string, def bool) bool {
	if b, ok := f.Bool(key); ok {
		return b
	}
	return def
}

// specialIDs reads the special token ids; -1 where absent or negative.
func specialIDs(f *gguf.File) map[string]int64 {
	ids := map[string]int64{}
	for _, name := range []string{"bos", "eos", "padding", "mask", "unknown"} {
		ids[name] = -1
		if v, ok := f.Int("tokenizer.ggml." + name + "_token_id"); ok && v >= 0 {
			ids[name] = v
		}
	}
	return ids
}

func build(file, pre string, pt preTokenizer, tokens []string, types []int64, merges []string, ids map[string]int64, addBOS bool) (*Tokenizer, error) {
	t := &Tokenizer{
		pre:          pre,
		split:        pt.split,
		ignoreMerges: pt.ignoreMerges,
		addBOS:       addBOS,
		texts:        tokens,
		rawEnd:       make([]uint32, len(tokens)),
		special:      make([]bool, len(tokens)),
		byText:       make(map[string]int32, len(tokens)),
		merges:       make(map[uint64]merge, len(merges)),
	}
	for i := range t.byteTok {
		t.byteTok[i] = -1
	}
	if t.ignoreMerges {
		t.byRaw = make(map[string]int32, len(tokens))
	}
	for i, text := range tokens {
		id := int32(i)
		typ := int64(typeNormal)
		if types != nil {
			typ = types[i]
		}
		if _, dup := t.byText[text]; !dup {
			t.byText[text] = id
		}
		switch typ {
		case typeControl, typeUnknown, typeUnused:
			t.special[i] = true
		case typeUserDefined:
			t.raw = append(t.raw, text...)
			if text != "" {
				t.literal = append(t.literal, literalToken{text, id})
			}
		case typeByte:
			// SentencePiece-style "<0x0A>": unusual in BPE, but honoured.
			var b byte
			if _, err := fmt.Sscanf(text, "<0x%02X>", &b); err == nil {
				t.raw = append(t.raw, b)
			} else {
				t.raw = decodeBytes(t.raw, text)
			}
		default:
			t.raw = decodeBytes(t.raw, text)
		}
		if len(t.raw) >= 1<<32 {
			return nil, fmt.Errorf("%s: tokenizer: the vocabulary's text exceeds 4 GiB; the file is corrupt", file)
		}
		t.rawEnd[i] = uint32(len(t.raw))
		if !t.special[i] {
			b := t.TokenBytes(id)
			if len(b) == 1 && t.byteTok[b[0]] < 0 && typ != typeUserDefined {
				t.byteTok[b[0]] = id
			}
			if t.byRaw != nil {
				if _, dup := t.byRaw[string(b)]; !dup {
					t.byRaw[string(b)] = id
				}
			}
		}
	}
	// Longest first, so "<|fim_pad|>" wins over a shorter token inside it.
	slices.SortStableFunc(t.literal, func(a, b literalToken) int { return len(b.text) - len(a.text) })

	var err error
	if t.bos, err = specialID(file, "bos", ids, len(tokens)); err != nil {
		return nil, err
	}
	if t.eos, err = specialID(file, "eos", ids, len(tokens)); err != nil {
		return nil, err
	}
	if t.pad, err = specialID(file, "padding", ids, len(tokens)); err != nil {
		return nil, err
	}
	if t.mask, err = specialID(file, "mask", ids, len(tokens)); err != nil {
		return nil, err
	}
	if t.unk, err = specialID(file, "unknown", ids, len(tokens)); err != nil {
		return nil, err
	}
	if t.mask < 0 {
		for _, text := range maskTexts {
			if id, ok := t.byText[text]; ok {
				t.mask = id
				break
			}
		}
	}
	for _, id := range []int32{t.bos, t.eos, t.pad, t.mask, t.unk} {
		if id >= 0 {
			t.special[id] = true
		}
	}

	for rank, m := range merges {
		// The separator is the first space after the first byte, as in
		// llama.cpp (byte-level tokens never contain a plain space).
		sp := strings.IndexByte(m[min(1, len(m)):], ' ')
		if sp < 0 {
			return nil, fmt.Errorf("%s: tokenizer: merge %d (%q) has no space between its two parts; the file is corrupt", file, rank, m)
		}
		sp += min(1, len(m))
		left, lok := t.byText[m[:sp]]
		right, rok := t.byText[m[sp+1:]]
		result, ok := t.byText[m[:sp]+m[sp+1:]]
		if !lok || !rok || !ok {
			continue // a merge that cannot produce a token changes nothing
		}
		key := pairKey(left, right)
		if _, dup := t.merges[key]; !dup {
			t.merges[key] = merge{rank: int32(rank), result: result}
		}
	}
	t.cache.init()
	return t, nil
}

func specialID(file, name string, ids map[string]int64, n int) (int32, error) {
	id := ids[name]
	if id >= int64(n) {
		return -1, fmt.Errorf("%s: tokenizer: tokenizer.ggml.%s_token_id is %d but the vocabulary has %d tokens; the file is corrupt", file, name, id, n)
	}
	return int32(id), nil
}

// Pre is the pre-tokenizer name (tokenizer.ggml.pre).
func (t *Tokenizer) Pre() string { return t.pre }

// NumMerges is the number of merges in use (those that make a token).
func (t *Tokenizer) NumMerges() int { return len(t.merges) }

// VocabSize is the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.texts) }

// Mask is the mask token id, or -1 when the vocabulary has none.
func (t *Tokenizer) Mask() int32 { return t.mask }

// Pad is the padding token id, or -1 when absent (callers may use EOS).
func (t *Tokenizer) Pad() int32 { return t.pad }

// EOS is the end-of-sequence token id, or -1 when absent.
func (t *Tokenizer) EOS() int32 { return t.eos }

// BOS is the beginning-of-sequence token id, or -1 when absent.
func (t *Tokenizer) BOS() int32 { return t.bos }

// AddBOS reports whether the model expects BOS in front of its input
// (tokenizer.ggml.add_bos_token, else the pre-tokenizer's default).
func (t *Tokenizer) AddBOS() bool { return t.addBOS && t.bos >= 0 }

// IsSpecial reports whether id is a control token (special tokens, unused
// slots, the ids named mask/pad/EOS/BOS/UNK): Decode skips those.
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.special) && t.special[id]
}

// Token returns the text of token id as the vocabulary stores it (GPT-2's
// byte-level alphabet: "Ġfoo" for " foo"), or "" when out of range.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.texts) {
		return ""
	}
	return t.texts[id]
}

// ID returns the id of the token whose vocabulary text is text (such as
// "<|fim_prefix|>" or "Ġfoo").
func (t *Tokenizer) ID(text string) (int32, bool) {
	id, ok := t.byText[text]
	return id, ok
}

// TokenBytes returns the raw bytes token id stands for; nil for special
// tokens and ids out of range. The slice is shared: do not modify it.
func (t *Tokenizer) TokenBytes(id int32) []byte {
	if id < 0 || int(id) >= len(t.rawEnd) || t.special[id] {
		return nil
	}
	start := uint32(0)
	if id > 0 {
		start = t.rawEnd[id-1]
	}
	return t.raw[start:t.rawEnd[id]:t.rawEnd[id]]
}

// Decode returns the text of ids, skipping special tokens and ids out of
// range. Bytes that are not valid UTF-8 (a character split across tokens at
// the edge of ids) are kept as they are.
func (t *Tokenizer) Decode(ids []int32) string {
	return string(t.AppendDecoded(make([]byte, 0, 4*len(ids)), ids))
}

// AppendDecoded appends the bytes of ids to dst, as Decode.
func (t *Tokenizer) AppendDecoded(dst []byte, ids []int32) []byte {
	for _, id := range ids {
		dst = append(dst, t.TokenBytes(id)...)
	}
	return dst
}

// Encode returns the token ids of text. It adds no BOS or EOS, and special
// tokens written in the text are tokenized as the text they are.
func (t *Tokenizer) Encode(text string) []int32 {
	return t.AppendEncoded(make([]int32, 0, len(text)/3+1), text)
}

// AppendEncoded appends the token ids of text to dst, as Encode.
func (t *Tokenizer) AppendEncoded(dst []int32, text string) []int32 {
	if len(t.literal) == 0 {
		return t.appendWords(dst, text)
	}
	return t.appendLiterals(dst, text, 0)
}

// appendLiterals splits text at occurrences of user-defined tokens, in the
// order llama.cpp tries them (longest first), and encodes the rest.
func (t *Tokenizer) appendLiterals(dst []int32, text string, from int) []int32 {
	for k := from; k < len(t.literal); k++ {
		lit := t.literal[k]
		i := strings.Index(text, lit.text)
		if i < 0 {
			continue
		}
		for i >= 0 {
			dst = t.appendLiterals(dst, text[:i], k+1)
			dst = append(dst, lit.id)
			text = text[i+len(lit.text):]
			i = strings.Index(text, lit.text)
		}
		return t.appendLiterals(dst, text, k+1)
	}
	return t.appendWords(dst, text)
}

func (t *Tokenizer) appendWords(dst []int32, text string) []int32 {
	for i := 0; i < len(text); {
		j := t.split(text, i)
		if j <= i { // cannot happen with the splitters here; never loop
			j = i + 1
		}
		dst = t.appendWord(dst, text[i:j])
		i = j
	}
	return dst
}
