package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/dfim/dfim/infill"
)

// fakeCompleter is the test double for infill: fn decides what Complete
// returns, fill what FillHoles returns.
type fakeCompleter struct {
	calls atomic.Int32
	fn    func(ctx context.Context, doc infill.Document, pos int, opts infill.Options) ([]infill.Suggestion, error)
	fill  func(ctx context.Context, doc infill.Document, holes []infill.Hole, opts infill.Options) ([]infill.Suggestion, error)
}

// FillHoles fills each hole with "fill()" unless fill says otherwise.
func (f *fakeCompleter) FillHoles(ctx context.Context, doc infill.Document, holes []infill.Hole, opts infill.Options) ([]infill.Suggestion, error) {
	f.calls.Add(1)
	if f.fill != nil {
		return f.fill(ctx, doc, holes, opts)
	}
	out := make([]infill.Suggestion, len(holes))
	for i, h := range holes {
		out[i] = infill.Suggestion{Text: "fill()", Start: h.Start, End: h.End}
	}
	return out, nil
}

func (f *fakeCompleter) Complete(ctx context.Context, doc infill.Document, pos int, opts infill.Options) ([]infill.Suggestion, error) {
	f.calls.Add(1)
	if f.fn == nil {
		return []infill.Suggestion{{Text: "fill()", Start: pos, End: pos}}, nil
	}
	return f.fn(ctx, doc, pos, opts)
}

// blockUntilCancelled is a completer that never finishes on its own.
func blockUntilCancelled(ctx context.Context, _ infill.Document, _ int, _ infill.Options) ([]infill.Suggestion, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

type msg = map[string]any

// testClient drives a Server over an in-memory pipe with raw JSON frames.
type testClient struct {
	t       testing.TB
	conn    net.Conn
	writeMu sync.Mutex
	in      chan msg
	done    chan error // Serve's result
	// autoProgress answers window/workDoneProgress/create.
	autoProgress bool
}

func startServer(t testing.TB, opts Options) *testClient {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = zaptest.NewLogger(t)
	}
	cs, ss := net.Pipe()
	srv := NewServer(opts)
	c := &testClient{t: t, conn: cs, in: make(chan msg, 100), done: make(chan error, 1), autoProgress: true}
	go func() { c.done <- srv.Serve(context.Background(), ss) }()
	go c.readLoop()
	t.Cleanup(func() { cs.Close() })
	return c
}

func (c *testClient) readLoop() {
	r := bufio.NewReader(c.conn)
	defer close(c.in)
	for {
		var n int
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var m msg
		if err := json.Unmarshal(body, &m); err != nil {
			c.t.Errorf("server sent invalid JSON %q: %v", body, err)
			return
		}
		if m["method"] == "window/workDoneProgress/create" && c.autoProgress {
			c.send(msg{"jsonrpc": "2.0", "id": m["id"], "result": nil})
		}
		c.in <- m
	}
}

func (c *testClient) sendRaw(body string) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	fmt.Fprintf(c.conn, "Content-Length: %d\r\n\r\n%s", len(body), body)
}

func (c *testClient) send(m msg) {
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(b))
}

