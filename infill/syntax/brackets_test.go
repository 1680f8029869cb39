package syntax

import (
	"context"
	"testing"
)

func TestUnmatchedBrackets(t *testing.T) {
	for _, c := range []struct {
		text, lang string
		want       int
	}{
		{"f(a[1], {x})", "go", 0},
		{"if x {", "go", 1},
		{"}) // (", "go", 2},
		{`s := "({[" + '(' + ` + "`)`", "go", 0},
		{"/* { */ x := y(", "go", 1},
		{"x = '(' # )\n", "python", 0},
		{`s = """ ( """ + f(`, "python", 1},
		{"fn f<'a>(x: &'a str) {}", "rust", 0},
		{"\"unterminated (\nx)", "go", 1},
	} {
		if got := unmatchedBrackets(c.text, c.lang); got != c.want {
			t.Errorf("unmatchedBrackets(%q, %s) = %d, want %d", c.text, c.lang, got, c.want)
		}
	}
}

// In a document that already has an error (a window cut mid-function), a
// stray `{` can hide in tree-sitter's recovery; the bracket count catches it.
func TestCheckCatchesStrayBracketInBrokenDocument(t *testing.T) {
	doc := "\tif n < 0 {\n\t\treturn ErrHeader\n\t}\n\n\t\n\tr.curr = x\n\treturn nil\n}\n\nfunc g() {\n\ty := 1\n"
	pos := len("\tif n < 0 {\n\t\treturn ErrHeader\n\t}\n\n\t")
	tree, err := Lookup("go").Parse(context.Background(), "package p\nfunc f() error {\n"+doc)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	off := len("package p\nfunc f() error {\n") + pos
	bad, err := tree.Check(context.Background(), off, off, "return err := 0 {")
	if err != nil {
		t.Fatal(err)
	}
	if bad.Valid {
		t.Errorf("stray brace accepted: %+v", bad)
	}
	good, err := tree.Check(context.Background(), off, off, "r.pad = blockPadding(n)")
	if err != nil {
		t.Fatal(err)
	}
	if !good.Valid {
		t.Errorf("balanced statement rejected: %+v", good)
	}
}
