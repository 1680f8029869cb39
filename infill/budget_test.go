package infill

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// longGoFile is a Go file of n statements in one function, with a blank
// line in the middle for the cursor.
func longGoFile(n int) (text string, pos int) {
	var b strings.Builder
	b.WriteString("package a\n\nfunc f() {\n")
	for i := range n {
		if i == n/2 {
			b.WriteString("\t\n")
			pos = b.Len() - 1
		}
		fmt.Fprintf(&b, "\tv%d := g(%d, \"s%d\")\n", i, i, i)
	}
	b.WriteString("}\n")
	return b.String(), pos
}

// TestCanvasBudgetByRequestKind: with a model whose context holds the
// whole file, a suggestion shown unasked gets the inline budget's
// windows, one the user asked for the larger asked budget, and the
// whole file comes only with ContextTokens < 0.
func TestCanvasBudgetByRequestKind(t *testing.T) {
	text, pos := longGoFile(600)
	eng := &scripted{context: 32768}
	c := New(eng)
	defer c.Close()
	const marker = "<|hole|>"
	windows := func(opts Options) (prefix, suffix int) {
		t.Helper()
		out, err := c.Preview(context.Background(), Document{Path: "/w/a.go", Text: text}, pos, opts, marker)
		if err != nil {
			t.Fatal(err)
		}
		pre, suf, ok := strings.Cut(out, marker)
		if !ok {
			t.Fatalf("no marker in the canvas %q", out)
		}
		return eng.CountTokens(pre), eng.CountTokens(suf)
	}
	whole := eng.CountTokens(text)
	for _, tc := range []struct {
		name   string
		opts   Options
		budget canvasBudget
	}{
		{"inline", Options{MinConfidence: DefaultMinConfidence}, inlineBudget},
		{"inline, show filter only", Options{ShowThreshold: 0.1}, inlineBudget},
		{"asked", Options{}, askedBudget},
	} {
		pre, suf := windows(tc.opts)
		// +1: CountTokens counts one more than the words of a text.
		if pre > tc.budget.prefix+1 || suf > tc.budget.suffix+1 {
			t.Errorf("%s: prefix %d and suffix %d tokens, want at most %d and %d", tc.name, pre, suf, tc.budget.prefix, tc.budget.suffix)
		}
		if pre < tc.budget.prefix*3/4 || suf < tc.budget.suffix*3/4 {
			t.Errorf("%s: prefix %d and suffix %d tokens, want near %d and %d (the budget filled)", tc.name, pre, suf, tc.budget.prefix, tc.budget.suffix)
		}
	}
	pre, suf := windows(Options{ContextTokens: -1, MinConfidence: DefaultMinConfidence})
	if pre+suf < whole-2 {
		t.Errorf("whole file: the canvas holds %d+%d tokens of a %d-token file", pre, suf, whole)
	}
	// A caller's own cap is the whole canvas, split as before.
	pre, suf = windows(Options{ContextTokens: 4096, MinConfidence: DefaultMinConfidence})
	if pre+suf <= inlineBudget.prefix+inlineBudget.suffix || pre+suf > 4096 {
		t.Errorf("ContextTokens 4096: the canvas holds %d+%d tokens, want more than the inline budget and at most 4096", pre, suf)
	}
}

// TestCanvasBudgetCapsCrossFileContext: the inline budget keeps the last
// lines of a long cross-file context, within its extra share.
func TestCanvasBudgetCapsCrossFileContext(t *testing.T) {
	text, pos := longGoFile(50)
	var extra strings.Builder
	for i := range 400 {
		fmt.Fprintf(&extra, "// b.go: func h%d(x int) int\n", i)
	}
	eng := &scripted{context: 32768}
	sz := newSizer(eng, Options{MinConfidence: DefaultMinConfidence})
	cv := buildCanvas(text, pos, pos, 24, extra.String(), sz)
	if n := eng.CountTokens(cv.Extra); n > inlineBudget.extra+1 || n < inlineBudget.extra/2 {
		t.Errorf("cross-file context of %d tokens, want at most %d (and most of it)", n, inlineBudget.extra)
	}
	if !strings.HasSuffix(cv.Extra, "func h399(x int) int\n") {
		t.Errorf("cross-file context does not end with its last line: %q", cv.Extra[max(0, len(cv.Extra)-60):])
	}
	if cv.Sources[0] != extra.String() {
		t.Error("the whole cross-file context is no longer among the canvas's Sources")
	}
}

// TestCanvasBudgetKeepsSmallModelsCanvas: a model whose context is
// smaller than the budgets (the built-in model's 256 tokens) gets the
// same canvas as before there were budgets.
func TestCanvasBudgetKeepsSmallModelsCanvas(t *testing.T) {
	text, pos := longGoFile(200)
	extra := strings.Repeat("// b.go: func h(x int) int\n", 40)
	eng := &scripted{context: 256}
	for _, opts := range []Options{{MinConfidence: DefaultMinConfidence}, {}} {
		sz := newSizer(eng, opts)
		unbudgeted := sz
		unbudgeted.budget = canvasBudget{}
		for _, ex := range []string{"", extra} {
			got, want := buildCanvas(text, pos, pos, 24, ex, sz), buildCanvas(text, pos, pos, 24, ex, unbudgeted)
			if got.Extra != want.Extra || got.PrefixStart != want.PrefixStart || got.SuffixEnd != want.SuffixEnd {
				t.Errorf("budget %+v changed a 256-token canvas: prefix from %d, suffix to %d, extra %d bytes; want %d, %d, %d",
					sz.budget, got.PrefixStart, got.SuffixEnd, len(got.Extra), want.PrefixStart, want.SuffixEnd, len(want.Extra))
			}
		}
	}
}
