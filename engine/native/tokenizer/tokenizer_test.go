package tokenizer

import (
	"bytes"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/dfim/dfim/engine/native/gguf"
)

// vocab is a small byte-level BPE vocabulary trained in the test: the 256
// byte tokens, merges learned from real code, then special tokens.
type vocab struct {
	tokens []string
	types  []int32
	merges []string
	ranks  map[[2]string]int // merge → rank, for refBPE
	index  map[string]int32  // token text → id, for refBPE
}

func (v *vocab) prepare() {
	v.ranks = map[[2]string]int{}
	for i, m := range v.merges {
		a, b, _ := strings.Cut(m, " ")
		v.ranks[[2]string{a, b}] = i
	}
	v.index = map[string]int32{}
	for i, t := range v.tokens {
		if _, dup := v.index[t]; !dup {
			v.index[t] = int32(i)
		}
	}
}

const (
	eosText  = "<|endoftext|>"
	maskText = "<|mask|>"
	userText = "<tool_call>"
)

// trainVocab learns n merges from text as GPT-2 does: count adjacent pairs
// within the words of the pre-tokenizer, merge the most frequent pair
// everywhere, repeat. Ties go to the smaller pair, for determinism.
func trainVocab(text string, split splitter, n int) vocab {
	var v vocab
	for b := range 256 {
		v.tokens = append(v.tokens, string(byteToRune[b]))
		v.types = append(v.types, typeNormal)
	}
	freq := map[string]int{}
	for _, w := range words(split, text) {
		freq[w]++
	}
	type word struct {
		syms  []string
		count int
	}
	var ws []word
	for w, c := range freq {
		var syms []string
		for _, r := range encodeBytes(w) {
			syms = append(syms, string(r))
		}
		ws = append(ws, word{syms, c})
	}
	for range n {
		counts := map[[2]string]int{}
		for _, w := range ws {
			for i := 1; i < len(w.syms); i++ {
				counts[[2]string{w.syms[i-1], w.syms[i]}] += w.count
			}
		}
		var best [2]string
		bestN := 0
		for p, c := range counts {
			if c > bestN || (c == bestN && (p[0]+" "+p[1]) < (best[0]+" "+best[1])) {
				best, bestN = p, c
			}
		}
		if bestN < 2 {
			break
		}
		v.merges = append(v.merges, best[0]+" "+best[1])
		v.tokens = append(v.tokens, best[0]+best[1])
		v.types = append(v.types, typeNormal)
		for i := range ws {
			ws[i].syms = mergeAll(ws[i].syms, best)
		}
	}
	for _, s := range []struct {
		text string
		typ  int32
	}{{eosText, typeControl}, {maskText, typeControl}, {userText, typeUserDefined}} {
		v.tokens = append(v.tokens, s.text)
		v.types = append(v.types, s.typ)
	}
	v.prepare()
	return v
}

// mergeAll replaces every occurrence of pair in syms, left to right.
func mergeAll(syms []string, pair [2]string) []string {
	out := syms[:0:0]
	for i := 0; i < len(syms); i++ {
		if i+1 < len(syms) && syms[i] == pair[0] && syms[i+1] == pair[1] {
			out = append(out, pair[0]+pair[1])
			i++
		} else {
			out = append(out, syms[i])
		}
	}
	return out
}

// refBPE is the slow, obvious tokenization of one word: GPT-2's bpe() —
// merge the lowest-ranked pair everywhere until none is left.
func refBPE(word string, v vocab) []int32 {
	var syms []string
	for _, r := range encodeBytes(word) {
		syms = append(syms, string(r))
	}
	for {
		best, bestRank := [2]string{}, -1
		for i := 1; i < len(syms); i++ {
			if r, ok := v.ranks[[2]string{syms[i-1], syms[i]}]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = [2]string{syms[i-1], syms[i]}, r
			}
		}
		if bestRank < 0 {
			break
		}
		syms = mergeAll(syms, best)
	}
	ids := make([]int32, len(syms))
	for i, s := range syms {
		ids[i] = v.index[s]
	}
	return ids
}

