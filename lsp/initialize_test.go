package lsp

import (
	"encoding/json"
	"testing"
	"time"
)

// TestSharedTokenRequired: with Options.Token (serve --listen with a
// token), an initialize without it, or with a wrong one, is refused and
// the connection closed; the right token, top level or under "dfim", works.
func TestSharedTokenRequired(t *testing.T) {
	for _, opts := range []any{nil, msg{}, msg{"token": "wrong"}, msg{"dfim": msg{"token": "nope"}}} {
		c := startServer(t, Options{Completer: &fakeCompleter{}, Token: "s3cret"})
		m := c.call(1, "initialize", msg{"capabilities": msg{}, "initializationOptions": opts})
		if m["result"] != nil || errCode(m) != -32600 {
			t.Errorf("initialize with options %v: %v, want refused", opts, m)
		}
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			t.Errorf("initialize with options %v: the connection stayed open", opts)
		}
	}
	for _, opts := range []any{msg{"token": "s3cret"}, msg{"dfim": msg{"token": "s3cret", "debounceMs": 0}}} {
		c := startServer(t, Options{Completer: &fakeCompleter{}, Token: "s3cret"})
		if m := c.call(1, "initialize", msg{"capabilities": msg{}, "initializationOptions": opts}); m["result"] == nil {
			t.Errorf("initialize with options %v: %v, want accepted", opts, m)
		}
	}
}

// TestEveryRequestGetsOneReply: notification methods sent with an id, a
// request with an empty method, and ids jsonrpc2 cannot hold (2^31 and
// beyond, negative, "") each get exactly one reply carrying their own id.
// They used to get none, or a parse error with id null.
func TestEveryRequestGetsOneReply(t *testing.T) {
	f := &fakeCompleter{fn: blockUntilCancelled}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", "package a\n")
	replies := map[string]int{}
	count := func(m msg) {
		if _, isReq := m["method"]; !isReq {
			b, _ := json.Marshal(m["id"])
			replies[string(b)]++
		}
	}
	expect := func(id any, method string, params any, code int) {
		t.Helper()
		c.request(id, method, params)
		m, other := c.response(id)
		for _, o := range other {
			count(o)
		}
		count(m)
		if errCode(m) != code {
			t.Errorf("%s with id %v: %v, want error code %d", method, id, m, code)
		}
	}
	expect(1, "$/setTrace", msg{"value": "off"}, 0)
	expect(2, "textDocument/didSave", msg{"textDocument": msg{"uri": "file:///a.go"}}, 0)
	expect(3, "", msg{}, -32600)
	expect(int64(1)<<31, "textDocument/hover", msg{}, -32601)
	expect(int64(1)<<40, "$/setTrace", msg{"value": "off"}, 0)
	expect(-(int64(1) << 33), "textDocument/hover", msg{}, -32601)
	expect("", "textDocument/hover", msg{}, -32601)
	expect("x", "textDocument/didSave", msg{"textDocument": msg{"uri": "file:///a.go"}}, 0)

	// A completion under a big id, cancelled by that id.
	big := int64(5_000_000_000)
	c.request(big, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
	for f.calls.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	c.notify("$/cancelRequest", msg{"id": big})
	m, _ := c.response(big)
	count(m)
	if errCode(m) != int(RequestCancelled) {
		t.Errorf("completion with id %d cancelled: %v, want RequestCancelled", big, m)
	}

	// A second reply to any of them would come before this one.
	c.request(99, "shutdown", nil)
	_, other := c.response(99)
	for _, o := range other {
		count(o)
	}
	for id, n := range replies {
		if n != 1 {
			t.Errorf("id %s got %d replies", id, n)
		}
	}
	if len(replies) != 9 {
		t.Errorf("replies to %d ids (%v), want 9", len(replies), replies)
	}
}
