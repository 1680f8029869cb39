package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/dfim/dfim/infill"
)

// serverRequest waits for a request from the server with method; the
// messages seen on the way are returned too. A response to a client call
// on the way fails the test unless allowed.
func (c *testClient) serverRequest(method string) (msg, []msg) {
	c.t.Helper()
	var other []msg
	for {
		m := c.next()
		if m["method"] == method && m["id"] != nil {
			return m, other
		}
		other = append(other, m)
	}
}

func (c *testClient) reply(req msg, result any) {
	c.send(msg{"jsonrpc": "2.0", "id": req["id"], "result": result})
}

// initializeWith initializes with extra client capabilities.
func (c *testClient) initializeWith(caps msg) msg {
	c.t.Helper()
	m := c.call(0, "initialize", msg{"processId": nil, "capabilities": caps})
	if m["result"] == nil {
		c.t.Fatalf("initialize failed: %v", m)
	}
	c.notify("initialized", msg{})
	return m
}

func fillHolesParams(uri string) msg {
	return msg{"command": CommandFillHoles, "arguments": []any{msg{"uri": uri}}}
}

func rangeMsg(l1, c1, l2, c2 int) msg { return msg{"start": posMsg(l1, c1), "end": posMsg(l2, c2)} }

func editMsg(r msg, text string) msg { return msg{"range": r, "newText": text} }

// applyEditsForTest applies LSP text edits to text, the way a client does.
func applyEditsForTest(text string, enc Encoding, edits []any) string {
	m := NewMapper(text, enc)
	out := text
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i].(map[string]any)
		var r protocol.Range
		json.Unmarshal([]byte(mustJSON(e["range"])), &r)
		start, end := m.Offset(r.Start), m.Offset(r.End)
		out = out[:start] + e["newText"].(string) + out[end:]
	}
	return out
}

func TestExecuteCommandAdvertised(t *testing.T) {
	c := startServer(t, Options{Completer: &fakeCompleter{}})
	init := c.initialize()
	caps := init["result"].(map[string]any)["capabilities"].(map[string]any)
	got := mustJSON(caps["executeCommandProvider"])
	if want := `{"commands":["dfim.fillHoles","dfim.fillSelection"]}`; got != want {
		t.Errorf("executeCommandProvider %s, want %s", got, want)
	}
}

func TestFillHolesEdits(t *testing.T) {
	// CRLF lines; "𝄞" (4 bytes, 2 UTF-16 units) before the first marker.
	text := "package a\r\n\r\nvar s = \"𝄞\"; x := <<fill>>\r\nfunc f() {\r\n\t<<fill:2>>\r\n}\r\n"
	for _, tt := range []struct {
		name       string
		encs       []string
		enc        Encoding
		versioned  bool
		firstStart int // character of the first marker on line 2
	}{
		{"utf-16 documentChanges", nil, UTF16, true, 19},
		{"utf-8 changes", []string{"utf-8"}, UTF8, false, 21},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var seen []infill.Hole
			var seenDoc infill.Document
			f := &fakeCompleter{fill: func(_ context.Context, doc infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
				seen, seenDoc = holes, doc
				return []infill.Suggestion{
					{Text: "len(s)", Start: holes[0].Start, End: holes[0].End},
					{Text: "println(x)", Start: holes[1].Start, End: holes[1].End},
				}, nil
			}}
			c := startServer(t, Options{Completer: f})
			caps := msg{"workspace": msg{"workspaceEdit": msg{"documentChanges": tt.versioned}}}
			if tt.encs != nil {
				caps["general"] = msg{"positionEncodings": tt.encs}
			}
			c.initializeWith(caps)
			c.open("file:///a.go", "go", text)
			c.request(1, "workspace/executeCommand", fillHolesParams("file:///a.go"))
			req, _ := c.serverRequest("workspace/applyEdit")
			c.reply(req, msg{"applied": true})
			m, other := c.response(1)
			if m["error"] != nil || m["result"] != nil {
				t.Fatalf("executeCommand reply %v, want a null result", m)
			}
			if n := countMethod(other, "window/showMessage"); n != 0 {
				t.Errorf("all holes filled but %d messages shown: %v", n, other)
			}
			if len(seen) != 2 || seen[1].MaxLines != 2 || seen[0].MaxLines != 0 ||
				seenDoc.Text[seen[0].Start:seen[0].End] != "<<fill>>" || seenDoc.Text[seen[1].Start:seen[1].End] != "<<fill:2>>" {
				t.Fatalf("completer got holes %+v, want the two markers with hints 0 and 2", seen)
			}
			wantEdits := []msg{
				editMsg(rangeMsg(2, tt.firstStart, 2, tt.firstStart+8), "len(s)"),
				editMsg(rangeMsg(4, 1, 4, 11), "println(x)"),
			}
			edit := req["params"].(map[string]any)["edit"].(map[string]any)
			var edits []any
			if tt.versioned {
				dc := edit["documentChanges"].([]any)
				if len(dc) != 1 || edit["changes"] != nil {
					t.Fatalf("edit %s, want one documentChanges entry only", mustJSON(edit))
				}
				td := dc[0].(map[string]any)
				if got := mustJSON(td["textDocument"]); got != `{"uri":"file:///a.go","version":1}` {
					t.Errorf("textDocument %s, want version 1 of the document", got)
				}
				edits = td["edits"].([]any)
			} else {
				if edit["documentChanges"] != nil {
					t.Fatalf("documentChanges sent to a client without the capability: %s", mustJSON(edit))
				}
				edits = edit["changes"].(map[string]any)["file:///a.go"].([]any)
			}
			if mustJSON(edits) != mustJSON(wantEdits) {
				t.Errorf("edits %s\nwant  %s", mustJSON(edits), mustJSON(wantEdits))
			}
			want := "package a\r\n\r\nvar s = \"𝄞\"; x := len(s)\r\nfunc f() {\r\n\tprintln(x)\r\n}\r\n"
			if got := applyEditsForTest(text, tt.enc, edits); got != want {
				t.Errorf("applying the edits gives %q, want %q", got, want)
			}
		})
	}
}

