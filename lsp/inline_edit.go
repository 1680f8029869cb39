package lsp

import (
	"context"
	"sort"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/dfim/dfim/infill"
)

// Next-edit suggestions as Copilot's language server answers them, so
// that editors' plugins that render them (copilot-lsp.nvim, sidekick.nvim)
// work with dfim unchanged.

// Methods of next-edit suggestions. The two notifications are what
// copilot-lsp.nvim sends besides the request; dfim has nothing to do on
// them.
const (
	MethodCopilotInlineEdit = "textDocument/copilotInlineEdit"
	MethodDidFocus          = "textDocument/didFocus"
	MethodDidShowInlineEdit = "textDocument/didShowInlineEdit"
)

// CommandNextEditShown is the command of each inline edit: copilot-lsp.nvim
// echoes it in didShowInlineEdit; nothing runs it.
const CommandNextEditShown = "dfim.nextEditShown"

// maxRecordedEditBytes bounds the text one recorded edit keeps.
const maxRecordedEditBytes = 16 << 10

// editHistorySize is how many of a document's recent edits are kept.
const editHistorySize = 48

type inlineEditParams struct {
	TextDocument protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	Position     protocol.Position                        `json:"position"`
}

// An inlineEdit is one next edit in the shape copilot-lsp.nvim reads
// (copilotlsp.InlineEdit): a TextEdit whose new text is in "text", with
// the document version it applies to and a command.
type inlineEdit struct {
	Range        protocol.Range                           `json:"range"`
	Text         string                                   `json:"text"`
	TextDocument protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	Command      protocol.Command                         `json:"command"`
}

type inlineEditResult struct {
	Edits []inlineEdit `json:"edits"`
}

// copilotInlineEdit answers textDocument/copilotInlineEdit with the next
// edit the user's recent edits of the document call for, or none: when
// the nextEdit setting is off, there is no recent edit, or nothing is sure
// enough.
func (s *Server) copilotInlineEdit(r *request) {
	empty := &inlineEditResult{Edits: []inlineEdit{}}
	var p inlineEditParams
	if err := decode(r.params, &p); err != nil {
		r.respond(nil, err)
		return
	}
	r.uri = p.TextDocument.URI
	snap, set := s.snapshotFor(r.uri)
	if snap == nil || !set.NextEditOn() {
		r.respond(empty, nil)
		return
	}
	s.mu.Lock()
	history := append([]infill.Edit(nil), s.edits[r.uri]...)
	s.mu.Unlock()
	if len(history) == 0 {
		r.respond(empty, nil)
		return
	}
	off := snap.mapper.Offset(p.Position)
	// Snapshots are taken here, on the read loop, where buffers change.
	others := s.otherSnapshots(snap, set)
	s.goAsync(r, r.uri, snap.doc.Version, empty, func(ctx context.Context) (any, error) {
		c, err := s.debouncedCompleter(ctx, set, false)
		if err != nil {
			return nil, err
		}
		ep, ok := c.(infill.EditPredictor)
		if !ok {
			return empty, nil
		}
		start := time.Now()
		opts := infill.NextEditOptions{Options: infill.Options{Steps: set.Steps}}
		edits, err := ep.NextEdits(ctx, snap.doc, history, off, opts)
		if err != nil {
			return nil, err
		}
		s.log.Debug("next edits", zap.String("document", snap.doc.Path), zap.Int("pos", off),
			zap.Int("edits", len(edits)), zap.Duration("took", time.Since(start)))
		if res := inlineEdits(snap, edits); len(res.Edits) > 0 {
			return res, nil
		}
		// Nothing left here: the other files the user has open.
		op, ok := c.(infill.OpenFilesPredictor)
		if !ok {
			return empty, nil
		}
		for _, other := range others {
			edits, err := op.NextEditsIn(ctx, other.doc, snap.doc, history, opts)
			if err != nil {
				return nil, err
			}
			if res := inlineEdits(other, edits); len(res.Edits) > 0 {
				s.log.Debug("next edit in another open file", zap.String("document", other.doc.Path), zap.Duration("took", time.Since(start)))
				return res, nil
			}
		}
		return empty, nil
	})
}

