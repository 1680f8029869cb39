package lsp

import (
	"context"

	"github.com/dfim/dfim/infill"
)

// inlineCompletion answers textDocument/inlineCompletion (LSP 3.18): ghost
// text, each item an insertText over the range it replaces.
func (s *Server) inlineCompletion(r *request) {
	empty := &InlineCompletionList{Items: []InlineCompletionItem{}}
	var p InlineCompletionParams
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
	invoked := p.Context.TriggerKind == InlineCompletionInvoked
	s.goAsync(r, r.uri, snap.doc.Version, empty, func(ctx context.Context) (any, error) {
		sugg, err := s.complete(ctx, snap, off, set, invoked)
		if err != nil {
			return nil, err
		}
		return inlineList(snap, sugg), nil
	})
}

func inlineList(snap *snapshot, sugg []infill.Suggestion) *InlineCompletionList {
	list := &InlineCompletionList{Items: make([]InlineCompletionItem, 0, len(sugg))}
	for _, sg := range sugg {
		rng := snap.mapper.Range(sg.Start, sg.End)
		list.Items = append(list.Items, InlineCompletionItem{InsertText: sg.Text, Range: &rng})
	}
	return list
}