func (v vocab) gguf(t testing.TB, pre string, set func(w *gguf.Writer)) *gguf.File {
	t.Helper()
	w := gguf.NewWriter()
	w.SetString("general.architecture", "dream")
	w.SetString("tokenizer.ggml.model", "gpt2")
	w.SetString("tokenizer.ggml.pre", pre)
	w.SetStrings("tokenizer.ggml.tokens", v.tokens)
	w.SetInt32s("tokenizer.ggml.token_type", v.types)
	w.SetStrings("tokenizer.ggml.merges", v.merges)
	w.SetUint32("tokenizer.ggml.eos_token_id", uint32(slices.Index(v.tokens, eosText)))
	if set != nil {
		set(w)
	}
	b, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse("vocab.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	trainOnce sync.Once
	trained   map[string]vocab
)

// testVocab trains (once per pre-tokenizer) on Go's strings package.
func testVocab(t testing.TB, pre string) (vocab, *Tokenizer) {
	t.Helper()
	files := realCodeFiles(t)
	trainOnce.Do(func() {
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		trained = map[string]vocab{
			"qwen2":  trainVocab(string(b), splitQwen2, 400),
			"llama3": trainVocab(string(b), splitLlama3, 400),
			"gpt2":   trainVocab(string(b), splitGPT2, 400),
		}
	})
	v := trained[pre]
	tok, err := FromGGUF(v.gguf(t, pre, nil))
	if err != nil {
		t.Fatal(err)
	}
	return v, tok
}

func TestEncodeMatchesReferenceBPE(t *testing.T) {
	for _, pre := range []string{"qwen2", "gpt2", "llama3"} {
		v, tok := testVocab(t, pre)
		for _, path := range realCodeFiles(t) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			if len(text) > 60000 {
				text = text[:60000]
			}
			// The reference pre-tokenizer is the regexp one, so this checks
			// the whole pipeline against slow, obvious code.
			var want []int32
			re := map[string]func(string) []string{
				"qwen2":  func(s string) []string { return refWords(refQwen2, true, s) },
				"llama3": func(s string) []string { return refWords(refLlama3, true, s) },
				"gpt2":   func(s string) []string { return refWords(refGPT2, false, s) },
			}[pre]
			for _, w := range re(strings.ReplaceAll(text, userText, "")) {
				if pre == "llama3" {
					// ignore_merges: a word in the vocabulary is one token.
					if id, ok := v.index[encodeBytes(w)]; ok && id < int32(256+len(v.merges)) {
						want = append(want, int32(id))
						continue
					}
				}
				want = append(want, refBPE(w, v)...)
			}
			got := tok.Encode(strings.ReplaceAll(text, userText, ""))
			if !slices.Equal(got, want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("%s, %s: token %d is %q, reference %q", pre, path, i, tok.Token(got[i]), tok.Token(want[i]))
					}
				}
				t.Fatalf("%s, %s: %d tokens, reference %d", pre, path, len(got), len(want))
			}
			if len(got) > len(text)*2/3 {
				t.Errorf("%s, %s: %d tokens for %d bytes: merges barely applied", pre, path, len(got), len(text))
			}
			if dec := tok.Decode(got); dec != strings.ReplaceAll(text, userText, "") {
				t.Fatalf("%s, %s: decode differs from the input", pre, path)
			}
		}
	}
}

func TestRoundTripOddText(t *testing.T) {
	_, tok := testVocab(t, "qwen2")
	rng := rand.New(rand.NewPCG(5, 6))
	inputs := []string{
		"", " ", "\n", "a\xffb\xc3", "\xe4\xb8", "变量 := \"值\" // 😀\r\n\t\u00a0x",
		"\x00\x01\x7f", strings.Repeat(" ", 300) + "x", strings.Repeat("ab", 500),
	}
	for range 200 {
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		ids := tok.Encode(s)
		if got := tok.Decode(ids); got != s {
			t.Fatalf("%q decodes as %q", s, got)
		}
		for _, id := range ids {
			if tok.IsSpecial(id) {
				t.Fatalf("%q encodes to special token %d", s, id)
			}
		}
	}
}