// maxOtherFiles bounds the open files a next edit is looked for in.
const maxOtherFiles = 8

// otherSnapshots are the open documents of snap's language other than
// snap, by URI, that the settings complete. Called on the read loop.
func (s *Server) otherSnapshots(snap *snapshot, set Settings) []*snapshot {
	s.mu.Lock()
	enc := s.enc
	var docs []*document
	for uri, d := range s.docs {
		if uri != snap.uri && d.buf != nil && d.languageID == snap.doc.LanguageID && set.completes(d.languageID) {
			docs = append(docs, d)
		}
	}
	s.mu.Unlock()
	sort.Slice(docs, func(i, j int) bool { return docs[i].uri < docs[j].uri })
	if len(docs) > maxOtherFiles {
		docs = docs[:maxOtherFiles]
	}
	out := make([]*snapshot, len(docs))
	for i, d := range docs {
		out[i] = d.snapshot(enc)
	}
	return out
}

// inlineEdits is the best next edit in copilot-lsp's shape (clients show
// one at a time), or none.
func inlineEdits(snap *snapshot, edits []infill.NextEdit) *inlineEditResult {
	res := &inlineEditResult{Edits: []inlineEdit{}}
	n := len(snap.doc.Text)
	for _, e := range edits {
		if e.Start < 0 || e.End > n || e.Start > e.End || snap.doc.Text[e.Start:e.End] == e.Text {
			continue
		}
		res.Edits = append(res.Edits, inlineEdit{
			Range: snap.mapper.Range(e.Start, e.End),
			Text:  e.Text,
			TextDocument: protocol.VersionedTextDocumentIdentifier{
				TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: snap.uri},
				Version:                snap.doc.Version,
			},
			Command: protocol.Command{Title: "dfim: next edit", Command: CommandNextEditShown},
		})
		break
	}
	return res
}

// recordEdit keeps the edit a didChange is about to make to d (range rng
// replaced by text), for next-edit suggestions; a full-text change, or a
// document over the size limit, forgets the history. Called on the read
// loop before the buffer changes.
func (s *Server) recordEdit(d *document, rng *protocol.Range, text string, enc Encoding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rng == nil || d.buf == nil {
		delete(s.edits, d.uri)
		return
	}
	start, old := d.buf.span(*rng, enc)
	if len(old)+len(text) > maxRecordedEditBytes {
		delete(s.edits, d.uri) // a paste or a cut, not an edit to repeat
		return
	}
	h := append(s.edits[d.uri], infill.Edit{Start: start, Old: old, New: text})
	if len(h) > editHistorySize {
		h = append(h[:0:0], h[len(h)-editHistorySize:]...)
	}
	s.edits[d.uri] = h
}

// forgetEdits drops a document's edit history (opened again, closed).
func (s *Server) forgetEdits(uri protocol.DocumentURI) {
	s.mu.Lock()
	delete(s.edits, uri)
	s.mu.Unlock()
}

// span is the byte offset of rng's start in the buffer and the text rng
// covers, as replace would cut it.
func (b *buffer) span(rng protocol.Range, enc Encoding) (int, string) {
	ci, oi := b.locate(rng.Start, enc)
	cj, oj := b.locate(rng.End, enc)
	if cj < ci || (cj == ci && oj < oi) {
		cj, oj = ci, oi
	}
	start := oi
	for k := 0; k < ci; k++ {
		start += len(b.chunks[k].text)
	}
	if ci == cj {
		return start, b.chunks[ci].text[oi:oj]
	}
	old := b.chunks[ci].text[oi:]
	for k := ci + 1; k < cj; k++ {
		old += b.chunks[k].text
	}
	return start, old + b.chunks[cj].text[:oj]
}
