package batch

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Old-Mac files end their lines with a lone "\r" (LSP and infill count it
// as a line break). The grammars end a "//" comment only at "\n", so before,
// the first comment of a CR-only Go file ran to its end: every marker after
// it was "in a comment" and left alone, a query found nothing after it, and
// plan lines and size hints counted one line.
func TestCROnlyFileMarkersQueriesAndLines(t *testing.T) {
	const lf = "package a\n\n// f does things.\nfunc f() {\n\t<<fill>>\n\t// not this one: <<fill>>\n}\n"
	files := map[string]string{}
	for name, eol := range map[string]string{"lf": "\n", "crlf": "\r\n", "cr": "\r"} {
		files[name+"/a.go"] = strings.ReplaceAll(lf, "\n", eol)
	}
	root := tree(t, files)
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	for name, eol := range map[string]string{"lf": "\n", "crlf": "\r\n", "cr": "\r"} {
		want := strings.ReplaceAll(strings.Replace(lf, "\t<<fill>>", "\tx := 1", 1), "\n", eol)
		if got := read(t, filepath.Join(root, name, "a.go")); got != want {
			t.Errorf("%s/a.go = %q, want %q", name, got, want)
		}
	}
	if sum.HolesFound != 3 || sum.HolesFilled != 3 || sum.MarkersLeft != 3 {
		t.Errorf("summary = %+v, want 3 holes found and filled, 3 markers left in comments", sum)
	}

	// A query's hole spans three lines, and sees past the comment.
	src := "package a\r\r// f is not written yet.\rfunc f() {\r\tpanic(\"unimplemented\")\r}\r"
	root = tree(t, map[string]string{"a.go": src})
	run, err := SyntaxQuery("go", `(function_declaration body: (block (expression_statement (call_expression function: (identifier) @f (#eq? @f "panic")))) @fill)`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Query: "q", Lang: "go", RunQuery: run}, []string{root}); err != nil {
		t.Fatal(err)
	}
	if got, want := read(t, filepath.Join(root, "a.go")), "package a\r\r// f is not written yet.\rfunc f() x := 111\r"; got != want {
		t.Errorf("query fill: a.go = %q, want %q", got, want)
	}

	// Plan lines count "\r" breaks; the hole keeps its indentation and break.
	text := "a\rb\r\tcc\rd"
	h, err := LineRangeHole(text, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := text[h.Start:h.End]; got != "cc" {
		t.Errorf("line 3 of %q: hole %q, want %q", text, got, "cc")
	}
	if h, err := LineRangeHole(text, 2, 4); err != nil || text[h.Start:h.End] != "b\r\tcc\rd" || h.MaxLines != 3 {
		t.Errorf("lines 2..4 of %q: hole %+v, %v", text, h, err)
	}
}
