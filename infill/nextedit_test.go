package infill

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
)

// typed returns the history of typing the edit "old -> new" at the first
// occurrence of marker in text, keystroke by keystroke as an editor sends
// it (deleting old backwards, then typing new), and the text after.
func typed(t *testing.T, text, marker, old, new string) (string, []Edit) {
	t.Helper()
	at := strings.Index(text, marker)
	if at < 0 || !strings.HasPrefix(text[at:], old) {
		t.Fatalf("marker %q with %q not in text", marker, old)
	}
	var h []Edit
	for i := len(old); i > 0; i-- {
		h = append(h, Edit{Start: at + i - 1, Old: old[i-1 : i]})
		text = text[:at+i-1] + text[at+i:]
	}
	for i := range new {
		h = append(h, Edit{Start: at + i, New: new[i : i+1]})
		text = text[:at+i] + new[i:i+1] + text[at+i:]
	}
	return text, h
}

func TestLastChangeCoalescesKeystrokes(t *testing.T) {
	src := "x := p.nmae\ny := p.nmae\n"
	text, h := typed(t, src, "nmae", "nmae", "name")
	// An earlier, unrelated edit further down must not be merged.
	h = append([]Edit{{Start: 0, Old: "z", New: "x"}}, h...)
	ch, ok := lastChange(text, h)
	if !ok || ch.Old != "nmae" || ch.New != "name" || ch.At != 7 || ch.Before != src {
		t.Fatalf("lastChange = %+v, %v; want nmae -> name at 7", ch, ok)
	}
	// A partial edit widens to the whole word.
	ch, ok = lastChange("p.name\n", []Edit{{Start: 3, Old: "ma", New: "am"}})
	if !ok || ch.Old != "nmae" || ch.New != "name" {
		t.Fatalf("lastChange of a transposition = %+v, want the whole word", ch)
	}
	// An insertion after a word is not widened into it.
	ch, ok = lastChange("f(a, b, ctx)\n", []Edit{{Start: 6, New: ", ctx"}})
	if !ok || ch.Old != "" || ch.New != ", ctx" || ch.At != 6 {
		t.Fatalf("lastChange of an added argument = %+v", ch)
	}
	// Typed and deleted again: nothing.
	if _, ok := lastChange("ab\n", []Edit{{Start: 2, New: "c"}, {Start: 2, Old: "c"}}); ok {
		t.Fatal("an edit undone by the next one reported a change")
	}
	// A history that does not fit the text is ignored, not trusted.
	if _, ok := lastChange("ab\n", []Edit{{Start: 10, New: "c"}}); ok {
		t.Fatal("an edit outside the text reported a change")
	}
}

const nesGoSrc = `package p

type person struct{ nmae string }

func show(p person) string {
	a := p.nmae
	b := p.nmae + "!"
	return a + b + p.nmae
}
`

