package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

func words(split splitter, s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := split(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}

// The expected splits below were worked out by hand from each regexp,
// trying its alternatives in order at every position as a backtracking
// engine does.
var splitCases = []struct {
	name              string
	in                string
	qwen2, llama3, gp []string // nil: same as qwen2
}{
	{
		name:  "go function",
		in:    "func main() {\n\tfmt.Println(\"hi\")\n}\n",
		qwen2: []string{"func", " main", "()", " {\n", "\tfmt", ".Println", "(\"", "hi", "\")\n", "}\n"},
		gp:    []string{"func", " main", "()", " {", "\n", "\t", "fmt", ".", "Println", "(\"", "hi", "\")", "\n", "}", "\n"},
	},
	{
		// A run of tabs before a word leaves its last tab to the word; a
		// lone tab before punctuation is a word by itself.
		name:  "indentation",
		in:    "\t\tif x {\n\t\t\treturn 0\n\t\t}\n",
		qwen2: []string{"\t", "\tif", " x", " {\n", "\t\t", "\treturn", " ", "0", "\n", "\t", "\t", "}\n"},
		gp:    []string{"\t", "\t", "if", " x", " {", "\n\t\t", "\t", "return", " 0", "\n\t", "\t", "}", "\n"},
	},
	{
		name:   "contractions",
		in:     "don't I'LL we've 's",
		qwen2:  []string{"don", "'t", " I", "'LL", " we", "'ve", " '", "s"},
		gp:     []string{"don", "'t", " I", "'", "LL", " we", "'ve", " '", "s"},
		llama3: nil,
	},
	{
		name:   "digits",
		in:     "x=12345;",
		qwen2:  []string{"x", "=", "1", "2", "3", "4", "5", ";"},
		llama3: []string{"x", "=", "123", "45", ";"},
		gp:     []string{"x", "=", "12345", ";"},
	},
	{
		name:   "space before digits",
		in:     "a 10 ²",
		qwen2:  []string{"a", " ", "1", "0", " ", "²"},
		llama3: []string{"a", " ", "10", " ", "²"},
		gp:     []string{"a", " 10", " ²"},
	},
	{
		name:  "cjk and emoji",
		in:    "变量 = 值 😀!",
		qwen2: []string{"变量", " =", " 值", " 😀!"},
		gp:    []string{"变量", " =", " 值", " 😀!"},
	},
	{
		name:  "crlf",
		in:    "a\r\n\r\nb;\r\n  c",
		qwen2: []string{"a", "\r\n\r\n", "b", ";\r\n", " ", " c"},
		gp:    []string{"a", "\r\n\r", "\n", "b", ";", "\r\n ", " c"},
	},
	{
		name:  "spaces around newlines and at the end",
		in:    "x  \n  y  \n  ",
		qwen2: []string{"x", "  \n", " ", " y", "  \n", "  "},
		gp:    []string{"x", "  \n ", " y", "  \n  "},
	},
	{
		name:  "trailing spaces",
		in:    "x  ",
		qwen2: []string{"x", "  "},
		gp:    []string{"x", "  "},
	},
	{
		name:  "no-break space joins a word in qwen2 only",
		in:    "a\u00a0b",
		qwen2: []string{"a", "\u00a0b"},
		gp:    []string{"a", "\u00a0", "b"},
	},
	{
		name:  "invalid utf-8",
		in:    "a\xffb\xfe",
		qwen2: []string{"a", "\xffb", "\xfe"},
		gp:    []string{"a", "\xff", "b", "\xfe"},
	},
	{
		name:  "apostrophes",
		in:    "'x' 'S'",
		qwen2: []string{"'x", "'", " '", "S", "'"},
		gp:    []string{"'", "x", "'", " '", "S", "'"},
	},
	{
		name:  "python",
		in:    "    def f(self):\n        return {'a': 1}\n",
		qwen2: []string{"   ", " def", " f", "(self", "):\n", "       ", " return", " {'", "a", "':", " ", "1", "}\n"},
		gp:    []string{"   ", " def", " f", "(", "self", "):", "\n       ", " return", " {'", "a", "':", " 1", "}", "\n"},
	},
	{
		name:  "punctuation then newlines",
		in:    "};\n\n\n// c",
		qwen2: []string{"};\n\n\n", "//", " c"},
		gp:    []string{"};", "\n\n", "\n", "//", " c"},
	},
}

func TestPreTokenizers(t *testing.T) {
	for _, c := range splitCases {
		llama3 := c.llama3
		if llama3 == nil {
			llama3 = c.qwen2
		}
		for _, p := range []struct {
			name  string
			split splitter
			want  []string
		}{{"qwen2", splitQwen2, c.qwen2}, {"llama3", splitLlama3, llama3}, {"gpt2", splitGPT2, c.gp}} {
			got := words(p.split, c.in)
			if !slices.Equal(got, p.want) {
				t.Errorf("%s / %s: %q splits as\n%q, want\n%q", c.name, p.name, c.in, got, p.want)
			}
			if strings.Join(got, "") != c.in {
				t.Errorf("%s / %s: words do not cover the input", c.name, p.name)
			}
		}
	}
}

func TestByteMap(t *testing.T) {
	seen := map[rune]bool{}
	for b, r := range byteToRune {
		if seen[r] {
			t.Fatalf("rune %U used twice", r)
		}
		seen[r] = true
		if runeToByte[r] != byte(b) {
			t.Fatalf("byte %#x ↦ %U ↦ %#x", b, r, runeToByte[r])
		}
	}
	// Well-known points of GPT-2's table.
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', '\t': 'ĉ', 0: 'Ā', 'a': 'a', 0x7f: 'ġ', 0xad: 'Ń', 0xff: 'ÿ', 0xa0: 'ł'} {
		if byteToRune[b] != want {
			t.Errorf("byte %#x ↦ %q, want %q", b, byteToRune[b], want)
		}
	}
	raw := "\x00 x\n\xff\xad\x7f"
	if got := string(decodeBytes(nil, encodeBytes(raw))); got != raw {
		t.Errorf("bytes round trip gave %q", got)
	}
}
