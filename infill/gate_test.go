package infill

import (
	"context"
	"testing"

	"github.com/dfim/dfim/engine"
)

func spans(parts ...any) []engine.TokenSpan {
	var out []engine.TokenSpan
	for i := 0; i < len(parts); i += 2 {
		out = append(out, engine.TokenSpan{Text: parts[i].(string), Prob: float32(parts[i+1].(float64))})
	}
	return out
}

func TestSureLines(t *testing.T) {
	raw := "x := 1\n\ty := 2\n\tz := 3"
	sp := spans("x", 0.9, " := 1\n\t", 0.9, "y", 0.8, " := 2\n\t", 0.7, "z", 0.2, " := 3", 0.3)
	got, lines := sureLines(raw, sp, 0.6)
	if got != "x := 1\n\ty := 2" || lines != 2 {
		t.Errorf("sureLines = %q, %d lines; want the two sure lines", got, lines)
	}
	if got, lines := sureLines(raw, sp, 0.1); got != raw || lines != 3 {
		t.Errorf("low bar: sureLines = %q, %d; want all", got, lines)
	}
	if got, _ := sureLines(raw, sp, 0.95); got != "x := 1" {
		t.Errorf("high bar: sureLines = %q; want the first line, always kept", got)
	}
	if got, _ := sureLines(raw, nil, 0.6); got != raw {
		t.Errorf("no spans: sureLines = %q; want the fill whole", got)
	}
	if c := suggestionConfidence(sp, 2, 0); c < 0.699 || c > 0.701 {
		t.Errorf("confidence of two lines = %v, want 0.7 (the least sure token)", c)
	}
	if c := suggestionConfidence(nil, 1, 0.42); c != 0.42 {
		t.Errorf("confidence without spans = %v, want the fallback", c)
	}
}

func TestCommentOnlyAndCodeDue(t *testing.T) {
	for _, tc := range []struct {
		lang, text string
		want       bool
	}{
		{"go", "// err := nil {", true},
		{"go", "/* a\n   b */", true},
		{"go", "x := 1 // why", false},
		{"go", "// note\nx := 1", false},
		{"python", "# todo", true},
		{"python", "x = 1", false},
		{"rust", "// r", true},
		{"haskell", "-- h", true}, // grammar-less languages know their comments too
		{"json", "// j", false},   // no comments: nothing is comment-only
	} {
		if got := CommentOnly(tc.lang, tc.text); got != tc.want {
			t.Errorf("CommentOnly(%s, %q) = %v, want %v", tc.lang, tc.text, got, tc.want)
		}
	}
	doc := func(text string) *docState { return &docState{lang: "go", text: text} }
	if d := doc("func f() {\n\t"); !d.codeDue(len(d.text)) {
		t.Error("an empty line of a body: code is due")
	}
	if d := doc("func f() {\n\t// "); d.codeDue(len(d.text)) {
		t.Error("after a typed //: a comment is welcome")
	}
	if d := doc("func f() {\n\t// Sum the items.\n\t"); !d.codeDue(len(d.text)) {
		t.Error("under a comment line: the code it describes is due")
	}
}

func TestRetypesNextLine(t *testing.T) {
	if !retypesNextLine("if ok {\n\t\treturn err", "\n\t\treturn err\n\t}\n") {
		t.Error("a fill ending with the next line: want retyped")
	}
	if retypesNextLine("if ok {\n\t\tx()\n\t}", "\n\t}\n}\n") {
		t.Error("a closing brace is not a retyped line")
	}
	if retypesNextLine("return err", "\n\treturn err\n") {
		t.Error("one line is trimmed by post-processing, not here")
	}
}

func TestFirstLines(t *testing.T) {
	for _, tc := range []struct {
		text string
		n    int
		want string
	}{
		{"a\nb\nc\nd", 3, "a\nb\nc"},
		{"a\nb", 3, "a\nb"},
		{"a\nb\n", 2, "a\nb"},
		{"a\nb\nc", 0, "a\nb\nc"},
		{"a\n\nb", 1, "a"},
	} {
		if got := firstLines(tc.text, tc.n); got != tc.want {
			t.Errorf("firstLines(%q, %d) = %q, want %q", tc.text, tc.n, got, tc.want)
		}
	}
}

// A hole's line limit (<<fill:3>>, Hole.MaxLines) bounds the lines of its
// fill, not only the token budget the canvas is sized with.
func TestFillHolesKeepsTheLineLimit(t *testing.T) {
	doc := Document{Path: "a.go", Text: "package a\n\nfunc f() int {\n\t\n\treturn 0\n}\n"}
	at := len("package a\n\nfunc f() int {\n\t")
	eng := &scripted{calls: [][]engine.Fill{{fill("x := 1\n\ty := 2\n\tz := 3\n\tw := 4")}}}
	sugs, err := New(eng).FillHoles(context.Background(), doc, []Hole{{Start: at, End: at, MaxLines: 3}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sugs[0].Text; got != "x := 1\n\ty := 2\n\tz := 3" {
		t.Errorf("fill of a 3-line hole = %q, want its first 3 lines", got)
	}
	if got := eng.reqs[0].Segments; got[len(got)-2].MaxLines != 3 {
		t.Errorf("hole segment MaxLines %d, want 3 (remote engines stop there)", got[len(got)-2].MaxLines)
	}
}
