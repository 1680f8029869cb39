package lsp

import (
	"bytes"
	"encoding/json"
	"math"

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

// parseID reads a request id as jsonrpc2 keys it: integral numbers as
// number ids (whatever their JSON spelling, e.g. 7 or 7.0), strings as
// string ids.
func parseID(raw json.RawMessage) (jsonrpc2.ID, bool) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return jsonrpc2.ID{}, false
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		if n != math.Trunc(n) || n < math.MinInt32 || n > math.MaxInt32 {
			return jsonrpc2.ID{}, false
		}
		return jsonrpc2.NewNumberID(int32(n)), true
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return jsonrpc2.NewStringID(str), true
	}
	return jsonrpc2.ID{}, false
}