func TestFillHolesReportsUnfilled(t *testing.T) {
	text := "a := <<fill>>\nb := <<fill>>\nc := <<fill>>\n"
	f := &fakeCompleter{fill: func(_ context.Context, _ infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
		out := make([]infill.Suggestion, len(holes))
		for i, h := range holes {
			out[i] = infill.Suggestion{Start: h.Start, End: h.End, Reason: "no candidate was syntax-valid, even after repair"}
		}
		out[1].Text = "2"
		return out, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", text)
	c.request(1, "workspace/executeCommand", fillHolesParams("file:///a.go"))
	req, other := c.serverRequest("workspace/applyEdit")
	c.reply(req, msg{"applied": true})
	m, more := c.response(1)
	if m["error"] != nil {
		t.Fatalf("executeCommand: %v", m)
	}
	var shown []string
	for _, o := range append(other, more...) {
		if o["method"] == "window/showMessage" {
			p := o["params"].(map[string]any)
			shown = append(shown, fmt.Sprintf("%v %v", p["type"], p["message"]))
		}
	}
	want := "2 dfim: 2 of 3 holes not filled: line 1: no candidate was syntax-valid, even after repair; line 3: no candidate"
	if len(shown) != 1 || !strings.HasPrefix(shown[0], want) {
		t.Errorf("messages %q, want one warning starting %q", shown, want)
	}
	edits := req["params"].(map[string]any)["edit"].(map[string]any)["changes"].(map[string]any)["file:///a.go"]
	if got, want := mustJSON(edits), mustJSON([]msg{editMsg(rangeMsg(1, 5, 1, 13), "2")}); got != want {
		t.Errorf("edits %s, want only the filled hole: %s", got, want)
	}
}

func TestFillSelection(t *testing.T) {
	// The selection runs from after "𝄞" on line 1 to line 2, over a CRLF.
	text := "package a\r\nvar s = \"𝄞\" + old1\r\nold2 + x\r\n"
	var seen atomic.Value
	f := &fakeCompleter{fill: func(_ context.Context, doc infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
		seen.Store(fmt.Sprintf("%q %d", doc.Text[holes[0].Start:holes[0].End], holes[0].MaxLines))
		return []infill.Suggestion{{Text: "new", Start: holes[0].Start, End: holes[0].End}}, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initializeWith(msg{"workspace": msg{"workspaceEdit": msg{"documentChanges": true}}})
	c.open("file:///a.go", "go", text)
	sel := rangeMsg(1, 15, 2, 4) // "old1\r\nold2"
	c.request(1, "workspace/executeCommand", msg{"command": CommandFillSelection,
		"arguments": []any{msg{"uri": "file:///a.go", "range": sel}}})
	req, _ := c.serverRequest("workspace/applyEdit")
	c.reply(req, msg{"applied": true})
	if m, _ := c.response(1); m["error"] != nil || m["result"] != nil {
		t.Fatalf("executeCommand reply %v, want a null result", m)
	}
	if got := seen.Load(); got != `"old1\r\nold2" 2` {
		t.Errorf("completer filled %v, want the selected bytes with a 2-line hint", got)
	}
	edits := req["params"].(map[string]any)["edit"].(map[string]any)["documentChanges"].([]any)[0].(map[string]any)["edits"]
	if got, want := mustJSON(edits), mustJSON([]msg{editMsg(sel, "new")}); got != want {
		t.Errorf("edits %s, want %s", got, want)
	}
}

func TestFillHolesStaleVersion(t *testing.T) {
	started := make(chan struct{})
	f := &fakeCompleter{fill: func(ctx context.Context, _ infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
		close(started)
		<-ctx.Done() // a newer version cancels the fill
		return []infill.Suggestion{{Text: "x", Start: holes[0].Start, End: holes[0].End}}, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", "a := <<fill>>\n")
	c.request(1, "workspace/executeCommand", fillHolesParams("file:///a.go"))
	<-started
	c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": "file:///a.go", "version": 2},
		"contentChanges": []msg{{"range": rangeMsg(0, 0, 0, 0), "text": "// edited\n"}}})
	m, other := c.response(1)
	if m["error"] != nil || m["result"] != nil {
		t.Errorf("executeCommand reply %v, want a null result", m)
	}
	if n := countMethod(other, "workspace/applyEdit"); n != 0 {
		t.Errorf("edit computed on version 1 sent after version 2 arrived")
	}
	if countShowMessages(other, "changed while its holes were being filled") != 1 {
		t.Errorf("no message about the changed document: %v", other)
	}
}

func TestFillHolesEditRefused(t *testing.T) {
	c := startServer(t, Options{Completer: &fakeCompleter{}})
	c.initialize()
	c.open("file:///a.go", "go", "<<fill>>")
	c.request(1, "workspace/executeCommand", fillHolesParams("file:///a.go"))
	req, _ := c.serverRequest("workspace/applyEdit")
	c.reply(req, msg{"applied": false, "failureReason": "document is read-only"})
	m, _ := c.response(1)
	if errCode(m) != int(RequestFailed) || !strings.Contains(mustJSON(m["error"]), "document is read-only") {
		t.Errorf("refused edit: %v, want RequestFailed with the client's reason", m)
	}
}

func TestFillHolesNoMarkers(t *testing.T) {
	f := &fakeCompleter{}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", "package a\n")
	c.request(1, "workspace/executeCommand", fillHolesParams("file:///a.go"))
	m, other := c.response(1)
	if m["error"] != nil || m["result"] != nil || f.calls.Load() != 0 {
		t.Errorf("no markers: %v (completer calls %d), want a null result and no fill", m, f.calls.Load())
	}
	// The message may come after the reply: collect it with a round trip.
	_, more := c.response(c.callID(2, "dfim/unknown"))
	if countShowMessages(append(other, more...), "markers in the code of file:///a.go") != 1 {
		t.Errorf("no message saying there are no markers: %v", append(other, more...))
	}
}

func TestExecuteCommandBadArguments(t *testing.T) {
	f := &fakeCompleter{}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", "a\nb <<fill>>\n")
	for i, tt := range []struct {
		name   string
		params any
		code   int
		want   string
	}{
		{"unknown command", msg{"command": "dfim.other", "arguments": []any{msg{"uri": "file:///a.go"}}}, -32602, `unknown command \"dfim.other\"`},
		{"no arguments", msg{"command": CommandFillHoles}, -32602, "takes one argument"},
		{"two arguments", msg{"command": CommandFillHoles, "arguments": []any{msg{"uri": "file:///a.go"}, 1}}, -32602, "got 2"},
		{"argument not an object", msg{"command": CommandFillHoles, "arguments": []any{"file:///a.go"}}, -32602, "bad argument"},
		{"no uri", msg{"command": CommandFillHoles, "arguments": []any{msg{}}}, -32602, `no \"uri\"`},
		{"selection without range", msg{"command": CommandFillSelection, "arguments": []any{msg{"uri": "file:///a.go"}}}, -32602, `no \"range\"`},
		{"range backwards", msg{"command": CommandFillSelection, "arguments": []any{msg{"uri": "file:///a.go", "range": rangeMsg(1, 2, 0, 1)}}}, -32602, "ends before it starts"},
		{"document not open", fillHolesParams("file:///b.go"), -32602, "file:///b.go is not open"},
		{"params not an object", "dfim.fillHoles", -32602, "invalid params"},
	} {
		m := c.call(i+1, "workspace/executeCommand", tt.params)
		if errCode(m) != tt.code || !strings.Contains(mustJSON(m["error"]), tt.want) {
			t.Errorf("%s: %v, want code %d with %q", tt.name, m["error"], tt.code, tt.want)
		}
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("completer called %d times for bad requests", n)
	}
}

// Fill Holes applies what `dfim batch` would write and nothing else: the
// junk batch.Judge refuses (a comment of symbols, a second func main) gets
// no edit, and the user is told why.
func TestFillHolesJudgedAsBatch(t *testing.T) {
	text := "package main\n\nfunc main() {\n\t<<fill>>\n}\n\nfunc g() {\n\t<<fill>>\n}\n\n<<fill>>\n"
	for _, tt := range []struct {
		name  string
		fills []string
		edits []msg // nil: no applyEdit at all
	}{
		{"all refused", []string{"// := := :=", ":= := :=", "func main() {}"}, nil},
		{"one kept", []string{"// := := :=", "println(1)", "func main() {}"}, []msg{editMsg(rangeMsg(7, 1, 7, 9), "println(1)")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCompleter{fill: func(_ context.Context, _ infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
				out := make([]infill.Suggestion, len(holes))
				for i, h := range holes {
					out[i] = infill.Suggestion{Text: tt.fills[i], Start: h.Start, End: h.End}
				}
				return out, nil
			}}
			c := startServer(t, Options{Completer: f})
			c.initialize()
			c.open("file:///a.go", "go", text)
			c.request(1, "workspace/executeCommand", fillHolesParams("file:///a.go"))
			var other []msg
			if tt.edits != nil {
				req, o := c.serverRequest("workspace/applyEdit")
				other = o
				c.reply(req, msg{"applied": true})
				edits := req["params"].(map[string]any)["edit"].(map[string]any)["changes"].(map[string]any)["file:///a.go"]
				if got, want := mustJSON(edits), mustJSON(tt.edits); got != want {
					t.Errorf("edits %s, want %s", got, want)
				}
			}
			m, more := c.response(1)
			if m["error"] != nil || m["result"] != nil {
				t.Fatalf("executeCommand reply %v, want a null result", m)
			}
			// Messages may come after the reply: collect them with a round trip.
			_, late := c.response(c.callID(2, "dfim/unknown"))
			other = append(append(other, more...), late...)
			if n := countMethod(other, "workspace/applyEdit"); n != 0 {
				t.Errorf("%d edits applied for fills dfim batch refuses", n)
			}
			if countShowMessages(other, "is symbols only, no code") != 1 ||
				countShowMessages(other, "line 11: the fill declares func main, which the file already has") != 1 {
				t.Errorf("no warning naming the refused fills: %v", other)
			}
		})
	}
}

// An old-Mac document (lone "\r" line breaks): the marker after a "//"
// comment line is code, not the comment's text. Before, the grammar saw the
// comment run to the end of the document and Fill Holes found no markers.
func TestFillHolesCROnlyDocument(t *testing.T) {
	text := "package a\r\r// f does things.\rfunc f() {\r\t<<fill>>\r\t// not this one: <<fill>>\r}\r"
	var seen []infill.Hole
	f := &fakeCompleter{fill: func(_ context.Context, _ infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
		seen = holes
		out := make([]infill.Suggestion, len(holes))
		for i, h := range holes {
			out[i] = infill.Suggestion{Text: "println(1)", Start: h.Start, End: h.End}
		}
		return out, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", text)
	c.request(1, "workspace/executeCommand", fillHolesParams("file:///a.go"))
	req, _ := c.serverRequest("workspace/applyEdit")
	c.reply(req, msg{"applied": true})
	if m, _ := c.response(1); m["error"] != nil || m["result"] != nil {
		t.Fatalf("executeCommand reply %v, want a null result", m)
	}
	if len(seen) != 1 || text[seen[0].Start:seen[0].End] != "<<fill>>" || text[seen[0].Start-1] != '\t' {
		t.Fatalf("completer got holes %+v, want the one marker in code", seen)
	}
	edits := req["params"].(map[string]any)["edit"].(map[string]any)["changes"].(map[string]any)["file:///a.go"]
	if got, want := mustJSON(edits), mustJSON([]msg{editMsg(rangeMsg(4, 1, 4, 9), "println(1)")}); got != want {
		t.Errorf("edits %s, want %s", got, want)
	}
}