func TestSpecialTokens(t *testing.T) {
	v, tok := testVocab(t, "qwen2")
	eos, mask, user := int32(slices.Index(v.tokens, eosText)), int32(slices.Index(v.tokens, maskText)), int32(slices.Index(v.tokens, userText))
	if tok.EOS() != eos || tok.Mask() != mask || tok.BOS() != -1 || tok.Pad() != -1 {
		t.Errorf("eos %d mask %d bos %d pad %d, want %d %d -1 -1", tok.EOS(), tok.Mask(), tok.BOS(), tok.Pad(), eos, mask)
	}
	if !tok.IsSpecial(eos) || !tok.IsSpecial(mask) || tok.IsSpecial(user) || tok.IsSpecial('a') || tok.IsSpecial(-1) || tok.IsSpecial(1<<30) {
		t.Error("IsSpecial is wrong")
	}
	// Specials written in code are text, not specials.
	ids := tok.Encode("x := \"" + eosText + maskText + "\"")
	if slices.Contains(ids, eos) || slices.Contains(ids, mask) {
		t.Errorf("special token text became a special token: %v", ids)
	}
	// User-defined tokens are matched literally, as llama.cpp does.
	ids = tok.Encode("a" + userText + "b")
	if !slices.Contains(ids, user) || tok.Decode(ids) != "a"+userText+"b" {
		t.Errorf("user-defined token: %v decodes as %q", ids, tok.Decode(ids))
	}
	// Decode skips specials and ids out of range.
	in := append([]int32{mask, -5, 1 << 20}, tok.Encode("hi")...)
	in = append(in, eos, mask)
	if got := tok.Decode(in); got != "hi" {
		t.Errorf("Decode = %q, want \"hi\"", got)
	}
	if tok.TokenBytes(eos) != nil || !bytes.Equal(tok.TokenBytes(int32(' ')), []byte{' '}) {
		t.Error("TokenBytes wrong for a special or a byte token")
	}
	if id, ok := tok.ID("Ġ"); !ok || id != ' ' {
		t.Errorf("ID(\"Ġ\") = %d, %v", id, ok)
	}
	if tok.VocabSize() != len(v.tokens) || tok.Pre() != "qwen2" || tok.NumMerges() != len(v.merges) {
		t.Errorf("vocab size %d, pre %q, %d merges", tok.VocabSize(), tok.Pre(), tok.NumMerges())
	}
}