func (c *testClient) request(id any, method string, params any) {
	c.send(msg{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

func (c *testClient) notify(method string, params any) {
	c.send(msg{"jsonrpc": "2.0", "method": method, "params": params})
}

// next returns the next message from the server.
func (c *testClient) next() msg {
	c.t.Helper()
	select {
	case m, ok := <-c.in:
		if !ok {
			c.t.Fatal("server closed the connection")
		}
		return m
	case <-time.After(10 * time.Second):
		c.t.Fatal("no message from the server in 10s")
	}
	return nil
}

// response waits for the response to id; notifications and server requests
// seen on the way are returned too.
func (c *testClient) response(id any) (msg, []msg) {
	c.t.Helper()
	want, _ := json.Marshal(id)
	var other []msg
	for {
		m := c.next()
		got, _ := json.Marshal(m["id"])
		if _, isReq := m["method"]; !isReq && string(got) == string(want) {
			return m, other
		}
		other = append(other, m)
	}
}

func (c *testClient) call(id any, method string, params any) msg {
	c.t.Helper()
	c.request(id, method, params)
	m, _ := c.response(id)
	return m
}

func errCode(m msg) int {
	e, ok := m["error"].(map[string]any)
	if !ok {
		return 0
	}
	return int(e["code"].(float64))
}

func (c *testClient) initialize(encodings ...string) msg {
	c.t.Helper()
	caps := msg{"window": msg{"workDoneProgress": true}}
	if len(encodings) > 0 {
		caps["general"] = msg{"positionEncodings": encodings}
	}
	m := c.call(0, "initialize", msg{"processId": nil, "capabilities": caps})
	if m["result"] == nil {
		c.t.Fatalf("initialize failed: %v", m)
	}
	c.notify("initialized", msg{})
	return m
}

func (c *testClient) open(uri, lang, text string) {
	c.notify("textDocument/didOpen", msg{"textDocument": msg{"uri": uri, "languageId": lang, "version": 1, "text": text}})
}

func posMsg(line, char int) msg { return msg{"line": line, "character": char} }

func (c *testClient) waitExit() error {
	select {
	case err := <-c.done:
		return err
	case <-time.After(10 * time.Second):
		c.t.Fatal("Serve did not return after exit")
	}
	return nil
}

func TestInitializeReplyNotDroppedByExitInSameRead(t *testing.T) {
	c := startServer(t, Options{Completer: &fakeCompleter{}})
	frame := func(body string) string { return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body) }
	// One write holding initialize, initialized and exit.
	go io.WriteString(c.conn, frame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`)+
		frame(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)+
		frame(`{"jsonrpc":"2.0","method":"exit"}`))
	m := c.next()
	if m["id"] != 1.0 || m["result"] == nil {
		t.Fatalf("want the initialize reply first, got %v", m)
	}
	if err := c.waitExit(); !errors.Is(err, ErrExitWithoutShutdown) {
		t.Errorf("Serve = %v, want ErrExitWithoutShutdown", err)
	}
}

func TestShutdownThenExit(t *testing.T) {
	c := startServer(t, Options{Completer: &fakeCompleter{}})
	c.initialize()
	if m := c.call(1, "shutdown", nil); m["error"] != nil || m["result"] != nil {
		t.Fatalf("shutdown reply %v, want a null result", m)
	}
	if m := c.call(2, "textDocument/completion", msg{}); errCode(m) != -32600 {
		t.Errorf("request after shutdown: %v, want InvalidRequest", m)
	}
	c.notify("exit", nil)
	if err := c.waitExit(); err != nil {
		t.Errorf("Serve after shutdown+exit = %v, want nil", err)
	}
}

func TestRobustness(t *testing.T) {
	c := startServer(t, Options{Completer: &fakeCompleter{}})
	if m := c.call(1, "textDocument/completion", msg{}); errCode(m) != -32002 {
		t.Errorf("request before initialize: %v, want ServerNotInitialized", m)
	}
	c.sendRaw(`{"jsonrpc":"2.0","id":2,"method":`) // malformed JSON
	if m := c.next(); errCode(m) != -32700 || m["id"] != nil {
		t.Errorf("malformed JSON: %v, want ParseError with a null id", m)
	}
	c.writeMu.Lock()
	io.WriteString(c.conn, "Bogus header\r\n\r\n") // a frame with no Content-Length
	c.writeMu.Unlock()
	c.initialize()
	if m := c.call(3, "textDocument/hover", msg{}); errCode(m) != -32601 {
		t.Errorf("unknown method: %v, want MethodNotFound", m)
	}
	c.notify("$/unknownNotification", msg{})
	if m := c.call(4, "textDocument/completion", "not an object"); errCode(m) != -32602 {
		t.Errorf("bad params: %v, want InvalidParams", m)
	}
	if m := c.call(5, "initialize", msg{"capabilities": msg{}}); errCode(m) != -32600 {
		t.Errorf("second initialize: %v, want InvalidRequest", m)
	}
	c.open("file:///a.go", "go", "package a\n")
	m := c.call(6, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(1, 0)})
	if items := m["result"].(map[string]any)["items"].([]any); len(items) != 1 {
		t.Errorf("server not working after bad input: %v", m)
	}
}

func TestPanicInHandlerRecovered(t *testing.T) {
	f := &fakeCompleter{fn: func(context.Context, infill.Document, int, infill.Options) ([]infill.Suggestion, error) {
		panic("boom")
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", "package a\n")
	m := c.call(1, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
	if errCode(m) != -32603 {
		t.Errorf("panicking completer: %v, want InternalError", m)
	}
	f.fn = nil
	m = c.call(2, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
	if m["error"] != nil {
		t.Errorf("server broken after a panic: %v", m)
	}
}

// replaceWord returns a suggestion replacing the 3 bytes before the cursor.
func replaceWord(_ context.Context, doc infill.Document, pos int, _ infill.Options) ([]infill.Suggestion, error) {
	return []infill.Suggestion{{Text: "Println(x)", Start: pos - 3, End: pos}}, nil
}

func TestCompletionTextEdit(t *testing.T) {
	// "𝄞" is 4 bytes, 2 UTF-16 units; the cursor is after "Pri".
	text := "package a\r\n\r\nvar s = \"𝄞\"; fmt.Pri\r\n"
	for _, tt := range []struct {
		encs              []string
		wantEnc           string
		startChar, cursor int
	}{
		{nil, "utf-16", 17, 20},
		{[]string{"utf-16", "utf-8"}, "utf-8", 19, 22},
	} {
		t.Run(tt.wantEnc, func(t *testing.T) {
			c := startServer(t, Options{Completer: &fakeCompleter{fn: replaceWord}})
			init := c.initialize(tt.encs...)
			caps := init["result"].(map[string]any)["capabilities"].(map[string]any)
			if caps["positionEncoding"] != tt.wantEnc {
				t.Fatalf("positionEncoding %v, want %s", caps["positionEncoding"], tt.wantEnc)
			}
			if caps["inlineCompletionProvider"] == nil || caps["completionProvider"] == nil {
				t.Errorf("capabilities lack completion providers: %v", caps)
			}
			c.open("file:///a.go", "go", text)
			p := msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(2, tt.cursor)}
			m := c.call(1, "textDocument/completion", p)
			items := m["result"].(map[string]any)["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("want 1 item, got %v", m)
			}
			edit := items[0].(map[string]any)["textEdit"].(map[string]any)
			wantRange := msg{"start": posMsg(2, tt.startChar), "end": posMsg(2, tt.cursor)}
			if mustJSON(edit["range"]) != mustJSON(wantRange) || edit["newText"] != "Println(x)" {
				t.Errorf("textEdit %v, want range %v", edit, wantRange)
			}
			p["context"] = msg{"triggerKind": 1}
			m = c.call(2, "textDocument/inlineCompletion", p)
			inl := m["result"].(map[string]any)["items"].([]any)
			if len(inl) != 1 {
				t.Fatalf("want 1 inline item, got %v", m)
			}
			it := inl[0].(map[string]any)
			if it["insertText"] != "Println(x)" || mustJSON(it["range"]) != mustJSON(wantRange) {
				t.Errorf("inline item %v, want range %v", it, wantRange)
			}
		})
	}
}

func TestIncrementalSyncFeedsCompleter(t *testing.T) {
	var seen atomic.Value
	f := &fakeCompleter{fn: func(_ context.Context, doc infill.Document, pos int, _ infill.Options) ([]infill.Suggestion, error) {
		seen.Store(fmt.Sprintf("%d|%s|%d", doc.Version, doc.Text, pos))
		return nil, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", "func f() {\n}\n")
	c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": "file:///a.go", "version": 2},
		"contentChanges": []msg{
			{"range": msg{"start": posMsg(0, 10), "end": posMsg(0, 10)}, "text": "\n\treturn 😀"},
			{"range": msg{"start": posMsg(1, 9), "end": posMsg(1, 11)}, "text": "1"},
		}})
	m := c.call(1, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(1, 9)})
	if m["error"] != nil {
		t.Fatal(m)
	}
	want := "2|func f() {\n\treturn 1\n}\n|20"
	if got := seen.Load(); got != want {
		t.Errorf("completer saw %q, want %q", got, want)
	}
	// A full change (no range) replaces the text.
	c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": "file:///a.go", "version": 3},
		"contentChanges": []msg{{"text": "x"}}})
	c.call(2, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 1)})
	if got := seen.Load(); got != "3|x|1" {
		t.Errorf("after full change completer saw %q", got)
	}
}

func TestCancelRequestNumericAndStringIDs(t *testing.T) {
	f := &fakeCompleter{fn: blockUntilCancelled}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", "package a\n")
	c.open("file:///b.go", "go", "package b\n")
	for i, id := range []any{7, "req-7"} {
		uri := []string{"file:///a.go", "file:///b.go"}[i]
		c.request(id, "textDocument/completion", msg{"textDocument": msg{"uri": uri}, "position": posMsg(0, 0)})
		// Wait until the completer runs so the cancel hits work in flight.
		for f.calls.Load() != int32(i+1) {
			time.Sleep(time.Millisecond)
		}
		c.notify("$/cancelRequest", msg{"id": id})
		m, _ := c.response(id)
		if errCode(m) != int(RequestCancelled) {
			t.Errorf("id %v: %v, want RequestCancelled", id, m)
		}
	}
	if id, ok := parseID(json.RawMessage(`7.0`)); !ok || id != parseIDMust(`7`) {
		t.Error("7.0 should name request 7")
	}
	for _, bad := range []string{`1.5`, `{}`, `null`, `true`} {
		if _, ok := parseID(json.RawMessage(bad)); ok {
			t.Errorf("parseID(%s) accepted", bad)
		}
	}
}

func parseIDMust(s string) any { id, _ := parseID(json.RawMessage(s)); return id }

func TestNewerVersionCancelsOlderWork(t *testing.T) {
	f := &fakeCompleter{fn: blockUntilCancelled}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", "package a\n")
	c.request(1, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
	for f.calls.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": "file:///a.go", "version": 2},
		"contentChanges": []msg{{"range": msg{"start": posMsg(0, 9), "end": posMsg(0, 9)}, "text": "b"}}})
	m, _ := c.response(1)
	res, _ := m["result"].(map[string]any)
	if m["error"] != nil || res == nil || len(res["items"].([]any)) != 0 {
		t.Errorf("superseded request: %v, want an empty list", m)
	}
}

func TestDebounceAutomaticRequests(t *testing.T) {
	f := &fakeCompleter{}
	set := DefaultSettings()
	set.DebounceMs = 300
	c := startServer(t, Options{Completer: f, Settings: set})
	c.initialize()
	c.open("file:///a.go", "go", "package a\n")
	auto := func(id int) {
		c.request(id, "textDocument/inlineCompletion", msg{"textDocument": msg{"uri": "file:///a.go"},
			"position": posMsg(0, 3), "context": msg{"triggerKind": 2}})
	}
	auto(1)
	auto(2)
	auto(3) // the user is still typing: only this one reaches the engine
	for id := 1; id <= 3; id++ {
		m, _ := c.response(id)
		items := m["result"].(map[string]any)["items"].([]any)
		if want := map[int]int{1: 0, 2: 0, 3: 1}[id]; len(items) != want {
			t.Errorf("request %d: %d items, want %d", id, len(items), want)
		}
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("completer called %d times, want 1", n)
	}
	// Invoked requests use invokedDebounceMs (0): answered at once.
	m := c.call(4, "textDocument/inlineCompletion", msg{"textDocument": msg{"uri": "file:///a.go"},
		"position": posMsg(0, 3), "context": msg{"triggerKind": 1}})
	if len(m["result"].(map[string]any)["items"].([]any)) != 1 {
		t.Errorf("invoked request: %v", m)
	}
}

func TestSettingsReportedOnce(t *testing.T) {
	f := &fakeCompleter{}
	var gotOpts atomic.Value
	f.fn = func(_ context.Context, _ infill.Document, pos int, o infill.Options) ([]infill.Suggestion, error) {
		gotOpts.Store(o.Steps)
		return nil, nil
	}
	c := startServer(t, Options{Completer: f})
	c.request(0, "initialize", msg{"capabilities": msg{}, "initializationOptions": msg{"steps": 9, "maxTokens": -4}})
	_, other := c.response(0)
	// showMessage follows the reply; collect it with the next round trip.
	_, more := c.response(c.callID(1, "dfim/unknown"))
	shown := countShowMessages(append(other, more...), "maxTokens")
	if shown != 1 {
		t.Errorf("bad maxTokens shown %d times, want 1", shown)
	}
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"dfim": msg{"maxTokens": -4, "languages": []string{"python"}}}})
	_, other = c.response(c.callID(2, "dfim/unknown"))
	if n := countShowMessages(other, ""); n != 0 {
		t.Errorf("the same bad value was shown again: %v", other)
	}
	c.open("file:///a.go", "go", "package a\n")
	c.open("file:///a.py", "python", "import os\n")
	c.call(3, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
	if f.calls.Load() != 0 {
		t.Error("go document completed although languages is [python]")
	}
	c.call(4, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.py"}, "position": posMsg(0, 0)})
	if f.calls.Load() != 1 || gotOpts.Load() != 9 {
		t.Errorf("python document: calls %d, steps %v; want 1 call with steps 9", f.calls.Load(), gotOpts.Load())
	}
}

func (c *testClient) callID(id int, method string) int {
	c.request(id, method, msg{})
	return id
}

func countShowMessages(ms []msg, contains string) int {
	n := 0
	for _, m := range ms {
		if m["method"] == "window/showMessage" && strings.Contains(mustJSON(m["params"]), contains) {
			n++
		}
	}
	return n
}

func TestTooLargeDocument(t *testing.T) {
	f := &fakeCompleter{}
	c := startServer(t, Options{Completer: f, MaxDocumentBytes: 64})
	c.initialize()
	c.open("file:///big.go", "go", strings.Repeat("x", 100))
	m := c.call(1, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///big.go"}, "position": posMsg(0, 5)})
	if m["error"] != nil || len(m["result"].(map[string]any)["items"].([]any)) != 0 || f.calls.Load() != 0 {
		t.Errorf("too-large document: %v (calls %d), want an empty list and no engine call", m, f.calls.Load())
	}
	// Shrinking it with a full change makes it completable again.
	c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": "file:///big.go", "version": 2},
		"contentChanges": []msg{{"text": "package big\n"}}})
	c.call(2, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///big.go"}, "position": posMsg(0, 5)})
	if f.calls.Load() != 1 {
		t.Error("document not completed after shrinking under the limit")
	}
}

func TestEngineLoadsInBackgroundWithProgress(t *testing.T) {
	release := make(chan struct{})
	var loaded atomic.Value
	c := startServer(t, Options{Load: func(ctx context.Context, s Settings) (infill.Filler, error) {
		loaded.Store(s.Engine)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return &fakeCompleter{}, nil
	}, Engines: []string{"native", "other"}})
	c.request(0, "initialize", msg{"capabilities": msg{"window": msg{"workDoneProgress": true}},
		"initializationOptions": msg{"engine": "other"}})
	c.response(0)
	c.notify("initialized", msg{})
	c.open("file:///a.go", "go", "package a\n")
	c.request(1, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
	var seen []string
	for len(seen) < 2 {
		m := c.next()
		if m["method"] == "window/workDoneProgress/create" {
			seen = append(seen, "create")
		}
		if m["method"] == "$/progress" {
			seen = append(seen, m["params"].(map[string]any)["value"].(map[string]any)["kind"].(string))
		}
		if m["id"] == 1.0 && m["method"] == nil {
			t.Fatalf("completion answered before the engine loaded: %v", m)
		}
	}
	if strings.Join(seen, ",") != "create,begin" {
		t.Errorf("progress %v, want create then begin", seen)
	}
	close(release)
	m, other := c.response(1)
	if len(m["result"].(map[string]any)["items"].([]any)) != 1 {
		t.Errorf("completion after load: %v", m)
	}
	if loaded.Load() != "other" {
		t.Errorf("loaded engine %v, want the one from initializationOptions", loaded.Load())
	}
	_ = other
}

func TestDenoiseStepNotifications(t *testing.T) {
	f := &fakeCompleter{fn: func(_ context.Context, _ infill.Document, pos int, o infill.Options) ([]infill.Suggestion, error) {
		if o.Observe != nil {
			o.Observe(infill.Step{Index: 0, Holes: []string{"x░"}})
		}
		return nil, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", "package a\n")
	p := msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 2)}
	c.request(1, "textDocument/completion", p)
	if _, other := c.response(1); countMethod(other, MethodDenoiseStep) != 0 {
		t.Error("denoiseStep sent without the opt-in setting")
	}
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"denoiseSteps": true}})
	c.request(2, "textDocument/completion", p)
	_, other := c.response(2)
	if countMethod(other, MethodDenoiseStep) != 1 {
		t.Fatalf("want one dfim/denoiseStep, got %v", other)
	}
	for _, m := range other {
		if m["method"] == MethodDenoiseStep {
			want := `{"candidate":0,"holes":["x░"],"position":{"character":2,"line":0},"step":0,"textDocument":{"uri":"file:///a.go","version":1}}`
			if got := mustJSON(m["params"]); got != want {
				t.Errorf("params %s\nwant %s", got, want)
			}
		}
	}
}

func countMethod(ms []msg, method string) int {
	n := 0
	for _, m := range ms {
		if m["method"] == method {
			n++
		}
	}
	return n
}

// The confidence gate is for suggestions the user did not ask for: an
// automatic inline request carries minConfidence, an invoked one none.
func TestMinConfidenceOnlyForAutomaticRequests(t *testing.T) {
	var seen atomic.Value
	f := &fakeCompleter{fn: func(_ context.Context, _ infill.Document, pos int, opts infill.Options) ([]infill.Suggestion, error) {
		seen.Store(opts.MinConfidence)
		return nil, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"dfim": msg{"minConfidence": 0.4, "debounceMs": 0}}})
	c.open("file:///a.go", "go", "package a\n")
	p := msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(1, 0), "context": msg{"triggerKind": 2}}
	c.call(1, "textDocument/inlineCompletion", p)
	if got := seen.Load(); got != 0.4 {
		t.Errorf("automatic request: MinConfidence %v, want the setting 0.4", got)
	}
	p["context"] = msg{"triggerKind": 1}
	c.call(2, "textDocument/inlineCompletion", p)
	if got := seen.Load(); got != 0.0 {
		t.Errorf("invoked request: MinConfidence %v, want 0 (show the best fill)", got)
	}
}
