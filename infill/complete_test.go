package infill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestCompleteConcurrent runs completions of one path from several
// goroutines: the shared tree cache and parser pool must hold up (run
// with -race), and every answer must be for its own snapshot.
func TestCompleteConcurrent(t *testing.T) {
	c := New(fixedEngine{"n * 2"})
	defer c.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				text := fmt.Sprintf("package a\n\n// v%d.%d\nfunc f(n int) int {\n\treturn \n}\n", g, i)
				pos := strings.Index(text, "return ") + len("return ")
				sugs, err := c.Complete(context.Background(), Document{Path: "a.go", Text: text}, pos, Options{})
				if err != nil || len(sugs) != 1 || sugs[0].Text != "n * 2" || sugs[0].Syntax != SyntaxValid {
					t.Errorf("Complete = %+v, %v", sugs, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if st := c.Stats(); st.Completions != 80 || st.Valid != 80 {
		t.Errorf("stats %+v, want 80 completions, 80 valid", st)
	}
}

func TestCompleteBadInput(t *testing.T) {
	c := New(fixedEngine{"x"})
	defer c.Close()
	if _, err := c.Complete(context.Background(), Document{Path: "a.go", Text: "package a\n"}, 99, Options{}); err == nil ||
		!strings.Contains(err.Error(), "outside a.go") {
		t.Errorf("position past the end: err = %v", err)
	}
	if _, err := c.Complete(context.Background(), Document{Path: "a.bin", Text: "ab\x00cd"}, 1, Options{}); err == nil ||
		!strings.Contains(err.Error(), "binary") {
		t.Errorf("binary text: err = %v", err)
	}
	if _, err := c.FillHoles(context.Background(), Document{Path: "a.go", Text: "package a\n"}, []Hole{{Start: 5, End: 7}, {Start: 6, End: 6}}, Options{}); err == nil ||
		!strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlapping holes: err = %v", err)
	}
}

// A fill that changes nothing (the ")" over the ")" after the cursor, or
// the text it replaces) is never a suggestion (issue 27, item 13).
func TestNoOpFillsDropped(t *testing.T) {
	text := "package a\n\nimport \"fmt\"\n\nfunc f() {\n\tfmt.Println()\n}\n"
	pos := strings.Index(text, "Println(") + len("Println(")
	var reasons []DropReason
	for _, fill := range []string{")", "\"hi\")"} {
		c := New(fixedEngine{fill})
		sugs, err := c.Complete(context.Background(), Document{Path: "a.go", Text: text}, pos,
			Options{Dropped: func(why DropReason, _ Suggestion) { reasons = append(reasons, why) }})
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sugs {
			if s.Text == text[s.Start:s.End] {
				t.Errorf("fill %q: suggestion %q over %q changes nothing", fill, s.Text, text[s.Start:s.End])
			}
		}
		if fill != ")" && len(sugs) == 0 {
			t.Errorf("fill %q: no suggestion, want one", fill)
		}
	}
	if !slices.Contains(reasons, DropNoOp) {
		t.Errorf("drop reasons %v, want %q", reasons, DropNoOp)
	}
}
