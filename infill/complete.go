package infill

import (
	"context"
	"fmt"
	"time"

	"github.com/dfim/dfim/engine"
)

// A Completer fills documents with one engine. It is safe for concurrent use.
type Completer struct {
	engine engine.Denoiser
}

// New returns a Completer over d.
func New(d engine.Denoiser) *Completer { return &Completer{engine: d} }

// Engine returns the denoiser the Completer uses.
func (c *Completer) Engine() engine.Denoiser { return c.engine }

// Complete returns suggestions for the cursor at byte offset pos of doc, best first.
// (First cut: one hole between prefix and suffix; the full pipeline replaces it.)
func (c *Completer) Complete(ctx context.Context, doc Document, pos int, opts Options) ([]Suggestion, error) {
	if pos < 0 || pos > len(doc.Text) {
		return nil, fmt.Errorf("infill: position %d is outside %s (%d bytes)", pos, doc.Path, len(doc.Text))
	}
	start := time.Now()
	maxTok := opts.MaxTokens
	if maxTok <= 0 {
		maxTok = 16
	}
	res, err := c.engine.Infill(ctx, engine.Request{
		Segments: []engine.Segment{{Text: doc.Text[:pos]}, {Hole: true, MaxTok: maxTok}, {Text: doc.Text[pos:]}},
		Opts:     engine.Options{Steps: opts.Steps, Algorithm: opts.Algorithm, Seed: opts.Seed, Candidates: opts.Candidates},
		Observe:  opts.Observe,
	})
	if err != nil {
		return nil, err
	}
	var out []Suggestion
	for _, f := range res.Candidates {
		if len(f.Holes) == 0 || f.Holes[0] == "" {
			continue
		}
		out = append(out, Suggestion{Text: f.Holes[0], Start: pos, End: pos, Confidence: f.Confidence,
			Steps: res.Steps, Tokens: res.Tokens, Elapsed: time.Since(start), Syntax: SyntaxUnvalidated})
	}
	return out, nil
}
