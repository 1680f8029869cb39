package lsp

import (
	"context"
	"sync/atomic"
	"testing"

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
