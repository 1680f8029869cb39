package lsp

import (
	"context"
	"net"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// With LogToClient the log reaches the client as window/logMessage, each
// entry with its level's message type, from initialize on; before
// initialize it goes to the logger's own core (stderr in `dfim serve`).
func TestLogToClient(t *testing.T) {
	core, stderr := observer.New(zapcore.DebugLevel)
	c := startServer(t, Options{Completer: &fakeCompleter{}, Logger: zap.New(core).Named("dfim"), LogToClient: true})

	c.sendRaw("") // an empty message: a warning from the stream
	c.request(0, "initialize", msg{"processId": nil, "capabilities": msg{}})
	_, seen := c.response(0)
	if m := logMessage(seen, "initialize"); m == nil || m["type"] != float64(protocol.MessageTypeInfo) {
		t.Errorf("initialize logged as %v, want a logMessage of type Info before the reply (got %v)", m, seen)
	}
	if got := stderr.FilterMessage("malformed JSON-RPC message skipped").Len(); got != 1 {
		t.Errorf("%d entries before initialize in the logger's core, want 1: %v", got, stderr.All())
	}
	c.notify("initialized", msg{})

	c.notify("textDocument/didOpen", msg{"textDocument": 5}) // Warn "bad didOpen"
	c.notify("dfim/after", msg{})                            // Debug "notification ignored"
	warn := c.waitLogMessage("bad didOpen")
	if warn["type"] != float64(protocol.MessageTypeWarning) {
		t.Errorf("warning sent as %v, want type %v", warn, protocol.MessageTypeWarning)
	}
	debug := c.waitLogMessage("notification ignored")
	if debug["type"] != float64(messageTypeDebug) {
		t.Errorf("debug entry sent as %v, want type %v", debug, messageTypeDebug)
	}
	// The logger's name and the fields travel; time and level are the client's to add.
	if text := debug["message"].(string); text != "dfim\tnotification ignored\t{\"method\": \"dfim/after\"}" {
		t.Errorf("message %q, want the name, the message and the fields", text)
	}
	if got := stderr.FilterMessage("bad didOpen").Len(); got != 0 {
		t.Errorf("an entry sent to the client also went to the logger's core")
	}
}

// After the session ends, entries go to the logger's core again.
func TestLogToClientAfterExit(t *testing.T) {
	core, stderr := observer.New(zapcore.InfoLevel)
	srv := NewServer(Options{Completer: &fakeCompleter{}, Logger: zap.New(core), LogToClient: true})
	cs, ss := net.Pipe()
	defer cs.Close()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ss) }()
	c := &testClient{t: t, conn: cs, in: make(chan msg, 100), done: done}
	go c.readLoop()
	c.initialize()
	c.notify("exit", nil)
	c.waitExit()
	srv.log.Info("after the session")
	if stderr.FilterMessage("after the session").Len() != 1 {
		t.Errorf("an entry after the session did not reach the logger's core: %v", stderr.All())
	}
}

func TestMessageType(t *testing.T) {
	for level, want := range map[zapcore.Level]protocol.MessageType{
		zapcore.DebugLevel: messageTypeDebug, zapcore.InfoLevel: protocol.MessageTypeInfo,
		zapcore.WarnLevel: protocol.MessageTypeWarning, zapcore.ErrorLevel: protocol.MessageTypeError,
		zapcore.DPanicLevel: protocol.MessageTypeError,
	} {
		if got := messageType(level); got != want {
			t.Errorf("messageType(%v) = %v, want %v", level, got, want)
		}
	}
}

// logMessage is the params of the first window/logMessage in ms whose
// message contains text, or nil.
func logMessage(ms []msg, text string) msg {
	for _, m := range ms {
		if m["method"] != protocol.MethodWindowLogMessage {
			continue
		}
		if p, _ := m["params"].(map[string]any); p != nil && strings.Contains(p["message"].(string), text) {
			return p
		}
	}
	return nil
}

// waitLogMessage reads messages until a window/logMessage containing text.
func (c *testClient) waitLogMessage(text string) msg {
	c.t.Helper()
	for {
		if p := logMessage([]msg{c.next()}, text); p != nil {
			return p
		}
	}
}
