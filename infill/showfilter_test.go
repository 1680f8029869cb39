package infill

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill/syntax"
)

// feature returns the named feature of f.
func feature(t *testing.T, f []float64, name string) float64 {
	t.Helper()
	for i, n := range ShowFeatureNames {
		if n == name {
			return f[i]
		}
	}
	t.Fatalf("no feature %q", name)
	return 0
}

// TestShowFeatures: each feature says what it names.
func TestShowFeatures(t *testing.T) {
	in := func(lang, src, text string) showInput {
		doc, pos := at(src)
		return showInput{lang: lang, doc: doc, start: pos, end: pos, text: text, conf: 0.9, mean: 0.95, tokens: 5, method: checkedTypes}
	}
	f := showFeatures(in("go", "func f() {\n\tx := 1\n\t|\n\treturn x\n}\n", "x := 1"))
	if len(f) != len(ShowFeatureNames) {
		t.Fatalf("%d features, want %d", len(f), len(ShowFeatureNames))
	}
	for name, want := range map[string]float64{"bias": 1, "confidence": 0.9, "mean_confidence": 0.95, "log_chars": math.Log1p(6),
		"log_tokens": math.Log1p(5), "multi_line": 0, "blank_line": 1, "mid_line": 0, "after_open": 0, "copies_a_line": 1,
		"copied_share": 1, "repetition": 0, "type_checked": 1, "scope_checked": 0, "python": 0} {
		if got := feature(t, f, name); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	f = showFeatures(in("python", "def f():\n    return g(|):\n", "a, b"))
	if feature(t, f, "after_open") != 1 || feature(t, f, "mid_line") != 1 || feature(t, f, "python") != 1 || feature(t, f, "copied_share") != 0 {
		t.Errorf("after g( in Python: %v", f)
	}
	// Half of the fill is text of the document: the other half is new.
	f = showFeatures(in("go", "func f() {\n\tabcd()\n\t|\n}\n", "abcd()wxyz"))
	if got := feature(t, f, "copied_share"); math.Abs(got-0.6) > 1e-9 {
		t.Errorf("copied_share of abcd()wxyz = %v, want 0.6", got)
	}
	// A repetition loop scores high, ordinary code zero.
	if r := ngramRepetition("0; i < i0; i < i0; i < i0; i < i0"); r < 0.5 {
		t.Errorf("repetition of a loop = %v, want ≥ 0.5", r)
	}
	if r := ngramRepetition("if err := w.Close(); err != nil {"); r != 0 {
		t.Errorf("repetition of ordinary code = %v, want 0", r)
	}
}

// TestShowThresholdHides: with ShowThreshold set, a suggestion the filter
// scores below it is not shown; without, it is, and --explain's line
// names every feature and the score.
func TestShowThresholdHides(t *testing.T) {
	doc, pos := at("package a\n\nfunc f(x int) int {\n\tif x > 0 {\n\t\t|\n\t}\n\treturn x\n}\n")
	long := "x = x*x*x + 3*x*x - 7*x + 11 // a long sum no one asked for"
	for _, tc := range []struct {
		threshold float64
		want      int
	}{{0, 1}, {DefaultShowThreshold, 0}} {
		f := fill(long)
		f.Confidence = 0.2 // unsure, long, new text: the filter's picture of a wrong fill
		c := New(&scripted{calls: [][]engine.Fill{{f}}})
		sugs, err := c.Complete(context.Background(), Document{Path: "a.go", Text: doc}, pos, Options{ShowThreshold: tc.threshold, MinConfidence: 0.01, RepairRounds: -1})
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(sugs) != tc.want {
			t.Errorf("threshold %v: %d suggestions, want %d (stats %+v)", tc.threshold, len(sugs), tc.want, c.Stats())
		}
		if len(sugs) > 0 && (sugs[0].Show == nil || len(sugs[0].Show.Features) != len(ShowFeatureNames)) {
			t.Errorf("threshold %v: the suggestion carries no filter verdict: %+v", tc.threshold, sugs[0].Show)
		}
		explain := c.Stats().ShowFilter
		for _, name := range ShowFeatureNames[1:] {
			if !strings.Contains(explain, name+"=") {
				t.Errorf("threshold %v: --explain's filter line %q does not name %s", tc.threshold, explain, name)
			}
		}
	}
}

// TestUnaskedPlansOneLine: on a blank line where a body ends a block is
// plausible; shown unasked (a confidence gate or the filter set) one line
// is planned, and the engine is asked for one; an explicit request still
// gets a block.
func TestUnaskedPlansOneLine(t *testing.T) {
	doc, pos := at("package a\n\nfunc f(x int) int {\n\tx++\n\t|\n}\n")
	for _, tc := range []struct {
		opts Options
		want shape
	}{
		{Options{}, shapeBlock},
		{Options{MinConfidence: 0.6}, shapeLine},
		{Options{ShowThreshold: DefaultShowThreshold}, shapeLine},
		{Options{MinConfidence: 0.6, Shape: "block"}, shapeBlock},
	} {
		p := planSpan(doc, pos, pos, syntax.Node{}, tc.opts)
		if p.shape != tc.want {
			t.Errorf("%+v: planned %v, want %v", tc.opts, p.shape, tc.want)
		}
	}
	// Through Complete: the block the engine returns is not shown unasked.
	c := New(&scripted{calls: [][]engine.Fill{{fill("if x > 1 {\n\t\treturn x\n\t}\n\treturn 0")}}})
	defer c.Close()
	sugs, err := c.Complete(context.Background(), Document{Path: "a.go", Text: doc}, pos, Options{MinConfidence: 0.01, RepairRounds: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sugs {
		if strings.Contains(strings.TrimRight(s.Text, "\n"), "\n") {
			t.Errorf("unasked, at a body's end: shown %q, want one line at most", s.Text)
		}
	}
}

// TestWordMemoLexesOncePerHole: the scope check's names of the document
// are computed once for all the candidates of one hole (lexing a large
// document per candidate was most of a completion's time), and again when
// the hole or the document changes.
func TestWordMemoLexesOncePerHole(t *testing.T) {
	doc := "def f(alpha):\n    beta = alpha\n    \n    return beta\n"
	pos := strings.Index(doc, "    \n") + 4
	var m wordMemo
	first := m.around("python", doc, pos, pos, "")
	if !first["alpha"] || !first["beta"] {
		t.Fatalf("names around the hole: %v", first)
	}
	first["marker"] = true // the same map comes back while the hole is the same
	if got := m.around("python", doc, pos, pos, ""); !got["marker"] {
		t.Error("the same hole lexed the document again")
	}
	if got := m.around("python", doc, pos, pos, "# gamma"); got["marker"] || !got["gamma"] {
		t.Errorf("other context: %v, want the names afresh with gamma", got)
	}
	for _, fill := range []string{"beta = alpha + 1", "return gamma"} {
		v := scopeCheck("python", "m.py", doc, pos, pos, fill, "", nil, &m)
		if v.ok != (fill != "return gamma") {
			t.Errorf("%q: %+v", fill, v)
		}
	}
}
