package lsp

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
)

// silentEngine fills every hole with nothing: next edits then rest on the
// substitution of the user's edit alone.
type silentEngine struct{}

func (silentEngine) Infill(context.Context, engine.Request) (engine.Result, error) {
	return engine.Result{}, nil
}
func (silentEngine) Close() error { return nil }

// historyPredictor records the history it was asked with.
type historyPredictor struct {
	fakeCompleter
	mu      sync.Mutex
	history []infill.Edit
	text    string
}

func (h *historyPredictor) NextEdits(_ context.Context, doc infill.Document, history []infill.Edit, _ int, _ infill.NextEditOptions) ([]infill.NextEdit, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.history, h.text = history, doc.Text
	return nil, nil
}

func TestEditHistoryRecordsIncrementalChanges(t *testing.T) {
	p := &historyPredictor{}
	on := true
	set := DefaultSettings()
	set.NextEdit = &on
	c := startServer(t, Options{Completer: p, Settings: set})
	c.initialize()
	c.open("file:///a.go", "go", "// 😀 x\nvar nmae = 1\n")
	// UTF-16 columns: after the emoji (2 code units) the column is bytes-2.
	c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": "file:///a.go", "version": 2},
		"contentChanges": []msg{
			{"range": msg{"start": posMsg(0, 6), "end": posMsg(0, 7)}, "text": "y"},
			{"range": msg{"start": posMsg(1, 5), "end": posMsg(1, 7)}, "text": "am"},
		}})
	m := c.call(1, MethodCopilotInlineEdit, msg{"textDocument": msg{"uri": "file:///a.go", "version": 2}, "position": posMsg(1, 7)})
	if m["error"] != nil {
		t.Fatal(m)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	want := []infill.Edit{{Start: 8, Old: "x", New: "y"}, {Start: 15, Old: "ma", New: "am"}}
	if mustJSON(p.history) != mustJSON(want) || p.text != "// 😀 y\nvar name = 1\n" {
		t.Errorf("history %+v over %q, want %+v", p.history, p.text, want)
	}
}

