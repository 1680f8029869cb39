package eval

import (
	"testing"

	"github.com/dfim/dfim/infill"
)

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

// A suggestion that replaces the closers right of the cursor is judged as
// the editor applies it: covered text replaced, not inserted before.
func TestScoreJudgesTheAppliedEdit(t *testing.T) {
	task := Task{Lang: "go", Path: "a.go", Prefix: "package p\n\nvar v = f(", Middle: "1, 2", Suffix: ")\n"}
	pos := len(task.Prefix)
	doc := task.Prefix + task.Suffix
	// "1, 2)" covering the ")" after the cursor: applied, the file parses.
	s := infill.Suggestion{Text: "1, 2)", Start: pos, End: pos + 1}
	res := Result{Suggestion: insertedText(doc, pos, s), edit: &s}
	score(&res, &task, DefaultSyntax())
	if res.SyntaxValid == nil || !*res.SyntaxValid || !res.Exact {
		t.Errorf("covering suggestion: valid %v exact %v, want valid and exact", res.SyntaxValid, res.Exact)
	}
	// "1, 2))" covering one ")" leaves one too many.
	s = infill.Suggestion{Text: "1, 2))", Start: pos, End: pos + 1}
	res = Result{Suggestion: insertedText(doc, pos, s), edit: &s}
	score(&res, &task, DefaultSyntax())
	if res.SyntaxValid == nil || *res.SyntaxValid {
		t.Errorf("one closer too many: valid %v, want invalid", res.SyntaxValid)
	}
}
