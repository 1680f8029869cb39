package index

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTagAfterCancel checks that a parse which met a cancelled context
// does not fail later parses on infill/syntax's pooled parsers: the
// go-tree-sitter cancellation flag could stay set on a reused parser, and
// every later file then failed with "operation limit was hit" (the bug
// infill/syntax had in its parser pool).
func TestTagAfterCancel(t *testing.T) {
	cq, err := compileQuery(taggerFor("go"))
	if err != nil {
		t.Fatal(err)
	}
	defer cq.q.Close()
	fn := "func f(x int) int {\n\tif x > 0 {\n\t\treturn x + 1\n\t}\n\treturn 0\n}\n\n"
	// The parser checks its flag every 100 parse actions, so the texts are
	// long enough to be checked: a few kilobytes, as a source file is.
	doc := []byte("package p\n\n" + strings.Repeat(fn, 60))
	big := []byte("package p\n\n" + strings.Repeat(fn, 3000))
	mustTag := func(when string) {
		t.Helper()
		tg, err := extract(context.Background(), cq, "/p.go", doc)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if len(tg.defs) != 60 {
			t.Fatalf("%s: %d definitions, want 60", when, len(tg.defs))
		}
	}

	// A context cancelled in the middle of a long parse.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Millisecond, cancel)
	extract(ctx, cq, "/big.go", big)
	cancel()
	mustTag("after a parse cancelled midway")

	// A context already cancelled.
	extract(ctx, cq, "/p.go", doc)
	mustTag("after a parse with a cancelled context")

	// Contexts cancelled at about the moment the parse ends: the race in
	// which the library sets the flag after the parse has returned.
	for i := range 1000 {
		ctx, cancel := context.WithCancel(context.Background())
		if i%2 == 0 {
			go cancel()
		}
		extract(ctx, cq, "/p.go", doc)
		cancel()
		mustTag("after a parse whose context was cancelled as it ended")
	}
}