func TestCopilotInlineEdit(t *testing.T) {
	src := "package p\n\ntype person struct{ nmae string }\n\nfunc show(p person) string {\n\ta := p.nmae\n\treturn a + p.nmae\n}\n"
	for _, tc := range []struct {
		name    string
		setting string
		want    int
	}{
		{"off by default with the built-in model", "", 0},
		{"on when set", `{"nextEdit": true}`, 1},
		{"off when set", `{"engine": "native", "nextEdit": false}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			comp := infill.New(silentEngine{})
			defer comp.Close()
			set := DefaultSettings()
			if tc.setting != "" {
				var err error
				if set, err = set.Apply(json.RawMessage(tc.setting), nil); err != nil {
					t.Fatal(err)
				}
			}
			c := startServer(t, Options{Completer: comp, Settings: set})
			c.initialize()
			uri := "file:///p.go"
			c.open(uri, "go", src)
			// Rename the field where it is declared: "nmae" -> "name", typed.
			c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": uri, "version": 2},
				"contentChanges": []msg{
					{"range": msg{"start": posMsg(2, 21), "end": posMsg(2, 24)}, "text": ""},
					{"range": msg{"start": posMsg(2, 21), "end": posMsg(2, 21)}, "text": "ame"},
				}})
			c.notify(MethodDidFocus, msg{"textDocument": msg{"uri": uri}})
			m := c.call(1, MethodCopilotInlineEdit, msg{"textDocument": msg{"uri": uri, "version": 2}, "position": posMsg(2, 24)})
			if m["error"] != nil {
				t.Fatal(m)
			}
			var res struct {
				Edits []struct {
					Range        map[string]map[string]int `json:"range"`
					Text         string                    `json:"text"`
					TextDocument struct {
						URI     string `json:"uri"`
						Version int    `json:"version"`
					} `json:"textDocument"`
					Command struct{ Title, Command string } `json:"command"`
				} `json:"edits"`
			}
			if err := json.Unmarshal([]byte(mustJSON(m["result"])), &res); err != nil || res.Edits == nil {
				t.Fatalf("result %v: %v (want an edits array, never null)", m["result"], err)
			}
			if len(res.Edits) != tc.want {
				t.Fatalf("got %d edits %+v, want %d", len(res.Edits), res.Edits, tc.want)
			}
			if tc.want == 0 {
				return
			}
			e := res.Edits[0]
			wantRange := map[string]map[string]int{"start": {"line": 5, "character": 8}, "end": {"line": 5, "character": 12}}
			if e.Text != "name" || mustJSON(e.Range) != mustJSON(wantRange) || e.TextDocument.URI != uri || e.TextDocument.Version != 2 || e.Command.Command == "" {
				t.Errorf("edit %+v, want nmae -> name at 5:8-5:12 of version 2, with a command", e)
			}
			c.notify(MethodDidShowInlineEdit, msg{"item": msg{"command": e.Command}})
			// The notifications copilot-lsp sends must not be answered as errors.
			if m := c.call(2, MethodDidFocus, msg{"textDocument": msg{"uri": uri}}); m["error"] != nil {
				t.Errorf("didFocus sent as a request: %v", m)
			}
		})
	}
}

func TestNextEditSetting(t *testing.T) {
	s := DefaultSettings()
	if s.NextEditOn() {
		t.Error("next edits on by default with the built-in model")
	}
	remote, _ := s.Apply(json.RawMessage(`{"engine": "inception"}`), nil)
	if !remote.NextEditOn() {
		t.Error("next edits off with a remote engine")
	}
	pulled, _ := s.Apply(json.RawMessage(`{"model": "open-dcoder-0.5b"}`), nil)
	if !pulled.NextEditOn() {
		t.Error("next edits off with a pulled model")
	}
	if _, err := s.Apply(json.RawMessage(`{"nextEdit": "yes"}`), nil); err == nil || !strings.Contains(err.Error(), "nextEdit") {
		t.Errorf("a non-boolean nextEdit: %v", err)
	}
	back, _ := remote.Apply(json.RawMessage(`{"nextEdit": false}`), nil)
	back, _ = back.Apply(json.RawMessage(`{"nextEdit": null}`), nil)
	if !back.NextEditOn() {
		t.Error("nextEdit null did not restore the engine's default")
	}
}

func TestCopilotInlineEditInAnotherOpenFile(t *testing.T) {
	comp := infill.New(silentEngine{})
	defer comp.Close()
	set, _ := DefaultSettings().Apply(json.RawMessage(`{"nextEdit": true}`), nil)
	c := startServer(t, Options{Completer: comp, Settings: set})
	c.initialize()
	c.open("file:///a.go", "go", "package p\n\ntype person struct{ nmae string }\n")
	c.open("file:///b.go", "go", "package p\n\nfunc f(p person) string {\n\treturn p.nmae\n}\n")
	c.open("file:///c.py", "python", "p.nmae\n")
	c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": "file:///a.go", "version": 2},
		"contentChanges": []msg{{"range": msg{"start": posMsg(2, 20), "end": posMsg(2, 24)}, "text": "name"}}})
	m := c.call(1, MethodCopilotInlineEdit, msg{"textDocument": msg{"uri": "file:///a.go", "version": 2}, "position": posMsg(2, 25)})
	want := `{"edits":[{"command":{"command":"dfim.nextEditShown","title":"dfim: next edit"},"range":{"end":{"character":14,"line":3},"start":{"character":10,"line":3}},"text":"name","textDocument":{"uri":"file:///b.go","version":1}}]}`
	if got := mustJSON(m["result"]); got != want {
		t.Errorf("result %s\nwant   %s", got, want)
	}
}
