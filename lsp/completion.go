package lsp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/dfim/dfim/infill"
)

type completionParams struct {
	TextDocument protocol.TextDocumentIdentifier `json:"textDocument"`
	Position     protocol.Position               `json:"position"`
	Context      *struct {
		TriggerKind protocol.CompletionTriggerKind `json:"triggerKind"`
	} `json:"context,omitempty"`
}

// completion answers textDocument/completion: one item per suggestion, each
// with a textEdit over exactly the bytes the suggestion replaces.
func (s *Server) completion(r *request) {
	empty := &protocol.CompletionList{IsIncomplete: true, Items: []protocol.CompletionItem{}}
	var p completionParams
	if err := decode(r.params, &p); err != nil {
		r.respond(nil, err)
		return
	}
	r.uri = p.TextDocument.URI
	snap, set := s.snapshotFor(r.uri)
	if snap == nil {
		r.respond(empty, nil)
		return
	}
	off := snap.mapper.Offset(p.Position)
	invoked := p.Context == nil || p.Context.TriggerKind == protocol.CompletionTriggerKindInvoked
	s.goAsync(r, r.uri, snap.doc.Version, empty, func(ctx context.Context) (any, error) {
		sugg, err := s.complete(ctx, snap, off, set, invoked)
		if err != nil {
			return nil, err
		}
		return completionList(snap, sugg), nil
	})
}

func completionList(snap *snapshot, sugg []infill.Suggestion) *protocol.CompletionList {
	// Incomplete: the next keystroke changes what the model would say, so
	// the client must ask again rather than filter these items.
	list := &protocol.CompletionList{IsIncomplete: true, Items: make([]protocol.CompletionItem, 0, len(sugg))}
	for i, sg := range sugg {
		rng := snap.mapper.Range(sg.Start, sg.End)
		list.Items = append(list.Items, protocol.CompletionItem{
			Label:            label(sg.Text),
			Kind:             protocol.CompletionItemKindSnippet,
			Detail:           fmt.Sprintf("dfim · %d tokens · %d steps", sg.Tokens, sg.Steps),
			Documentation:    &protocol.MarkupContent{Kind: protocol.PlainText, Value: sg.Text},
			FilterText:       sg.Text,
			SortText:         fmt.Sprintf("%04d", i),
			Preselect:        i == 0,
			InsertTextFormat: protocol.InsertTextFormatPlainText,
			TextEdit:         &protocol.TextEdit{Range: rng, NewText: sg.Text},
		})
	}
	return list
}

// label is the first line of a suggestion, shortened for a menu.
func label(text string) string {
	first, rest, multi := strings.Cut(strings.TrimLeft(text, " \t\r\n"), "\n")
	first = strings.TrimRight(first, " \t\r")
	if r := []rune(first); len(r) > 60 {
		first, multi = string(r[:60]), true
	}
	if multi && strings.TrimSpace(rest+first) != "" {
		first += "…"
	}
	if first == "" || first == "…" {
		first = strings.TrimSpace(text)
		if first == "" {
			first = "(whitespace)"
		}
	}
	return first
}

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