func TestNextEditsRenameCopyOnly(t *testing.T) {
	c := New(&scripted{})
	defer c.Close()
	text, h := typed(t, nesGoSrc, "nmae string", "nmae", "name")
	pos := strings.Index(text, "name string") + 4
	got, err := c.NextEdits(context.Background(), Document{Path: "p.go", Text: text}, h, pos, NextEditOptions{CopyOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d predictions %+v, want the three uses", len(got), got)
	}
	first := strings.Index(text, "p.nmae") + 2
	if got[0].Start != first || got[0].End != first+4 || got[0].Text != "name" || got[0].Kind != "rename" {
		t.Errorf("first prediction %+v, want nmae -> name at %d", got[0], first)
	}
	for _, ne := range got {
		if ne.Start < strings.Index(text, "name string")+4 && ne.End > strings.Index(text, "name string") {
			t.Errorf("prediction %+v redoes the user's own edit", ne)
		}
	}
}

func TestNextEditsAddedArgument(t *testing.T) {
	src := `package p

func add(a, b, c int) int { return a + b + c }

func use() int {
	x := add(1, 2)
	y := add(3, 4)
	return x + add(5, 6)
}
`
	c := New(&scripted{})
	defer c.Close()
	at := strings.Index(src, "add(1, 2)") + len("add(1, 2")
	text := src[:at] + ", 0" + src[at:]
	h := []Edit{{Start: at, New: ","}, {Start: at + 1, New: " "}, {Start: at + 2, New: "0"}}
	got, err := c.NextEdits(context.Background(), Document{Path: "p.go", Text: text}, h, at+3, NextEditOptions{CopyOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %+v, want the two other calls", got)
	}
	want := strings.Index(text, "add(3, 4)") + len("add(3, 4")
	if got[0].Start != want || got[0].End != want || got[0].Text != ", 0" || got[0].Kind != "call" {
		t.Errorf("first prediction %+v, want \", 0\" inserted at %d", got[0], want)
	}
	applied := text[:got[0].Start] + got[0].Text + text[got[0].End:]
	if !strings.Contains(applied, "add(3, 4, 0)") {
		t.Errorf("applied:\n%s", applied)
	}
}

func TestArgDiff(t *testing.T) {
	for _, tc := range []struct {
		before, after string
		op            string
		idx           int
		arg           string
	}{
		{"a,b", "a,b,ctx", "insert", 2, "ctx"},
		{"a,b", "ctx,a,b", "insert", 0, "ctx"},
		{"a,b,c", "a,c", "remove", 1, ""},
		{"a,b", "a,x", "change", 1, "x"},
		{"a,b", "x,y", "", 0, ""},
	} {
		op, idx, arg := argDiff(strings.Split(tc.before, ","), strings.Split(tc.after, ","))
		if op != tc.op || idx != tc.idx || arg != tc.arg {
			t.Errorf("argDiff(%s -> %s) = %s %d %q, want %s %d %q", tc.before, tc.after, op, idx, arg, tc.op, tc.idx, tc.arg)
		}
	}
}

func TestNextEditsModelConfirmsOrDenies(t *testing.T) {
	text, h := typed(t, nesGoSrc, "nmae string", "nmae", "name")
	pos := strings.Index(text, "name string") + 4
	doc := Document{Path: "p.go", Text: text}
	sure := func(s string) engine.Fill { f := fill(s); f.Confidence = 0.95; return f }

	// The engine agrees: more confident than the prior.
	eng := &scripted{calls: [][]engine.Fill{{sure("name")}}}
	c := New(eng)
	got, err := c.NextEdits(context.Background(), doc, h, pos, NextEditOptions{Places: 1})
	c.Close()
	if err != nil || len(got) != 1 || got[0].Source != "model+copy" || got[0].Confidence <= priorRenameSameOp {
		t.Fatalf("confirmed: %+v %v", got, err)
	}
	// The canvas re-masks exactly the old identifier at the place.
	segs := eng.reqs[0].Segments
	if !strings.HasSuffix(segs[0].Text, "a := p.") || !strings.HasPrefix(segs[2].Text, "\n\tb := p.nmae") {
		t.Errorf("canvas around the hole: %q | %q", segs[0].Text[len(segs[0].Text)-10:], segs[2].Text[:14])
	}

	// The engine keeps the old text, surely: below the default threshold.
	c = New(&scripted{calls: [][]engine.Fill{{sure("nmae")}}})
	got, err = c.NextEdits(context.Background(), doc, h, pos, NextEditOptions{Places: 1, MinConfidence: 0.6})
	c.Close()
	if err != nil || len(got) != 0 {
		t.Fatalf("denied: %+v %v, want nothing shown", got, err)
	}

	// The engine proposes its own, surer, valid text: shown as the model's.
	c = New(&scripted{calls: [][]engine.Fill{{sure("fullName")}}})
	got, err = c.NextEdits(context.Background(), doc, h, pos, NextEditOptions{Places: 1})
	c.Close()
	if err != nil || len(got) != 1 || got[0].Text != "fullName" || got[0].Source != "model" {
		t.Fatalf("model's own text: %+v %v", got, err)
	}
}

func TestNextEditsNoHistoryNoEdits(t *testing.T) {
	c := New(&scripted{})
	defer c.Close()
	got, err := c.NextEdits(context.Background(), Document{Path: "p.go", Text: nesGoSrc}, nil, 0, NextEditOptions{})
	if err != nil || len(got) != 0 {
		t.Fatalf("no history: %+v %v", got, err)
	}
	if _, err := c.NextEdits(context.Background(), Document{Path: "p.go", Text: "x"}, nil, 5, NextEditOptions{}); err == nil {
		t.Fatal("a position outside the document was accepted")
	}
}

func TestNextEditsSyntaxGate(t *testing.T) {
	// Renaming to a keyword breaks the user's own function; the same
	// rename in another function would break that one too.
	src := "package p\n\nfunc f(x int) int {\n\ty := x\n\treturn y\n}\n\nfunc g(x int) int {\n\treturn x\n}\n"
	at := strings.Index(src, "y := x") + 5
	text := src[:at] + "func" + src[at+1:]
	c := New(&scripted{})
	defer c.Close()
	got, err := c.NextEdits(context.Background(), Document{Path: "p.go", Text: text}, []Edit{{Start: at, Old: "x", New: "func"}}, at, NextEditOptions{CopyOnly: true, MinConfidence: -1})
	if err != nil || len(got) != 0 {
		t.Fatalf("predictions that do not parse: %+v %v", got, err)
	}
}

func TestNextEditsTemplate(t *testing.T) {
	src := "def check(fg, bg):\n    if fg:\n        raise TypeError(f\"Unknown color {fg!r}\")\n    if bg:\n        raise TypeError(f\"Unknown color {bg!r}\")\n"
	old := `f"Unknown color {fg!r}"`
	repl := `_("Unknown color {colour!r}").format(colour=fg)`
	at := strings.Index(src, old)
	text := src[:at] + repl + src[at+len(old):]
	c := New(&scripted{})
	defer c.Close()
	got, err := c.NextEdits(context.Background(), Document{Path: "c.py", Text: text}, []Edit{{Start: at, Old: old, New: repl}}, at+len(repl), NextEditOptions{CopyOnly: true})
	if err != nil || len(got) != 1 {
		t.Fatalf("got %+v %v, want the bg line", got, err)
	}
	want := strings.ReplaceAll(text, `f"Unknown color {bg!r}"`, `_("Unknown color {colour!r}").format(colour=bg)`)
	if applied := text[:got[0].Start] + got[0].Text + text[got[0].End:]; applied != want || got[0].Kind != "template" {
		t.Errorf("%s prediction gives\n%s\nwant\n%s", got[0].Kind, applied, want)
	}
}

// TestNextEditsTabTabTypeChecks takes the first prediction again and again,
// each taken edit joining the history as the editor would send it, and
// type-checks the file at the end: a rename started at a use reaches the
// declaration and every other use.
func TestNextEditsTabTabTypeChecks(t *testing.T) {
	src := `package p

type person struct{ nmae string }

func show(p person) string {
	a := p.nmae
	b := person{nmae: "x"}
	return a + b.nmae + p.nmae
}
`
	c := New(&scripted{})
	defer c.Close()
	at := strings.Index(src, "p.nmae") + 2
	text := src[:at] + "name" + src[at+4:]
	h := []Edit{{Start: at, Old: "nmae", New: "name"}}
	pos := at + 4
	for range 10 {
		got, err := c.NextEdits(context.Background(), Document{Path: "p.go", Text: text}, h, pos, NextEditOptions{CopyOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		e := got[0]
		h = append(h, Edit{Start: e.Start, Old: text[e.Start:e.End], New: e.Text})
		text = text[:e.Start] + e.Text + text[e.End:]
		pos = e.Start + len(e.Text)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", text, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&types.Config{}).Check("p", fset, []*ast.File{f}, nil); err != nil {
		t.Errorf("after taking every next edit: %v\n%s", err, text)
	}
}

func TestNextEditsInAnotherOpenFile(t *testing.T) {
	c := New(&scripted{})
	defer c.Close()
	text, h := typed(t, nesGoSrc, "nmae string", "nmae", "name")
	edited := Document{Path: "p.go", Text: text}
	other := Document{Path: "q.go", Text: "package p\n\nfunc q(p person) string { return p.nmae }\n"}
	got, err := c.NextEditsIn(context.Background(), other, edited, h, NextEditOptions{CopyOnly: true})
	if err != nil || len(got) != 1 {
		t.Fatalf("got %+v %v, want the use in q.go", got, err)
	}
	if applied := other.Text[:got[0].Start] + got[0].Text + other.Text[got[0].End:]; !strings.Contains(applied, "return p.name }") {
		t.Errorf("applied: %s", applied)
	}
	// A call in another file gets the argument added in this one.
	src := "package p\n\nfunc add(a, b, c int) int { return a + b + c }\n\nvar x = add(1, 2, 0)\n"
	at := strings.Index(src, ", 0)")
	got, err = c.NextEditsIn(context.Background(), Document{Path: "r.go", Text: "package p\n\nvar y = add(3, 4)\n"},
		Document{Path: "p.go", Text: src}, []Edit{{Start: at, New: ", 0"}}, NextEditOptions{CopyOnly: true})
	if err != nil || len(got) != 1 || got[0].Text != ", 0" || got[0].Kind != "call" {
		t.Fatalf("call in another file: %+v %v", got, err)
	}
}
