package lsp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"go.uber.org/zap"
)

// The fuzz targets run their seeds (f.Add and testdata/fuzz) with go test;
// a real run, e.g. `go test -fuzz FuzzStream -fuzztime 60s ./lsp/`, looks
// for inputs that break them.

// nopCloser lets a reader and a writer stand for a connection.
type nopCloser struct {
	io.Reader
	io.Writer
}

func (nopCloser) Close() error { return nil }

// FuzzStream reads arbitrary bytes as LSP frames: the reader must never
// panic, must end at the end of the input, and must not grow memory past
// the input (plus the frames it answers).
func FuzzStream(f *testing.F) {
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`
	frame := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	for _, seed := range []string{
		frame,
		frame + frame,
		"Content-Length: 5\r\n\r\n" + body,
		body + frame,
		"Content-Type: x\r\n\r\n" + body + frame,
		fmt.Sprintf("Content-Length: %d\r\n\r\n%s%s", len(body)+10, body, frame),
		"Content-Length: 99999999999\r\n\r\n" + frame,
		"\r\n\r\n\r\n",
		`Content-Length: 27` + "\r\n\r\n" + `{"jsonrpc":"2.0","id":2e40}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		s := newStream(nopCloser{bytes.NewReader(data), &out}, zap.NewNop())
		for range len(data) + 1 {
			if _, _, err := s.Read(context.Background()); err != nil {
				return
			}
		}
		t.Fatalf("more messages than input bytes from %q", data)
	})
}

// FuzzDispatch sends arbitrary bytes as one well-framed message to an
// initialized server: whatever it is, the server must not panic and must
// still answer the request that follows (unless the message was exit).
func FuzzDispatch(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"textDocument/completion","params":{}}`,
		`{"jsonrpc":"2.0","id":2147483648,"method":"$/setTrace","params":{"value":"off"}}`,
		`{"jsonrpc":"2.0","id":"","method":""}`,
		`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///x.go","languageId":"go","version":1,"text":"package x\n"}}}`,
		`{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///a.go","version":9},"contentChanges":[{"range":{"start":{"line":99,"character":-1},"end":{"line":0,"character":0}},"text":"x"}]}}`,
		`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1e300}}`,
		`{"jsonrpc":"2.0","method":"workspace/didChangeConfiguration","params":{"settings":[]}}`,
		`{"jsonrpc":"2.0","id":3,"method":"workspace/executeCommand","params":{"command":"dfim.fillHoles","arguments":[null]}}`,
		`[]`, `null`, `{"id":{}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("exit")) {
			return // ends the session, as it should
		}
		c := startServer(t, Options{Completer: &fakeCompleter{}, Logger: zap.NewNop()})
		c.initialize()
		c.open("file:///a.go", "go", "package a\n")
		c.sendRaw(string(data))
		c.request("fuzz-after", "textDocument/hover", msg{})
		c.response("fuzz-after")
	})
}
