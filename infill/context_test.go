package infill

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
)

// recordingSource is a test ContextSource: it answers a fixed text and
// records what it was asked.
type recordingSource struct {
	answer string
	asked  []string // "path@offset/budget"
}

func (s *recordingSource) Context(path, text string, offset, budget int) string {
	s.asked = append(s.asked, fmt.Sprintf("%s@%d/%d", path, offset, budget))
	return s.answer
}

// TestContextSourceFeedsTheCanvas: infill asks the source itself, with the
// document's path, the cursor and the budget, puts the answer in the
// canvas before the prefix and reports its size; a caller's own
// ExtraContext wins, and a negative budget asks nothing.
func TestContextSourceFeedsTheCanvas(t *testing.T) {
	const doc = "package a\n\nfunc f() int {\n\treturn \n}\n"
	pos := strings.Index(doc, "return ") + len("return ")
	const extra = "// b.go\nfunc helper() int { return 7 }\n"
	eng := &scripted{calls: [][]engine.Fill{{fill("helper()")}, {fill("helper()")}, {fill("helper()")}}}
	c := New(eng)
	defer c.Close()
	src := &recordingSource{answer: extra}

	sugs, err := c.Complete(context.Background(), Document{Path: "/w/a.go", Text: doc}, pos, Options{Context: src, ContextBytes: 9})
	if err != nil || len(sugs) != 1 {
		t.Fatalf("Complete = %+v, %v", sugs, err)
	}
	if len(src.asked) != 1 || !strings.HasPrefix(src.asked[0], "/w/a.go@") || !strings.HasSuffix(src.asked[0], "/9") {
		t.Errorf("source asked %v, want once for /w/a.go with budget 9", src.asked)
	}
	if got := eng.reqs[0].Segments[0].Text; got != extra {
		t.Errorf("first segment %q, want the source's context", got)
	}
	if sugs[0].ContextBytes != len(extra) {
		t.Errorf("ContextBytes = %d, want %d", sugs[0].ContextBytes, len(extra))
	}

	const given = "// given.go\nvar given = 1\n"
	if _, err := c.Complete(context.Background(), Document{Path: "/w/a.go", Text: doc}, pos, Options{Context: src, ExtraContext: given}); err != nil {
		t.Fatal(err)
	}
	if len(src.asked) != 1 || eng.reqs[1].Segments[0].Text != given {
		t.Errorf("with ExtraContext: source asked %v, first segment %q; want the given text and no question", src.asked, eng.reqs[1].Segments[0].Text)
	}

	if _, err := c.Complete(context.Background(), Document{Path: "/w/a.go", Text: doc}, pos, Options{Context: src, ContextBytes: -1}); err != nil {
		t.Fatal(err)
	}
	if len(src.asked) != 1 || len(eng.reqs[2].Segments) != 3 {
		t.Errorf("ContextBytes -1: source asked %v, %d segments; want no context", src.asked, len(eng.reqs[2].Segments))
	}

	// Preview shows exactly that canvas, with the marker at the hole.
	got, err := c.Preview(context.Background(), Document{Path: "/w/a.go", Text: doc}, pos, Options{Context: src}, "<|hole|>")
	if err != nil {
		t.Fatal(err)
	}
	if want := extra + doc[:pos] + "<|hole|>" + doc[pos:]; got != want {
		t.Errorf("Preview =\n%s\nwant\n%s", got, want)
	}
}
