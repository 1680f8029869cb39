package infill

import "testing"

func TestLanguageAccepts(t *testing.T) {
	goDoc := "package p\n\nfunc f(xs []int) int {\n\t\n\treturn 0\n}\n"
	goAt := len("package p\n\nfunc f(xs []int) int {\n\t")
	pyDoc := "def f(xs):\n    total = 0\n    \n    return total\n"
	pyAt := len("def f(xs):\n    total = 0\n    ")
	for _, tc := range []struct {
		name, lang, doc string
		at              int
		text            string
		want            bool
	}{
		{"go statement", "go", goDoc, goAt, "for i := range xs {\n\t\t_ = i\n\t}", true},
		// tree-sitter takes this for a for statement; go/parser does not.
		{"go for with an assignment as condition", "go", goDoc, goAt, "for i := 0; i; i := nil {\n\t}", false},
		{"go in a file that did not parse", "go", "package p\nfunc f( {\n\t\n}\n", len("package p\nfunc f( {\n\t"), "x :=", true},
		{"python statement", "python", pyDoc, pyAt, "total += sum(xs)", true},
		{"python block", "python", pyDoc, pyAt, "for x in xs:\n        total += x", true},
		{"python unexpected indent", "python", pyDoc, pyAt, "total += 1\n        total += 2", false},
		{"python colon without a body", "python", pyDoc, pyAt, "for x in xs:", false},
		{"python tab in a space file", "python", pyDoc, pyAt, "x = 1\n\ty = 2", false},
		{"python bracket continuation", "python", pyDoc, pyAt, "total = sum(\n        xs)", true},
		{"other languages pass", "rust", "fn f() {}", 0, "garbage ((", true},
	} {
		if got := LanguageAccepts(tc.lang, tc.doc, tc.at, tc.at, tc.text); got != tc.want {
			t.Errorf("%s: LanguageAccepts(%q) = %v, want %v", tc.name, tc.text, got, tc.want)
		}
	}
}
