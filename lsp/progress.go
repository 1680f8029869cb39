package lsp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dfim/dfim/infill"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

// ensureLoading starts opening the engine named by the settings, once, when
// no Completer was given.
func (s *Server) ensureLoading() {
	s.mu.Lock()
	start := !s.loading && s.completer == nil && s.loadErr == nil
	set := s.settings
	s.mu.Unlock()
	if start {
		s.startLoad(set, false)
	}
}

// startLoad opens the engine of set in the background, reporting progress
// with window/workDoneProgress when the client supports it. With reload,
// the current completer keeps serving until the new one is ready, and the
// engine settings (EngineSettings) change only if it loads.
func (s *Server) startLoad(set Settings, reload bool) {
	s.mu.Lock()
	if s.loading {
		s.mu.Unlock()
		s.showMessage(protocol.MessageTypeWarning, "dfim: an engine is already loading; change the engine again once it is ready")
		return
	}
	s.loading = true
	s.progressSeq++
	token := fmt.Sprintf("dfim-load-%d", s.progressSeq)
	progress := s.progressOK
	s.mu.Unlock()

	go func() {
		what := set.EngineSettings().String()
		if progress {
			progress = s.beginProgress(token, "dfim", "loading engine "+what)
		}
		start := time.Now()
		var c infill.Filler
		err := errors.New("no engine loader configured")
		if s.opts.Load != nil {
			c, err = s.opts.Load(s.ctx, set)
		}
		if progress {
			msg := "engine ready"
			if err != nil {
				msg = "engine failed to load"
			}
			s.notify(protocol.MethodProgress, map[string]any{"token": token,
				"value": map[string]any{"kind": "end", "message": msg}})
		}
		s.mu.Lock()
		s.loading = false
		if err == nil {
			s.completer = c
			if reload {
				s.settings.setEngine(set.EngineSettings())
			}
		} else if s.completer == nil {
			s.loadErr = err
		}
		select {
		case <-s.ready:
		default:
			close(s.ready)
		}
		s.mu.Unlock()
		if err != nil {
			s.log.Error("engine failed to load", zap.String("engine", what), zap.Error(err))
			s.showMessage(protocol.MessageTypeError, fmt.Sprintf("dfim: cannot load engine %s: %v", what, err))
			return
		}
		s.log.Info("engine ready", zap.String("engine", what), zap.Duration("took", time.Since(start)))
	}()
}

// beginProgress creates a progress token and sends its begin; false when
// the client refused the token.
func (s *Server) beginProgress(token, title, msg string) bool {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	if _, err := s.conn.Call(ctx, protocol.MethodWorkDoneProgressCreate, map[string]any{"token": token}, nil); err != nil {
		s.log.Debug("client refused a progress token", zap.Error(err))
		return false
	}
	s.notify(protocol.MethodProgress, map[string]any{"token": token,
		"value": map[string]any{"kind": "begin", "title": title, "message": msg, "cancellable": false}})
	return true
}

// waitCompleter returns the completer once the engine has loaded.
func (s *Server) waitCompleter(ctx context.Context) (infill.Filler, error) {
	s.ensureLoading()
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.completer == nil {
		return nil, fmt.Errorf("no engine: %w", s.loadErr)
	}
	return s.completer, nil
}
