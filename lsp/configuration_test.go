package lsp

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dfim/dfim/infill"
)

// stepsSeen returns a completer that records the steps option it was given.
func stepsSeen(steps *atomic.Int32) *fakeCompleter {
	return &fakeCompleter{fn: func(_ context.Context, _ infill.Document, pos int, o infill.Options) ([]infill.Suggestion, error) {
		steps.Store(int32(o.Steps))
		return nil, nil
	}}
}

func TestConfigurationPulled(t *testing.T) {
	var steps atomic.Int32
	c := startServer(t, Options{Completer: stepsSeen(&steps)})
	c.request(0, "initialize", msg{"capabilities": msg{"workspace": msg{"configuration": true}},
		"initializationOptions": msg{"steps": 5}})
	c.response(0)
	c.notify("initialized", msg{})
	c.open("file:///a.go", "go", "package a\n")
	complete := func(id int) int32 {
		c.call(id, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
		return steps.Load()
	}

	req, _ := c.serverRequest("workspace/configuration")
	if got := mustJSON(req["params"]); got != `{"items":[{"section":"dfim"}]}` {
		t.Errorf("workspace/configuration params %s, want section dfim", got)
	}
	// A bad value in the answer is reported; its warning also tells us the
	// answer has been applied.
	c.reply(req, []any{msg{"steps": 7, "maxTokens": -1}})
	waitShowMessage(c, "maxTokens")
	if got := complete(1); got != 7 {
		t.Errorf("steps %d after the pulled settings, want 7", got)
	}

	// VS Code pushes null and expects to be asked again.
	c.notify("workspace/didChangeConfiguration", msg{"settings": nil})
	req, _ = c.serverRequest("workspace/configuration")
	c.reply(req, []any{msg{"steps": 3, "maxTokens": -2}})
	waitShowMessage(c, "maxTokens")
	if got := complete(2); got != 3 {
		t.Errorf("steps %d after didChangeConfiguration and a second pull, want 3", got)
	}

	// A client that cannot answer keeps the current settings.
	c.notify("workspace/didChangeConfiguration", msg{"settings": nil})
	req, _ = c.serverRequest("workspace/configuration")
	c.send(msg{"jsonrpc": "2.0", "id": req["id"], "error": msg{"code": -32601, "message": "no"}})
	if got := complete(3); got != 3 {
		t.Errorf("steps %d after a failed pull, want 3 kept", got)
	}
}

// waitShowMessage waits for a window/showMessage notification containing s.
func waitShowMessage(c *testClient, s string) {
	c.t.Helper()
	for {
		m := c.next()
		if m["method"] == "window/showMessage" && countShowMessages([]msg{m}, s) == 1 {
			return
		}
	}
}

func TestConfigurationNotPulledWithoutCapability(t *testing.T) {
	var steps atomic.Int32
	c := startServer(t, Options{Completer: stepsSeen(&steps)})
	c.initialize()
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"dfim": msg{"steps": 4}}})
	c.open("file:///a.go", "go", "package a\n")
	_, other := c.response(c.callID(1, "dfim/unknown"))
	if n := countMethod(other, "workspace/configuration"); n != 0 {
		t.Errorf("workspace/configuration sent to a client that did not offer it: %v", other)
	}
	c.call(2, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
	if got := steps.Load(); got != 4 {
		t.Errorf("steps %d, want 4 from the pushed settings", got)
	}
}

func TestRemoteEngineSettingsReloadWithoutLoggingKeys(t *testing.T) {
	const secret = "sk-SECRET123"
	core, logs := observer.New(zapcore.DebugLevel)
	var mu sync.Mutex
	var loads []EngineSettings
	load := func(_ context.Context, s Settings) (infill.Filler, error) {
		mu.Lock()
		loads = append(loads, s.EngineSettings())
		mu.Unlock()
		if s.RemoteModel == "missing" {
			return nil, errors.New("404: no such model")
		}
		return &fakeCompleter{}, nil
	}
	c := startServer(t, Options{Load: load, Engines: []string{"native", "openai"}, Logger: zap.New(core)})
	var shown []string
	c.initialize()
	c.open("file:///a.go", "go", "package a\n")
	c.call(1, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})

	endpoint := "http://user:" + secret + "@127.0.0.1:8080/v1"
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"engine": "openai", "endpoint": endpoint,
		"remoteModel": "qwen", "timeoutMs": 1500}})
	want := EngineSettings{Engine: "openai", Endpoint: endpoint, RemoteModel: "qwen", TimeoutMs: 1500}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(loads) == 2 && loads[1] == want
	}, "the engine reloaded with the new endpoint, model and timeout")
	// Load has returned, but the server takes the new engine a moment
	// later: a change before then is refused ("already loading"), not
	// loaded. Wait for the switch (the initial load's and the reload's).
	waitFor(t, func() bool { return logs.FilterMessage("engine ready").Len() == 2 }, "the reloaded engine in use")

	// A failing reload keeps the engine that works and says why.
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"remoteModel": "missing"}})
	for {
		m := c.next()
		if m["method"] == "window/showMessage" {
			text := m["params"].(map[string]any)["message"].(string)
			shown = append(shown, text)
			if strings.Contains(text, "404") {
				break
			}
		}
	}
	m := c.call(2, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
	if items := m["result"].(map[string]any)["items"].([]any); len(items) != 1 {
		t.Errorf("completion after a failed reload: %v, want the previous engine to answer", m)
	}
	named := false // a log names the endpoint, so redaction was exercised
	for _, e := range logs.All() {
		line := e.Message + " " + mustJSON(e.ContextMap())
		if strings.Contains(line, secret) {
			t.Errorf("log line shows the endpoint's key: %s", line)
		}
		named = named || strings.Contains(line, "127.0.0.1:8080/v1")
	}
	if !named {
		t.Error("no log names the new endpoint")
	}
	for _, text := range shown {
		if strings.Contains(text, secret) {
			t.Errorf("message shows the endpoint's key: %s", text)
		}
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
