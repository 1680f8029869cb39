package syntax

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestParseAfterCancel checks that a parser whose parse met a cancelled
// context does not fail later parses: go-tree-sitter's cancellation flag
// could stay set on a pooled parser ("operation limit was hit" forever
// after a burst of cancelled completions).
func TestParseAfterCancel(t *testing.T) {
	lang := Lookup("go")
	fn := "func f(x int) int {\n\tif x > 0 {\n\t\treturn x + 1\n\t}\n\treturn 0\n}\n\n"
	// The parser checks its flag every 100 parse actions, so the texts
	// are long enough to be checked: a few kilobytes, as a document is.
	doc := "package p\n\n" + strings.Repeat(fn, 60)
	big := "package p\n\n" + strings.Repeat(fn, 3000)

	// A context cancelled in the middle of a long parse.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Millisecond, cancel)
	if tr, err := lang.Parse(ctx, big); err == nil {
		tr.Close()
	}
	cancel()
	mustParse(t, lang, doc, "after a parse cancelled midway")

	// Contexts cancelled at about the moment the parse ends: the race in
	// which the library sets the flag after the parse has returned.
	for i := range 1000 {
		ctx, cancel := context.WithCancel(context.Background())
		if i%2 == 0 {
			go cancel()
		}
		if tr, err := lang.Parse(ctx, doc); err == nil {
			tr.Close()
		}
		cancel()
		mustParse(t, lang, doc, "after a parse whose context was cancelled as it ended")
		if t.Failed() {
			t.Fatalf("failed at round %d", i)
		}
	}
}

func mustParse(t *testing.T, lang *Language, text, when string) {
	t.Helper()
	tr, err := lang.Parse(context.Background(), text)
	if err != nil {
		t.Errorf("%s: %v", when, err)
		return
	}
	defer tr.Close()
	if tr.HasErrors() {
		t.Errorf("%s: a valid text parsed with errors", when)
	}
}
