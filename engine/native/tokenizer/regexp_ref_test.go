package tokenizer

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Go's regexp picks the leftmost-first alternative like a backtracking
// engine but has no look-ahead. The reference pre-tokenizers below use the
// original patterns with `\s+(?!\S)` dropped and emulate it afterwards: a
// whitespace-only match without newline came from the `\s+` alternatives,
// and if more than one rune long and not at the end, the look-ahead would
// have left its last rune to the next word. \s is spelled out as Unicode
// White_Space, which Go's \s (ASCII only) is not.
const ws = `\t\n\v\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`

var (
	refQwen2  = regexp.MustCompile(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^` + ws + `\p{L}\p{N}]+[\r\n]*|[` + ws + `]*[\r\n]+|[` + ws + `]+`)
	refLlama3 = regexp.MustCompile(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^` + ws + `\p{L}\p{N}]+[\r\n]*|[` + ws + `]*[\r\n]+|[` + ws + `]+`)
	refGPT2   = regexp.MustCompile(`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^` + ws + `\p{L}\p{N}]+|[` + ws + `]+`)
	allSpace  = regexp.MustCompile(`^[` + ws + `]+$`)
)

func refWords(re *regexp.Regexp, newlines bool, s string) []string {
	var out []string
	for i := 0; i < len(s); {
		loc := re.FindStringIndex(s[i:])
		if loc == nil || loc[0] != 0 {
			// Every byte matches some alternative; not reached.
			out = append(out, s[i:i+1])
			i++
			continue
		}
		w := s[i : i+loc[1]]
		if allSpace.MatchString(w) && (!newlines || !strings.ContainsAny(w, "\r\n")) &&
			i+len(w) < len(s) && utf8.RuneCountInString(w) > 1 {
			_, n := utf8.DecodeLastRuneInString(w)
			w = w[:len(w)-n]
		}
		out = append(out, w)
		i += len(w)
	}
	return out
}

func checkAgainstRegexp(t *testing.T, s string) {
	t.Helper()
	for _, p := range []struct {
		name     string
		split    splitter
		re       *regexp.Regexp
		newlines bool
	}{{"qwen2", splitQwen2, refQwen2, true}, {"llama3", splitLlama3, refLlama3, true}, {"gpt2", splitGPT2, refGPT2, false}} {
		got, want := words(p.split, s), refWords(p.re, p.newlines, s)
		if !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("%s: word %d is %q, the regexp says %q (input %q)", p.name, i, got[i], want[i], s)
				}
			}
			t.Fatalf("%s: %d words, the regexp gives %d (input %q)", p.name, len(got), len(want), s)
		}
	}
}

func TestPreTokenizersMatchRegexpOnRealCode(t *testing.T) {
	for _, path := range realCodeFiles(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstRegexp(t, string(b))
	}
	for _, c := range splitCases {
		checkAgainstRegexp(t, c.in)
	}
}

func FuzzPreTokenizers(f *testing.F) {
	for _, c := range splitCases {
		f.Add(c.in)
	}
	f.Add("x\u2003\u2003y \u3000z\u0085\n")
	f.Fuzz(func(t *testing.T, s string) {
		checkAgainstRegexp(t, s)
	})
}

// realCodeFiles returns a few source files every machine of this project
// has: Go's own sources and, where installed, Python's standard library.
func realCodeFiles(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("go env GOROOT:", err)
	}
	root := strings.TrimSpace(string(out))
	files := []string{
		filepath.Join(root, "src", "strings", "strings.go"),
		filepath.Join(root, "src", "fmt", "print.go"),
		filepath.Join(root, "src", "unicode", "utf8", "utf8.go"),
		filepath.Join(root, "src", "net", "http", "server.go"),
	}
	for _, py := range []string{"/usr/lib/python3.11/textwrap.py", "/usr/lib/python3.11/json/decoder.py"} {
		if _, err := os.Stat(py); err == nil {
			files = append(files, py)
		}
	}
	return files
}
