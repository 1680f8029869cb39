package lsp

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestFramingErrorsRecover sends one badly framed message and then a good
// request: the good request must be answered. A missing Content-Length or
// a length a few bytes off used to desynchronise the reader for good (the
// server stayed up and never answered again).
func TestFramingErrorsRecover(t *testing.T) {
	body := `{"jsonrpc":"2.0","id":50,"method":"textDocument/hover","params":{}}`
	cases := map[string]string{
		"no Content-Length":            "Content-Type: application/vscode-jsonrpc\r\n\r\n" + body,
		"no header at all":             body,
		"length 10 short":              fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body)-10, body),
		"length 10 long":               fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body)+10, body),
		"length far too long":          fmt.Sprintf("Content-Length: %d\r\n\r\n%s", 1<<20, body),
		"length past the frame limit":  fmt.Sprintf("Content-Length: %d\r\n\r\n%s", maxFrame+1, body),
		"garbage line":                 "this is not a header\r\n" + body,
		"bad length then good header":  "Content-Length: ten\r\n\r\n" + body,
		"length 10 short, split write": fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body)-10, body),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			c := startServer(t, Options{Completer: &fakeCompleter{}})
			c.initialize()
			c.writeMu.Lock()
			if strings.Contains(name, "split") {
				// The good frame's header arrives in pieces.
				good := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), strings.Replace(body, "50", "51", 1))
				io.WriteString(c.conn, bad)
				io.WriteString(c.conn, good[:7])
				io.WriteString(c.conn, good[7:18])
				io.WriteString(c.conn, good[18:])
			} else {
				io.WriteString(c.conn, bad)
			}
			c.writeMu.Unlock()
			if !strings.Contains(name, "split") {
				c.request(51, "textDocument/hover", msg{})
			}
			if m, _ := c.response(51); errCode(m) != -32601 {
				t.Errorf("the request after a %s frame: %v, want its MethodNotFound answer", name, m)
			}
			// And the server keeps working.
			c.open("file:///a.go", "go", "package a\n")
			m := c.call(52, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(0, 0)})
			if m["error"] != nil {
				t.Errorf("completion after a %s frame: %v", name, m)
			}
		})
	}
}

// TestNextHeader checks that the resynchronisation point is found only at
// a complete header, never inside a JSON string (where a raw CR LF cannot
// be).
func TestNextHeader(t *testing.T) {
	for _, tc := range []struct {
		data string
		want int
	}{
		{`{"a":1}Content-Length: 12` + "\r\n", 7},
		{`{"text":"Content-Length: 12\r\n"}`, -1}, // escaped, as JSON writes it
		{`{"a":1}Content-Length: 12`, -1},         // not complete yet
		{`{"a":1}Content-Length: ` + "\r\n", -1},
		{`Content-Length: x Content-Length:3` + "\r\n", 18},
	} {
		if got := nextHeader([]byte(tc.data), 0); got != tc.want {
			t.Errorf("nextHeader(%q) = %d, want %d", tc.data, got, tc.want)
		}
	}
	for _, tc := range []struct {
		data string
		want int
	}{
		{`{"a":1}Content-Le`, 7},
		{`{"a":1}Content-Length: 6`, 7},
		{`{"a":1}Content-Length: 69` + "\r", 7},
		{`{"a":1}C`, 7},
		{`{"a":"Content-Length: 6"}`, -1},
		{`{"a":1}`, -1},
		{`{"a":1}` + "\r\n ", -1},
	} {
		if got := headerAtEnd([]byte(tc.data)); got != tc.want {
			t.Errorf("headerAtEnd(%q) = %d, want %d", tc.data, got, tc.want)
		}
	}
}

// bigHover is a hover request (which dfim answers MethodNotFound) padded
// to size bytes.
func bigHover(id, size int) string {
	head := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"textDocument/hover","params":{"pad":"`, id)
	return head + strings.Repeat("x", size-len(head)-3) + `"}}`
}

// TestFrameLimitBeforeInitialize: until initialize has succeeded a frame
// over maxFrameBeforeInit is refused from its header alone, with an
// error, and the connection closed; the client that has shown no token
// cannot make the session read (and hold) up to maxFrame bytes. After
// initialize the same frame is read and answered.
func TestFrameLimitBeforeInitialize(t *testing.T) {
	body := bigHover(7, 2<<20)

	c := startServer(t, Options{Completer: &fakeCompleter{}})
	if _, err := fmt.Fprintf(c.conn, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		t.Fatal(err)
	}
	// net.Pipe is unbuffered: Write returns what the server read.
	n, err := io.WriteString(c.conn, body)
	if err == nil || n >= len(body) {
		t.Errorf("the server read %d of the %d-byte body before initialize (err %v), want it refused unread", n, len(body), err)
	}
	m := c.next()
	if errCode(m) != -32600 || m["id"] != nil || !strings.Contains(fmt.Sprint(m["error"]), "before initialize") {
		t.Errorf("reply to an oversized frame before initialize = %v, want an InvalidRequest error naming the limit", m)
	}
	select {
	case m, open := <-c.in:
		if open {
			t.Fatalf("the connection stayed open after an oversized frame before initialize: %v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the connection stayed open 10s after an oversized frame before initialize")
	}
	if err := <-c.done; err == nil || !strings.Contains(err.Error(), "before initialize") {
		t.Errorf("Serve returned %v, want the refused frame", err)
	}

	c = startServer(t, Options{Completer: &fakeCompleter{}})
	c.initialize()
	c.sendRaw(body)
	if m, _ := c.response(7); errCode(m) != -32601 {
		t.Errorf("a %d-byte request after initialize: %v, want its MethodNotFound answer", len(body), m)
	}
}
