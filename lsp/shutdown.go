package lsp

// shutdown stops all work; the session then answers nothing but exit.
func (s *Server) shutdown(r *request) {
	s.cancelAll()
	s.mu.Lock()
	s.state = stateShutdown
	s.shutdownSeen = true
	s.mu.Unlock()
	s.closeIndex()
	s.log.Info("shutdown")
	r.respond(nil, nil)
}

// exit ends the session. Serve returns ErrExitWithoutShutdown when shutdown
// did not come first.
func (s *Server) exit() {
	s.mu.Lock()
	s.state = stateExited
	s.mu.Unlock()
	s.log.Info("exit")
	s.cancelAll()
	s.conn.Close()
}

func (s *Server) exitedAfterShutdown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdownSeen
}
