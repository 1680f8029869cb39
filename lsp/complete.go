package lsp

import (
	"context"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/dfim/dfim/infill"
)

// complete is what completion and inlineCompletion share: wait out the
// debounce, wait for the engine, ask infill, and keep only suggestions whose
// range lies inside the snapshot.
func (s *Server) complete(ctx context.Context, snap *snapshot, pos int, set Settings, invoked bool) ([]infill.Suggestion, error) {
	if d := set.debounce(invoked); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	c, err := s.waitCompleter(ctx)
	if err != nil {
		return nil, err
	}
	opts := infill.Options{Steps: set.Steps, MaxTokens: set.MaxTokens, Context: s.contextSource(set), ContextBytes: set.CrossFileContextBytes}
	if !invoked {
		opts.MinConfidence = set.MinConfidence // unasked: only what is likely right
	}
	if set.DenoiseSteps {
		opts.Observe = s.denoiseObserver(snap, pos)
	}
	start := time.Now()
	sugg, err := c.Complete(ctx, snap.doc, pos, opts)
	if err != nil {
		return nil, err
	}
	n := len(snap.doc.Text)
	out := sugg[:0:0]
	for _, sg := range sugg {
		if sg.Start < 0 || sg.End > n || sg.Start > sg.End {
			s.log.Warn("suggestion with a range outside the document dropped", zap.String("document", snap.doc.Path),
				zap.Int("start", sg.Start), zap.Int("end", sg.End), zap.Int("size", n))
			continue
		}
		out = append(out, sg)
	}
	s.log.Debug("completed", zap.String("document", snap.doc.Path), zap.Int("pos", pos),
		zap.Int("suggestions", len(out)), zap.Duration("took", time.Since(start)))
	return out, nil
}

// denoiseStepParams are the params of the dfim/denoiseStep notification.
type denoiseStepParams struct {
	TextDocument protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	Position     protocol.Position                        `json:"position"`
	Candidate    int                                      `json:"candidate"`
	Step         int                                      `json:"step"`
	// Holes is each hole's text so far, still-masked positions shown as "░".
	Holes []string `json:"holes"`
}

// MethodDenoiseStep streams the canvas while it denoises (opt-in setting denoiseSteps).
const MethodDenoiseStep = "dfim/denoiseStep"

func (s *Server) denoiseObserver(snap *snapshot, pos int) func(infill.Step) {
	id := protocol.VersionedTextDocumentIdentifier{
		TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: snap.uri},
		Version:                snap.doc.Version,
	}
	p := snap.mapper.Position(pos)
	return func(st infill.Step) {
		s.notify(MethodDenoiseStep, &denoiseStepParams{TextDocument: id, Position: p, Candidate: st.Candidate, Step: st.Index, Holes: st.Holes})
	}
}
