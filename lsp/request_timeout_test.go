package lsp

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dfim/dfim/infill"
)

// An engine that never answers is stopped at requestTimeoutMs: the client
// gets an empty list (not an error), the engine's context is cancelled by
// the deadline, and the log says why. Before the timeout existed the
// request waited for ever.
func TestRequestTimeoutStopsTheWork(t *testing.T) {
	for _, method := range []string{"textDocument/completion", "textDocument/inlineCompletion"} {
		t.Run(method, func(t *testing.T) {
			stopped := make(chan error, 1)
			f := &fakeCompleter{fn: func(ctx context.Context, _ infill.Document, _ int, _ infill.Options) ([]infill.Suggestion, error) {
				<-ctx.Done()
				stopped <- ctx.Err()
				return nil, ctx.Err()
			}}
			set := DefaultSettings()
			set.RequestTimeoutMs = 200
			core, logs := observer.New(zap.InfoLevel)
			c := startServer(t, Options{Completer: f, Settings: set, Logger: zap.New(core)})
			c.initialize()
			c.open("file:///a.go", "go", "package a\n")
			m := c.call(1, method, msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(1, 0),
				"context": msg{"triggerKind": 1}})
			res, _ := m["result"].(map[string]any)
			if m["error"] != nil || res == nil || len(res["items"].([]any)) != 0 {
				t.Fatalf("timed-out request: %v, want an empty list", m)
			}
			select {
			case err := <-stopped:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("engine's context ended with %v, want the deadline", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the engine's context was never cancelled")
			}
			if n := logs.FilterMessageSnippet("request timeout").Len(); n != 1 {
				t.Errorf("%d log lines about the request timeout, want 1; log: %v", n, logs.All())
			}
		})
	}
}

func TestRequestTimeoutSetting(t *testing.T) {
	set, err := DefaultSettings().Apply([]byte(`{"requestTimeoutMs": 2500}`), nil)
	if err != nil || set.requestTimeout() != 2500*time.Millisecond {
		t.Errorf("requestTimeoutMs 2500: %v, %v", set.requestTimeout(), err)
	}
	if _, err := DefaultSettings().Apply([]byte(`{"requestTimeoutMs": -1}`), nil); err == nil {
		t.Error("requestTimeoutMs -1 accepted")
	}
	for _, tt := range []struct {
		set  Settings
		want time.Duration
	}{
		{Settings{Engine: "native", TimeoutMs: 30000}, DefaultRequestTimeout},
		{Settings{Engine: "openai", TimeoutMs: 30000}, 30*time.Second + DefaultRequestTimeout},
		{Settings{Engine: "openai"}, 0},
	} {
		if got := tt.set.requestTimeout(); got != tt.want {
			t.Errorf("%s (timeoutMs %d): request timeout %v, want %v", tt.set.Engine, tt.set.TimeoutMs, got, tt.want)
		}
	}
}
