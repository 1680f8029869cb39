package lsp

import (
	"testing"
)

// A request with an id but a missing, null or non-string method is
// answered InvalidRequest with its id (it used to get no reply, and the
// client waited forever), while a response of the client (id with result
// or error) is still taken as one.
func TestRequestWithoutMethodAnswered(t *testing.T) {
	c := startServer(t, Options{Completer: &fakeCompleter{}})
	c.initialize()
	for i, body := range []string{
		`{"jsonrpc":"2.0","id":41}`,
		`{"jsonrpc":"2.0","id":42,"method":null}`,
		`{"jsonrpc":"2.0","id":"x43","method":null,"params":{}}`,
		`{"jsonrpc":"2.0","id":44,"method":7}`,
	} {
		c.sendRaw(`{"jsonrpc":"2.0","id":99,"result":null}`) // a stray response: no reply
		c.sendRaw(body)
		want := []any{41, 42, "x43", 44}[i]
		m, _ := c.response(want)
		if errCode(m) != -32600 {
			t.Errorf("%s: got %v, want error -32600 with its id", body, m)
		}
	}
	// The session still works.
	if m := c.call(50, "shutdown", nil); m["error"] != nil {
		t.Errorf("shutdown after the invalid requests: %v", m)
	}
}
