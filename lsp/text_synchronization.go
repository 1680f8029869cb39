package lsp

import (
	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

// contentChange is TextDocumentContentChangeEvent with an optional range:
// go.lsp.dev/protocol's has a plain Range and cannot tell a full-text
// change from an edit at 0:0.
type contentChange struct {
	Range *protocol.Range `json:"range,omitempty"`
	Text  string          `json:"text"`
}

type didChangeParams struct {
	TextDocument   protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	ContentChanges []contentChange                          `json:"contentChanges"`
}

func (s *Server) didOpen(r *request) {
	var p protocol.DidOpenTextDocumentParams
	if err := decode(r.params, &p); err != nil {
		s.log.Warn("bad didOpen", zap.Error(err))
		return
	}
	r.uri = p.TextDocument.URI
	d := &document{uri: p.TextDocument.URI, languageID: string(p.TextDocument.LanguageID), version: p.TextDocument.Version}
	d.setText(p.TextDocument.Text, s.opts.MaxDocumentBytes)
	s.logTooLarge(d)
	s.mu.Lock()
	s.docs[d.uri] = d
	s.mu.Unlock()
	s.cancelDocument(d.uri, -1)
	s.forgetEdits(d.uri)
	s.indexDidOpen(d)
}

func (s *Server) didChange(r *request) {
	var p didChangeParams
	if err := decode(r.params, &p); err != nil {
		s.log.Warn("bad didChange", zap.Error(err))
		return
	}
	r.uri = p.TextDocument.URI
	s.mu.Lock()
	d := s.docs[p.TextDocument.URI]
	enc := s.enc
	s.mu.Unlock()
	if d == nil {
		s.log.Warn("didChange for a document that is not open", zap.String("document", string(r.uri)))
		return
	}
	// Documents are changed only here, on the read loop; snapshots taken
	// earlier keep their own text. ixMu orders the edit against the
	// index's first look at the open documents (startIndex), which reads
	// buffers off the read loop.
	s.ixMu.Lock()
	wasLarge := d.buf == nil
	for _, c := range p.ContentChanges {
		s.recordEdit(d, c.Range, c.Text, enc)
		switch {
		case c.Range == nil:
			d.setText(c.Text, s.opts.MaxDocumentBytes)
		case d.buf == nil:
			// Over the limit we keep no text, so edits cannot apply;
			// only a full change brings the document back.
		default:
			d.buf.replace(*c.Range, c.Text, enc)
			d.size = d.buf.size
			if d.size > s.opts.MaxDocumentBytes {
				d.buf = nil
			}
		}
	}
	d.dropSnapshot()
	s.indexDidChangeLocked(d)
	s.ixMu.Unlock()
	s.mu.Lock()
	d.version = p.TextDocument.Version
	s.mu.Unlock()
	if !wasLarge {
		s.logTooLarge(d)
	}
	s.cancelDocument(d.uri, d.version)
}

func (s *Server) didClose(r *request) {
	var p protocol.DidCloseTextDocumentParams
	if err := decode(r.params, &p); err != nil {
		s.log.Warn("bad didClose", zap.Error(err))
		return
	}
	s.mu.Lock()
	delete(s.docs, p.TextDocument.URI)
	delete(s.edits, p.TextDocument.URI)
	s.mu.Unlock()
	s.cancelDocument(p.TextDocument.URI, -1)
	s.indexDidClose(p.TextDocument.URI)
}

func (s *Server) didSave(*request) {}

func (s *Server) logTooLarge(d *document) {
	if d.buf == nil {
		s.log.Warn("document too large to complete; completions for it will be empty",
			zap.String("document", string(d.uri)), zap.Int("bytes", d.size), zap.Int("limit", s.opts.MaxDocumentBytes))
	}
}

// snapshotFor returns the current snapshot of uri and the settings to
// complete it with, or nil when it cannot be completed (not open, too
// large, or a language the settings exclude).
func (s *Server) snapshotFor(uri protocol.DocumentURI) (*snapshot, Settings) {
	s.mu.Lock()
	d := s.docs[uri]
	set := s.settings
	enc := s.enc
	s.mu.Unlock()
	switch {
	case d == nil:
		s.log.Info("completion for a document that is not open", zap.String("document", string(uri)))
		return nil, set
	case d.buf == nil:
		s.log.Info("completion skipped: document too large", zap.String("document", string(uri)),
			zap.Int("bytes", d.size), zap.Int("limit", s.opts.MaxDocumentBytes))
		return nil, set
	case !set.completes(d.languageID):
		s.log.Debug("completion skipped: language not enabled", zap.String("document", string(uri)),
			zap.String("languageId", d.languageID))
		return nil, set
	}
	return d.snapshot(enc), set
}
