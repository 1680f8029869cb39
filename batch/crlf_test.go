package batch

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A file with Windows line endings is filled as the same file with "\n"
// ones (issue 27, item 3): the built-in model saw the "\r"s and wrote what
// it would not have written in the LF file ("s :", a line ending "\r\r\n",
// or the next function again).
func TestBuiltinModelFillsCRLFFileLikeLF(t *testing.T) {
	filler := builtinFiller(t)
	sources := map[string]string{
		"calc.go":  "package calc\n\n// Add returns a plus b.\nfunc Add(a, b int) int {\n\t<<fill>>\n}\n\nfunc B() {\n}\n",
		"stack.go": "package stack\n\ntype Stack struct{ items []int }\n\n// Len returns the number of items.\nfunc (s *Stack) Len() int {\n\t<<fill>>\n}\n",
		"util.py":  "def add(a, b):\n    <<fill>>\n\n\ndef main():\n    print(add(1, 2))\n",
	}
	files := map[string]string{}
	for name, lf := range sources {
		files["lf/"+name], files["crlf/"+name] = lf, strings.ReplaceAll(lf, "\n", "\r\n")
	}
	root := tree(t, files)
	sum, err := Run(context.Background(), Config{Filler: filler}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	checkFilled(t, sum, files, root)
	for name := range sources {
		gotLF, gotCRLF := read(t, filepath.Join(root, "lf", name)), read(t, filepath.Join(root, "crlf", name))
		if want := strings.ReplaceAll(gotLF, "\n", "\r\n"); gotCRLF != want {
			t.Errorf("%s: CRLF file filled as\n%q\nwant the LF file's fill in CRLF:\n%q", name, gotCRLF, want)
		}
		if strings.Contains(gotCRLF, "\r\r") || strings.Count(gotCRLF, "\n") != strings.Count(gotCRLF, "\r\n") {
			t.Errorf("%s: CRLF file written with other line endings:\n%q", name, gotCRLF)
		}
	}
	if got := read(t, filepath.Join(root, "crlf/calc.go")); strings.Count(got, "func B()") != 1 {
		t.Errorf("calc.go: the fill ran past its hole:\n%s", got)
	}
}
