package infill

import (
	"context"
	"sync"

	"github.com/dfim/dfim/engine"
)

// scripted is a test denoiser: each call returns the next fixed fills, one
// per candidate, and records the canvas it was sent.
type scripted struct {
	mu sync.Mutex
	// guarded by mu:
	calls [][]engine.Fill // fills for each call, in order
	reqs  []engine.Request
	// jointUnsupported makes multi-hole canvases fail with ErrUnsupported.
	jointUnsupported bool
	context          int // ContextLength; 0 = not a ContextSizer answer
}

func (s *scripted) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	holes := 0
	for _, seg := range req.Segments {
		if seg.Hole {
			holes++
		}
	}
	if holes > 1 && s.jointUnsupported {
		return engine.Result{}, engine.ErrUnsupported
	}
	s.reqs = append(s.reqs, req)
	var fills []engine.Fill
	if len(s.calls) > 0 {
		fills, s.calls = s.calls[0], s.calls[1:]
	}
	if req.Observe != nil {
		for _, f := range fills {
			req.Observe(engine.Step{Holes: []engine.HoleState{{Text: f.Holes[0]}}})
		}
	}
	return engine.Result{Candidates: fills, Steps: 4, Tokens: len(fills)}, nil
}

func (s *scripted) Close() error { return nil }

func (s *scripted) ContextLength() int {
	if s.context > 0 {
		return s.context
	}
	return 512
}

// CountTokens counts words and punctuation runs: close enough to BPE for
// window tests, and exact enough to be predictable.
func (s *scripted) CountTokens(text string) int {
	n, in := 0, false
	for _, r := range text {
		sp := r == ' ' || r == '\t' || r == '\n'
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n + 1
}

// fill makes one candidate's fill of one hole.
func fill(texts ...string) engine.Fill {
	return engine.Fill{Holes: texts, Tokens: make([]int, len(texts)), Confidence: 0.5}
}
