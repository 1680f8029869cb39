package infill

import (
	"context"
	"fmt"
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
