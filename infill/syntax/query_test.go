package syntax

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestQueryCaptures(t *testing.T) {
	src := "package p\n\nfunc a() { panic(\"unimplemented\") }\n\nfunc b() { return }\n\nfunc c() int { panic(\"unimplemented\") }\n"
	l := Lookup("go")
	q, err := l.Query(`(function_declaration body: (block (expression_statement (call_expression function: (identifier) @f (#eq? @f "panic")))) @fill)`)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if !q.HasCapture("fill") || q.HasCapture("nope") {
		t.Error("HasCapture wrong")
	}
	tree, err := l.Parse(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	got, err := tree.Captures(q, "fill")
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, r := range got {
		bodies = append(bodies, src[r[0]:r[1]])
	}
	want := []string{`{ panic("unimplemented") }`, `{ panic("unimplemented") }`}
	if !reflect.DeepEqual(bodies, want) {
		t.Errorf("captures = %q, want %q", bodies, want)
	}
	if _, err := l.Query("(function_declaration"); err == nil || !strings.Contains(err.Error(), "bad go query") {
		t.Errorf("malformed query: err = %v", err)
	}
}
