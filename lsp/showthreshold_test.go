package lsp

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/dfim/dfim/infill"
)

// TestShowThresholdOnlyForAutomaticRequests: the showThreshold setting
// reaches infill for an automatic inline request (the default until a
// client sets it), and an invoked request is not filtered.
func TestShowThresholdOnlyForAutomaticRequests(t *testing.T) {
	var seen atomic.Value
	f := &fakeCompleter{fn: func(_ context.Context, _ infill.Document, pos int, opts infill.Options) ([]infill.Suggestion, error) {
		seen.Store(opts.ShowThreshold)
		return nil, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"dfim": msg{"debounceMs": 0}}})
	c.open("file:///a.go", "go", "package a\n")
	p := msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(1, 0), "context": msg{"triggerKind": 2}}
	c.call(1, "textDocument/inlineCompletion", p)
	if got := seen.Load(); got != infill.DefaultShowThreshold {
		t.Errorf("automatic request, default settings: ShowThreshold %v, want %v", got, infill.DefaultShowThreshold)
	}
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"dfim": msg{"showThreshold": 0.3, "debounceMs": 0}}})
	c.call(2, "textDocument/inlineCompletion", p)
	if got := seen.Load(); got != 0.3 {
		t.Errorf("automatic request: ShowThreshold %v, want the setting 0.3", got)
	}
	p["context"] = msg{"triggerKind": 1}
	c.call(3, "textDocument/inlineCompletion", p)
	if got := seen.Load(); got != 0.0 {
		t.Errorf("invoked request: ShowThreshold %v, want 0 (not filtered)", got)
	}
}

// TestShowThresholdSetting: showThreshold takes a probability and refuses
// anything else.
func TestShowThresholdSetting(t *testing.T) {
	s, err := DefaultSettings().Apply([]byte(`{"showThreshold":0.25}`), []string{"native"})
	if err != nil || s.ShowThreshold != 0.25 {
		t.Fatalf("showThreshold 0.25: %v, %v", s.ShowThreshold, err)
	}
	if _, err := DefaultSettings().Apply([]byte(`{"showThreshold":1.5}`), []string{"native"}); err == nil {
		t.Error("showThreshold 1.5 accepted, want an error")
	}
}
