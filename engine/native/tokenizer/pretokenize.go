package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// A splitter returns the end of the pre-token (word) that starts at byte i
// of s (i < len(s)); it always advances. Words are what BPE merges within.
type splitter func(s string, i int) int

// Character classes the pre-tokenizer regexps use.
const (
	cLetter  = 1 << iota // \p{L}
	cNumber              // \p{N}
	cSpace               // \s (Unicode White_Space)
	cNewline             // \r or \n (also cSpace)
)

var asciiClass [utf8.RuneSelf]uint8

func init() {
	for r := range rune(utf8.RuneSelf) {
		var c uint8
		switch {
		case unicode.IsLetter(r):
			c = cLetter
		case unicode.IsNumber(r):
			c = cNumber
		case r == '\r' || r == '\n':
			c = cSpace | cNewline
		case unicode.IsSpace(r):
			c = cSpace
		}
		asciiClass[r] = c
	}
}

// classAt returns the class of the rune at s[i] and its width. Invalid
// UTF-8 is one byte of class 0 (like punctuation), so every byte of the
// input lands in some word and round-trips.
func classAt(s string, i int) (uint8, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return asciiClass[b], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && n == 1:
		return 0, 1
	case unicode.IsLetter(r):
		return cLetter, n
	case unicode.IsNumber(r):
		return cNumber, n
	case unicode.IsSpace(r):
		return cSpace, n
	}
	return 0, n
}

// scanWhile advances over runes having any class in want.
func scanWhile(s string, i int, want uint8) int {
	for i < len(s) {
		c, n := classAt(s, i)
		if c&want == 0 {
			break
		}
		i += n
	}
	return i
}

// scanOther advances over runes that are not letters, numbers or spaces:
// the class [^\s\p{L}\p{N}].
func scanOther(s string, i int) int {
	for i < len(s) {
		c, n := classAt(s, i)
		if c != 0 {
			break
		}
		i += n
	}
	return i
}

// contraction returns the length of s|t|re|ve|m|ll|d at s[j:] (after an
// apostrophe), or 0; fold makes it case-insensitive.
func contraction(s string, j int, fold bool) int {
	if j >= len(s) {
		return 0
	}
	lower := func(b byte) byte {
		if fold && 'A' <= b && b <= 'Z' {
			return b + 'a' - 'A'
		}
		return b
	}
	switch lower(s[j]) {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if j+1 < len(s) && lower(s[j+1]) == 'e' {
			return 2
		}
	case 'l':
		if j+1 < len(s) && lower(s[j+1]) == 'l' {
			return 2
		}
	}
	return 0
}

// splitSpace matches a whitespace run at s[i] with the regexp tail
// `\s*[\r\n]+|\s+(?!\S)|\s+` (newlines) or `\s+(?!\S)|\s+` (no newlines):
//   - with newlines, a run holding \r or \n ends after its last one;
//   - a run reaching the end of the text is taken whole;
//   - a longer run before a non-space leaves its last rune to the next word
//     (that is the look-ahead), so " foo" keeps its space;
//   - a single space or tab before a non-space is a word by itself.
func splitSpace(s string, i int, newlines bool) int {
	end, lastNL, lastStart, runes := i, -1, i, 0
	for end < len(s) {
		c, n := classAt(s, end)
		if c&cSpace == 0 {
			break
		}
		if c&cNewline != 0 {
			lastNL = end + n
		}
		lastStart = end
		end += n
		runes++
	}
	switch {
	case newlines && lastNL >= 0:
		return lastNL
	case end == len(s) || runes == 1:
		return end
	}
	return lastStart
}

// splitQwen2 is the Qwen2 pre-tokenizer (also Dream, DiffuCoder,
// Open-dCoder and the built-in model):
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func splitQwen2(s string, i int) int { return splitLlamaStyle(s, i, 1) }

// splitLlama3 is the LLaMA 3 pre-tokenizer (LLaDA uses it); it differs from
// Qwen2 only in taking up to three digits at a time: \p{N}{1,3}.
func splitLlama3(s string, i int) int { return splitLlamaStyle(s, i, 3) }

// splitLlamaStyle tries the regexp's alternatives in order, as a
// backtracking regexp engine would at position i.
func splitLlamaStyle(s string, i, maxDigits int) int {
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if s[i] == '\'' {
		if k := contraction(s, i+1, true); k > 0 {
			return i + 1 + k
		}
	}
	c, n := classAt(s, i)
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c&cLetter != 0 {
		return scanWhile(s, i+n, cLetter)
	}
	if c&(cNewline|cNumber) == 0 && i+n < len(s) {
		if c2, n2 := classAt(s, i+n); c2&cLetter != 0 {
			return scanWhile(s, i+n+n2, cLetter)
		}
	}
	// \p{N}{1,maxDigits}
	if c&cNumber != 0 {
		j := i + n
		for k := 1; k < maxDigits && j < len(s); k++ {
			c2, n2 := classAt(s, j)
			if c2&cNumber == 0 {
				break
			}
			j += n2
		}
		return j
	}
	// ' '?[^\s\p{L}\p{N}]+[\r\n]*
	j := i
	if s[i] == ' ' {
		j++
	}
	if j < len(s) {
		if c2, n2 := classAt(s, j); c2 == 0 {
			j = scanOther(s, j+n2)
			for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
				j++
			}
			return j
		}
	}
	// Only whitespace is left: \s*[\r\n]+|\s+(?!\S)|\s+
	return splitSpace(s, i, true)
}

// splitGPT2 is GPT-2's pre-tokenizer:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(s string, i int) int {
	if s[i] == '\'' {
		if k := contraction(s, i+1, false); k > 0 {
			return i + 1 + k
		}
	}
	j := i
	if s[i] == ' ' && i+1 < len(s) {
		j++
	}
	c, n := classAt(s, j)
	switch {
	case c&cLetter != 0:
		return scanWhile(s, j+n, cLetter)
	case c&cNumber != 0:
		return scanWhile(s, j+n, cNumber)
	case c&cSpace == 0:
		return scanOther(s, j+n)
	}
	return splitSpace(s, i, false)
}

// preTokenizers maps tokenizer.ggml.pre names (as llama.cpp's convert
// script writes them) to a splitter, and says whether a word that is itself
// in the vocabulary skips the merges (llama.cpp's ignore_merges, which
// LLaMA 3 style tokenizers set) and whether BOS is added by default.
type preTokenizer struct {
	split        splitter
	ignoreMerges bool
	addBOS       bool
}

var preTokenizers = map[string]preTokenizer{}

func init() {
	for _, name := range []string{"qwen2", "stablelm2", "hunyuan", "deepseek-r1-qwen", "megrez", "grok-2", "bailingmoe", "bailingmoe2", "llada-moe"} {
		preTokenizers[name] = preTokenizer{split: splitQwen2}
	}
	for _, name := range []string{"llama3", "llama-v3", "llama-bpe", "llada", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"} {
		preTokenizers[name] = preTokenizer{split: splitLlama3, ignoreMerges: true, addBOS: true}
	}
	// llama.cpp's "default" is a looser multi-regexp split; GPT-2's pattern
	// is what HF tokenizers use for such vocabularies.
	for _, name := range []string{"gpt2", "gpt-2", "default", "", "mpt", "olmo", "jais", "phi-2", "trillion", "granite-docling"} {
		preTokenizers[name] = preTokenizer{split: splitGPT2}
	}
}
