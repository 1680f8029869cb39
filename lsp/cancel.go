package lsp

import (
	"encoding/json"

	"go.lsp.dev/jsonrpc2"
	"go.uber.org/zap"
)

// cancelRequest handles $/cancelRequest. Its id may be a JSON number or a
// string; go.lsp.dev/protocol's handler decodes numbers as float64 and then
// matches none, so dfim parses the id itself.
func (s *Server) cancelRequest(r *request) {
	var p struct {
		ID json.RawMessage `json:"id"`
	}
	if err := decode(r.params, &p); err != nil {
		s.log.Debug("bad $/cancelRequest", zap.Error(err))
		return
	}
	id, ok := parseID(p.ID)
	if !ok {
		s.log.Debug("$/cancelRequest with an id that is neither number nor string", zap.ByteString("id", p.ID))
		return
	}
	s.mu.Lock()
	w := s.inflight[id]
	s.mu.Unlock()
	if w == nil {
		return // already answered
	}
	w.byClient.Store(true)
	w.cancel()
}

// parseID reads a request id as the stream hands it to jsonrpc2 (see
// requestID): whole numbers whatever their spelling, strings, and
// stand-ins for the ids jsonrpc2 cannot hold.
func parseID(raw json.RawMessage) (jsonrpc2.ID, bool) { return requestID(raw) }
