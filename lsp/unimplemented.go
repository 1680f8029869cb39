package lsp

import (
	"go.lsp.dev/jsonrpc2"
	"go.uber.org/zap"
)

// unimplemented answers every method dfim does not offer: MethodNotFound for
// a request, nothing for a notification (the specification lets servers
// ignore unknown notifications, and "$/" ones in particular).
func (s *Server) unimplemented(r *request) {
	if r.id == nil {
		s.log.Debug("notification ignored", zap.String("method", r.method))
		return
	}
	r.respond(nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "dfim does not implement %s", r.method))
}
