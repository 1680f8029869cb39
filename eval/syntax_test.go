package eval

import "testing"

func TestSyntaxValid(t *testing.T) {
	goTask := Task{Lang: "go", Path: "go/a.go", Prefix: "package p\n\nfunc f(x int) int {\n\t", Middle: "return x", Suffix: "\n}\n"}
	pyTask := Task{Lang: "python", Path: "python/a.py", Prefix: "def g(y):\n    ", Middle: "return y", Suffix: "\n"}
	for _, c := range []struct {
		task       Task
		suggestion string
		want       bool
	}{
		{goTask, "return x", true},
		{goTask, "return x +", false},
		{goTask, "return (x", false},
		{goTask, "x++\n\treturn x", true},
		{pyTask, "return y", true},
		{pyTask, "return (y", false},
		{pyTask, "if y:\n        return y\n    return 0", true},
	} {
		valid, checked := SyntaxValid(DefaultSyntax(), &c.task, c.suggestion)
		if !checked {
			t.Fatalf("%s suggestion %q was not checked: no grammar?", c.task.Lang, c.suggestion)
		}
		if valid != c.want {
			t.Errorf("%s suggestion %q: valid %v, want %v", c.task.Lang, c.suggestion, valid, c.want)
		}
	}
	unknown := Task{Lang: "cobol", Path: "x.cbl", Prefix: "A", Suffix: "B"}
	if _, checked := SyntaxValid(DefaultSyntax(), &unknown, "x"); checked {
		t.Error("a language without a grammar was reported as checked")
	}
}
