package infill

import (
	"context"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
)

// A MaxTokens larger than the engine's context is capped to what fits
// (issue 27, item 9): the engine refused every such canvas ("the canvas
// needs 316 tokens"). The cap shows in Suggestion.MaxTokens.
func TestMaxTokensCappedToContext(t *testing.T) {
	text := "package a\n\n// f doubles n.\nfunc f(n int) int {\n\treturn \n}\n"
	pos := strings.Index(text, "return ") + len("return ")
	for _, tt := range []struct {
		name string
		call func(c *Completer) ([]Suggestion, error)
	}{
		{"Complete", func(c *Completer) ([]Suggestion, error) {
			return c.Complete(context.Background(), Document{Path: "a.go", Text: text}, pos, Options{MaxTokens: 400})
		}},
		{"FillHoles", func(c *Completer) ([]Suggestion, error) {
			return c.FillHoles(context.Background(), Document{Path: "a.go", Text: text}, []Hole{{Start: pos, End: pos}}, Options{MaxTokens: 400})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := &scripted{context: 256, calls: [][]engine.Fill{{fill("n * 2")}}}
			c := New(e)
			defer c.Close()
			limit := c.HoleTokenLimit(Options{})
			if limit <= 0 || limit >= 256 {
				t.Fatalf("HoleTokenLimit = %d, want within the context of 256", limit)
			}
			sugs, err := tt.call(c)
			if err != nil || len(sugs) != 1 || sugs[0].Text != "n * 2" {
				t.Fatalf("= %+v, %v", sugs, err)
			}
			if sugs[0].MaxTokens != limit {
				t.Errorf("Suggestion.MaxTokens = %d, want the cap %d", sugs[0].MaxTokens, limit)
			}
			total := 0
			for _, seg := range e.reqs[0].Segments {
				if seg.Hole {
					total += seg.MaxTok
					if seg.MaxTok > limit {
						t.Errorf("hole of %d tokens sent, want at most %d", seg.MaxTok, limit)
					}
				} else {
					total += e.CountTokens(seg.Text)
				}
			}
			if total > 256 {
				t.Errorf("canvas of %d tokens sent to an engine with a context of 256", total)
			}
		})
	}
	// Within the limit, MaxTokens is what was asked.
	c := New(&scripted{context: 256, calls: [][]engine.Fill{{fill("n * 2")}}})
	defer c.Close()
	if sugs, err := c.Complete(context.Background(), Document{Path: "a.go", Text: text}, pos, Options{MaxTokens: 40}); err != nil || len(sugs) != 1 || sugs[0].MaxTokens != 40 {
		t.Errorf("MaxTokens 40: %+v, %v", sugs, err)
	}
}
