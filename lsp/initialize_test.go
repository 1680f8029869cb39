package lsp

import (
	"encoding/json"
	"strconv"
	"sync/atomic"
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

// TestNothingBeforeTheToken: on a server with a token, a session that has
// not initialized with it gets nothing done: every request before a
// successful initialize fails (notifications are dropped), and requests
// sent right behind a refused initialize fail too.
func TestNothingBeforeTheToken(t *testing.T) {
	f := &fakeCompleter{}
	c := startServer(t, Options{Completer: f, Token: "s3cret"})
	c.open("file:///a.go", "go", "package a\n\nfunc f() {\n\t\n}\n")
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"crossFileContext": true}})
	pos := msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(3, 1)}
	for i, call := range []struct {
		method string
		params any
	}{
		{"textDocument/completion", pos},
		{MethodInlineCompletion, pos},
		{MethodStats, nil},
		{"workspace/executeCommand", msg{"command": CommandFillSelection, "arguments": []msg{{"uri": "file:///a.go"}}}},
		{"textDocument/didSave", msg{"textDocument": msg{"uri": "file:///a.go"}}},
		{"shutdown", nil},
	} {
		if m := c.call(i+1, call.method, call.params); m["error"] == nil {
			t.Errorf("%s before initialize: %v, want an error", call.method, m)
		}
	}
	// A refused initialize with a completion right behind it, in one write.
	init, _ := json.Marshal(msg{"jsonrpc": "2.0", "id": 20, "method": "initialize",
		"params": msg{"capabilities": msg{}, "initializationOptions": msg{"token": "guess"}}})
	compl, _ := json.Marshal(msg{"jsonrpc": "2.0", "id": 21, "method": "textDocument/completion", "params": pos})
	c.writeMu.Lock()
	c.conn.Write([]byte(frame(string(init)) + frame(string(compl))))
	c.writeMu.Unlock()
	for {
		m, ok := <-c.in
		if !ok {
			break // the connection closed
		}
		if m["id"] == float64(21) && m["error"] == nil {
			t.Errorf("completion behind a refused initialize: %v, want an error or nothing", m)
		}
	}
	select {
	case <-c.done: // the session is over: nothing logs after the test
	case <-time.After(10 * time.Second):
		t.Error("the session with a refused initialize stayed open")
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("the completer was asked %d times by a session without the token", n)
	}
}

func frame(body string) string {
	return "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// TestOnInitializeOnlyWithTheToken: OnInitialize (which lifts serve
// --listen's handshake deadline) runs for an initialize that succeeded,
// never for one refused for its token.
func TestOnInitializeOnlyWithTheToken(t *testing.T) {
	for _, tc := range []struct {
		token string
		want  int32
	}{{"guess", 0}, {"s3cret", 1}} {
		var calls atomic.Int32
		c := startServer(t, Options{Completer: &fakeCompleter{}, Token: "s3cret", OnInitialize: func() { calls.Add(1) }})
		c.call(1, "initialize", msg{"capabilities": msg{}, "initializationOptions": msg{"token": tc.token}})
		if got := calls.Load(); got != tc.want {
			t.Errorf("initialize with token %q: OnInitialize called %d times, want %d", tc.token, got, tc.want)
		}
		if tc.want == 0 {
			<-c.done // refused: the session ends
		}
	}
}
