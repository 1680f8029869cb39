package lsp

import (
	"context"
	"fmt"
	"strings"

	"go.lsp.dev/protocol"

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