func TestMaskFallbackAndKeys(t *testing.T) {
	v, _ := testVocab(t, "qwen2")
	v.tokens = slices.Clone(v.tokens)
	v.tokens[slices.Index(v.tokens, maskText)] = "<|mdm_mask|>" // LLaDA's name
	tok, err := FromGGUF(v.gguf(t, "llama3", func(w *gguf.Writer) {
		w.SetUint32("tokenizer.ggml.padding_token_id", 5)
		w.SetUint32("tokenizer.ggml.bos_token_id", 6)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Mask() != int32(len(v.tokens)-2) || tok.Pad() != 5 || tok.BOS() != 6 || !tok.AddBOS() {
		t.Errorf("mask %d pad %d bos %d addBOS %v", tok.Mask(), tok.Pad(), tok.BOS(), tok.AddBOS())
	}
	if !tok.IsSpecial(5) || tok.Decode([]int32{5, 'a'}) != "a" {
		t.Error("the pad id is not treated as special")
	}
	// An explicit mask id wins over the text.
	tok, err = FromGGUF(v.gguf(t, "qwen2", func(w *gguf.Writer) {
		w.SetInt32("tokenizer.ggml.mask_token_id", 7)
		w.SetBool("tokenizer.ggml.add_bos_token", false)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Mask() != 7 || tok.AddBOS() {
		t.Errorf("mask %d addBOS %v", tok.Mask(), tok.AddBOS())
	}
}

func TestIgnoreMergesLlama3(t *testing.T) {
	// "abc" is in the vocabulary but no merge builds it.
	v := vocab{merges: []string{}}
	for b := range 256 {
		v.tokens = append(v.tokens, string(byteToRune[b]))
		v.types = append(v.types, typeNormal)
	}
	v.tokens = append(v.tokens, "abc", eosText)
	v.types = append(v.types, typeNormal, typeControl)
	for pre, want := range map[string][]int32{"llama3": {256}, "qwen2": {'a', 'b', 'c'}} {
		tok, err := FromGGUF(v.gguf(t, pre, nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Encode("abc"); !slices.Equal(got, want) {
			t.Errorf("%s: Encode(abc) = %v, want %v", pre, got, want)
		}
	}
}

func TestFromGGUFErrors(t *testing.T) {
	v, _ := testVocab(t, "qwen2")
	cases := map[string]struct {
		set  func(w *gguf.Writer)
		want string
	}{
		"spm":          {func(w *gguf.Writer) { w.SetString("tokenizer.ggml.model", "llama") }, `tokenizer model "llama" is not supported`},
		"unknown pre":  {func(w *gguf.Writer) { w.SetString("tokenizer.ggml.pre", "klingon") }, `pre-tokenizer "klingon" is not supported (dfim knows`},
		"types length": {func(w *gguf.Writer) { w.SetInt32s("tokenizer.ggml.token_type", []int32{1}) }, "token_type has 1 entries"},
		"mask range":   {func(w *gguf.Writer) { w.SetUint32("tokenizer.ggml.mask_token_id", 1<<20) }, "mask_token_id is 1048576"},
		"bad merge":    {func(w *gguf.Writer) { w.SetStrings("tokenizer.ggml.merges", []string{"ab"}) }, `merge 0 ("ab") has no space`},
		"no tokens":    {func(w *gguf.Writer) { w.SetStrings("tokenizer.ggml.tokens", nil) }, "tokens is missing or empty"},
	}
	for name, c := range cases {
		_, err := FromGGUF(v.gguf(t, "qwen2", c.set))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "vocab.gguf: tokenizer: ") {
			t.Errorf("%s: error %v, want it to contain %q", name, err, c.want)
		}
	}
}

func TestEncodeConcurrently(t *testing.T) {
	_, tok := testVocab(t, "qwen2")
	b, err := os.ReadFile(realCodeFiles(t)[1])
	if err != nil {
		t.Fatal(err)
	}
	want := tok.Encode(string(b))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if got := tok.Encode(string(b)); !slices.Equal(got, want) {
				t.Error("concurrent Encode differs")
			}
		})
	}
	wg.Wait()
}

// A character split across a hole's edge decodes to invalid UTF-8; Decode
// keeps its bytes so joining the pieces restores it.
func TestDecodeKeepsPartialCharacters(t *testing.T) {
	_, tok := testVocab(t, "qwen2")
	ids := tok.Encode("é")
	if len(ids) != 2 {
		t.Skipf("é is %d tokens in this vocabulary", len(ids))
	}
	a, b := tok.Decode(ids[:1]), tok.Decode(ids[1:])
	if utf8.ValidString(a) || a+b != "é" {
		t.Errorf("halves %q %q", a, b)
	}
}

func BenchmarkEncode(b *testing.B) {
	_, tok := testVocab(b, "qwen2")
	var text []byte
	for _, f := range realCodeFiles(b) {
		t, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		text = append(text, t...)
	}
	s := string(text)
	b.Run("cached", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		var n int
		for b.Loop() {
			n = len(tok.Encode(s))
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
	b.Run("cold", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			tok.cache.mu.Lock()
			clear(tok.cache.words)
			tok.cache.mu.Unlock()
			tok.Encode(s)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	_, tok := testVocab(b, "qwen2")
	t, err := os.ReadFile(realCodeFiles(b)[3])
	if err != nil {
		b.Fatal(err)
	}
	ids := tok.Encode(string(t))
	b.SetBytes(int64(len(t)))
	b.ReportAllocs()
	for b.Loop() {
		tok.Decode(ids)
	}
}
