package eval

import (
	"math"
	"testing"
)

func TestLevenshtein(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"flaw", "lawn", 2},
		{"héllo", "hello", 1}, // one rune, two bytes
		{"日本語", "日本", 1},
		{"return x", "return x", 0},
		{"abc", "cba", 2},
	} {
		if got := Levenshtein(c.a, c.b); got != c.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Levenshtein(c.b, c.a); got != c.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}

func TestExactMatchTrimsSurroundingWhitespace(t *testing.T) {
	for _, c := range []struct {
		s, m string
		want bool
	}{
		{"return x", "return x", true},
		{"  return x\n", "return x", true},
		{"return x", "return  x", false}, // inner whitespace counts
		{"", "", true},
		{"", "x", false},
		{"return y", "return x", false},
	} {
		if got := ExactMatch(c.s, c.m); got != c.want {
			t.Errorf("ExactMatch(%q, %q) = %v, want %v", c.s, c.m, got, c.want)
		}
	}
}

func TestEditSimilarity(t *testing.T) {
	for _, c := range []struct {
		s, m string
		want float64
	}{
		{"return x", "return x", 1},
		{"return y", "return x", 1 - 1.0/8},
		{"", "abcd", 0},
		{"", "", 1},
		{"ab\n", "abcd", 0.5},   // trailing newline trimmed first
		{"héllo", "hello", 0.8}, // runes, not bytes
	} {
		if got := EditSimilarity(c.s, c.m); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("EditSimilarity(%q, %q) = %v, want %v", c.s, c.m, got, c.want)
		}
	}
}

func TestSuffixDuplication(t *testing.T) {
	for _, c := range []struct {
		name                       string
		suggestion, middle, suffix string
		want                       bool
	}{
		{"closing brace repeated", "return x\n}", "return x", "\n}\n", true},
		{"next line repeated", "a := 1\n\tb := 2", "a := 1", "\n\tb := 2\n\treturn a + b\n}", true},
		{"next line repeated with other indentation", "a := 1\n    b := 2", "a := 1", "\n\tb := 2\n}", true},
		{"clean suggestion", "return x", "return x", "\n}\n", false},
		{"rest of line repeated", "f(a, b)", "f(a, b", ")\n\tg()", true},
		{"only part of the suffix's first line", "x := g(", "x := ", "g(a)\n", false},
		{"middle ends like the suffix begins", "f(g(x)", "f(g(x)", ")\n", false},
		{"empty suggestion", "", "return x", "\n}\n", false},
		{"blank suffix", "return x", "return x", "\n\n", false},
	} {
		if got := SuffixDuplication(c.suggestion, c.middle, c.suffix); got != c.want {
			t.Errorf("%s: SuffixDuplication(%q, %q, %q) = %v, want %v", c.name, c.suggestion, c.middle, c.suffix, got, c.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {95, 10}, {100, 10}, {10, 1}, {1, 1}} {
		if got := Percentile(xs, c.p); got != c.want {
			t.Errorf("Percentile(p%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
	if xs[0] != 5 {
		t.Error("Percentile sorted its input in place")
	}
}

func TestAcceptedChars(t *testing.T) {
	for _, c := range []struct {
		s, m string
		want float64
	}{
		{"return x", "return x", 1},
		{"\treturn x\n", "return x", 1},     // indentation and the final newline aside
		{"return y", "return x", 6.0 / 8},   // "return" taken, then the wrong word
		{"return xs", "return x", 6.0 / 8},  // word by word: "xs" is not taken
		{"return x, nil", "return x", 1},    // the rest is more than the answer
		{"foo(a, b)", "foo(a, c)", 6.0 / 9}, // "foo(a," then " b" is wrong
		{"", "return x", 0},
		{"x", "", 0},
	} {
		if got := AcceptedChars(c.s, c.m); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("AcceptedChars(%q, %q) = %v, want %v", c.s, c.m, got, c.want)
		}
	}
}

func TestMultiLineWhereSingle(t *testing.T) {
	if !MultiLineWhereSingle("a()\n\tb()", "a()") || MultiLineWhereSingle("a()\n", "a()") || MultiLineWhereSingle("a()\nb()", "a()\nc()") {
		t.Error("MultiLineWhereSingle: want true only for several lines where the answer is one")
	}
}
