package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

// didChangeConfiguration applies the settings a client pushes and, when
// the client answers workspace/configuration, pulls them: VS Code pushes
// `settings: null` and expects to be asked.
func (s *Server) didChangeConfiguration(r *request) {
	var p struct {
		Settings json.RawMessage `json:"settings"`
	}
	if err := decode(r.params, &p); err != nil {
		s.log.Warn("bad didChangeConfiguration", zap.Error(err))
		return
	}
	s.applySettings(p.Settings)
	s.mu.Lock()
	pull := s.configPull
	s.mu.Unlock()
	if pull {
		// Not on the read loop: it must stay free to read the answer.
		go s.pullSettings()
	}
}

// configurationTimeout bounds the wait for a workspace/configuration answer.
const configurationTimeout = 5 * time.Second

// pullSettings asks the client for section "dfim" with
// workspace/configuration and applies the answer through applySettings.
// When several pulls overlap only the latest answer is applied, so settings
// never go back to an older state.
func (s *Server) pullSettings() {
	s.mu.Lock()
	s.configSeq++
	seq := s.configSeq
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.ctx, configurationTimeout)
	defer cancel()
	var items []json.RawMessage
	params := &protocol.ConfigurationParams{Items: []protocol.ConfigurationItem{{Section: "dfim"}}}
	if _, err := s.conn.Call(ctx, protocol.MethodWorkspaceConfiguration, params, &items); err != nil {
		s.log.Warn("workspace/configuration failed; keeping the current settings", zap.Error(err))
		return
	}
	s.mu.Lock()
	latest := seq == s.configSeq
	s.mu.Unlock()
	if !latest {
		return
	}
	if len(items) != 1 {
		s.log.Warn("workspace/configuration answered with the wrong number of items; keeping the current settings",
			zap.Int("items", len(items)))
		return
	}
	s.applySettings(items[0])
}

// applySettings validates and applies a settings object. Each rejected
// value is shown to the user once (the same mistake sent again is only
// logged) and the old value kept. A new engine (engine, model, endpoint,
// remoteModel, timeoutMs) is loaded in the background; the settings switch
// to it only once it has loaded.
func (s *Server) applySettings(raw json.RawMessage) {
	// Pulled settings arrive on their own goroutine: one apply at a time,
	// so none is lost between reading and writing s.settings.
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	old := s.settings
	started := s.loading || s.completer != nil || s.loadErr != nil
	s.mu.Unlock()
	next, err := old.Apply(raw, s.opts.Engines)
	var errs []error
	if err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		} else {
			errs = []error{err}
		}
	}
	engineChanged := next.EngineSettings() != old.EngineSettings()
	if engineChanged && started {
		if s.opts.Load == nil {
			errs = append(errs, &SettingError{Key: "engine", Value: next.EngineSettings().String(),
				Msg: "this server cannot switch engines while running; restart it with --engine, --model, --endpoint, --remote-model, --timeout"})
		} else {
			s.startLoad(next, true)
		}
		next.setEngine(old.EngineSettings())
	}
	s.mu.Lock()
	s.settings = next
	var fresh []error
	for _, e := range errs {
		key := e.Error()
		var se *SettingError
		if errors.As(e, &se) {
			key = se.Key + "=" + se.Value
		}
		if !s.reported[key] {
			s.reported[key] = true
			fresh = append(fresh, e)
		}
	}
	s.mu.Unlock()
	s.setLogLevel(next.LogLevel)
	if next.CrossFileContext && !old.CrossFileContext {
		// Turned on after the session began: index now. (Turned off, the
		// index stays but completions stop using it.)
		s.startIndex()
	}
	for _, e := range errs {
		s.log.Warn("setting rejected", zap.Error(e))
	}
	for _, e := range fresh {
		s.showMessage(protocol.MessageTypeWarning, e.Error())
	}
}
