package lsp

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

func (s *Server) didChangeConfiguration(r *request) {
	var p struct {
		Settings json.RawMessage `json:"settings"`
	}
	if err := decode(r.params, &p); err != nil {
		s.log.Warn("bad didChangeConfiguration", zap.Error(err))
		return
	}
	s.applySettings(p.Settings)
}

// applySettings validates and applies a settings object. Each rejected
// value is shown to the user once (the same mistake sent again is only
// logged) and the old value kept. A new engine or model is loaded in the
// background; the settings switch to it only once it has loaded.
func (s *Server) applySettings(raw json.RawMessage) {
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
	engineChanged := next.Engine != old.Engine || next.Model != old.Model
	if engineChanged && started {
		if s.opts.Load == nil {
			errs = append(errs, &SettingError{Key: "engine", Value: fmt.Sprintf("%q/%q", next.Engine, next.Model),
				Msg: "this server cannot switch engines while running; restart it with --engine/--model"})
		} else {
			s.startLoad(next, true)
		}
		next.Engine, next.Model = old.Engine, old.Model
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
	for _, e := range errs {
		s.log.Warn("setting rejected", zap.Error(e))
	}
	for _, e := range fresh {
		s.showMessage(protocol.MessageTypeWarning, e.Error())
	}
}
