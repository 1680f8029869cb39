package lsp

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
)

// helixKeeps is Helix's completion filter: an item stays when its
// filterText (else its label) fuzzy-matches the word typed, the text from
// the start of the item's range to the cursor. Fuzzy: the word's
// characters appear in order, the first one first.
func helixKeeps(item map[string]any, typed string) bool {
	ft, _ := item["filterText"].(string)
	if ft == "" {
		ft, _ = item["label"].(string)
	}
	if typed == "" {
		return true
	}
	if !strings.HasPrefix(strings.ToLower(ft), strings.ToLower(typed[:1])) {
		return false
	}
	rest := strings.ToLower(ft)
	for _, r := range strings.ToLower(typed) {
		i := strings.IndexRune(rest, r)
		if i < 0 {
			return false
		}
		rest = rest[i+len(string(r)):]
	}
	return true
}

// Mid-word completions cover the word being typed (issue 27, item 15):
// the textEdit starts where the identifier starts and newText/filterText
// carry the typed prefix, so Helix's filter keeps the item.
func TestCompletionItemsCoverTheTypedWord(t *testing.T) {
	text := "package a\n\nfunc f(v int) {\n\tto\n}\n"
	f := &fakeCompleter{fn: func(_ context.Context, _ infill.Document, pos int, _ infill.Options) ([]infill.Suggestion, error) {
		return []infill.Suggestion{{Text: "tal := v", Start: pos, End: pos}, {Text: " = v", Start: pos, End: pos}}, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", text)
	m := c.call(1, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(3, 3)})
	items := m["result"].(map[string]any)["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("want 2 items, got %v", m)
	}
	for i, want := range []string{"total := v", "to = v"} {
		it := items[i].(map[string]any)
		edit := it["textEdit"].(map[string]any)
		rng := edit["range"].(map[string]any)
		if mustJSON(rng) != mustJSON(msg{"start": posMsg(3, 1), "end": posMsg(3, 3)}) || edit["newText"] != want {
			t.Errorf("item %d: textEdit %v, want %q over the typed word (3:1-3:3)", i, edit, want)
		}
		start := int(rng["start"].(map[string]any)["character"].(float64))
		typed := strings.Split(text, "\n")[3][start:3]
		if !helixKeeps(it, typed) {
			t.Errorf("item %d: filterText %q does not match the typed %q: Helix hides it", i, it["filterText"], typed)
		}
	}
}

// A suggestion that changes nothing (the ")" over the ")" after the
// cursor) is never offered (issue 27, item 13), by either request.
func TestNoOpSuggestionsDropped(t *testing.T) {
	text := "package a\n\nfunc f() {\n\tfmt.Println()\n}\n"
	f := &fakeCompleter{fn: func(_ context.Context, _ infill.Document, pos int, _ infill.Options) ([]infill.Suggestion, error) {
		return []infill.Suggestion{{Text: ")", Start: pos, End: pos + 1}, {Text: "name)", Start: pos, End: pos + 1}}, nil
	}}
	c := startServer(t, Options{Completer: f})
	c.initialize()
	c.open("file:///a.go", "go", text)
	p := msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(3, 13)}
	m := c.call(1, "textDocument/completion", p)
	items := m["result"].(map[string]any)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["textEdit"].(map[string]any)["newText"] != "name)" {
		t.Errorf("completion items %v, want only name)", items)
	}
	p["context"] = msg{"triggerKind": 1}
	m = c.call(2, "textDocument/inlineCompletion", p)
	inl := m["result"].(map[string]any)["items"].([]any)
	if len(inl) != 1 || inl[0].(map[string]any)["insertText"] != "name)" {
		t.Errorf("inline items %v, want only name)", inl)
	}
}

// smallEngine is a model with a context of 256 tokens trained on "\n"
// files: it records the holes' sizes and whether it was sent a "\r".
type smallEngine struct {
	fill   string
	mu     sync.Mutex
	maxTok []int
	sawR   bool
}

func (e *smallEngine) Infill(_ context.Context, req engine.Request) (engine.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	total := 0
	var holes []string
	for _, s := range req.Segments {
		e.sawR = e.sawR || strings.Contains(s.Text, "\r")
		total += e.CountTokens(s.Text)
		if s.Hole {
			e.maxTok = append(e.maxTok, s.MaxTok)
			total += s.MaxTok
			holes = append(holes, e.fill)
		}
	}
	if total > e.ContextLength() {
		return engine.Result{}, engine.ErrUnsupported // as the native engine: the canvas does not fit
	}
	return engine.Result{Candidates: []engine.Fill{{Holes: holes, Tokens: []int{2}, Confidence: 0.9}}, Steps: 1}, nil
}

func (*smallEngine) Close() error             { return nil }
func (*smallEngine) ContextLength() int       { return 256 }
func (*smallEngine) CountTokens(s string) int { return len(s)/4 + 1 }

// maxTokens above what the model's context holds is capped, not an error
// on every completion (issue 27, item 9); the cap shows in the item.
func TestMaxTokensSettingCapped(t *testing.T) {
	e := &smallEngine{fill: "n * 2"}
	c := startServer(t, Options{Completer: infill.New(e)})
	c.initialize()
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"dfim": msg{"maxTokens": 400, "debounceMs": 0}}})
	c.open("file:///a.go", "go", "package a\n\nfunc f(n int) int {\n\treturn \n}\n")
	m := c.call(1, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(3, 8)})
	res, _ := m["result"].(map[string]any)
	if res == nil || len(res["items"].([]any)) != 1 {
		t.Fatalf("maxTokens 400 with a 256-token model: %v, want one item", m)
	}
	if d, _ := res["items"].([]any)[0].(map[string]any)["detail"].(string); !strings.Contains(d, "capped to 192") {
		t.Errorf("detail %q does not say maxTokens was capped to 192", d)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range e.maxTok {
		if n > 192 {
			t.Errorf("a hole of %d tokens was sent to a 256-token model", n)
		}
	}
}

// A CRLF document is completed as the LF one: the model sees no "\r" and
// the fill stops at the hole, its range on the cursor's line (issue 27,
// item 3).
func TestCRLFDocumentCompletedLikeLF(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		e := &smallEngine{fill: "n * 2"}
		c := startServer(t, Options{Completer: infill.New(e)})
		c.initialize()
		c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"dfim": msg{"debounceMs": 0}}})
		c.open("file:///a.go", "go", strings.ReplaceAll("package a\n\nfunc f(n int) int {\n\treturn \n}\n\nfunc B() {\n}\n", "\n", eol))
		p := msg{"textDocument": msg{"uri": "file:///a.go"}, "position": posMsg(3, 8), "context": msg{"triggerKind": 1}}
		m := c.call(1, "textDocument/inlineCompletion", p)
		items, _ := m["result"].(map[string]any)["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("%q: %v, want one item", eol, m)
		}
		it := items[0].(map[string]any)
		if it["insertText"] != "n * 2" || mustJSON(it["range"]) != mustJSON(msg{"start": posMsg(3, 8), "end": posMsg(3, 8)}) {
			t.Errorf("%q: item %v, want n * 2 at 3:8", eol, it)
		}
		e.mu.Lock()
		if e.sawR {
			t.Errorf("%q: the model was sent a \"\\r\"", eol)
		}
		e.mu.Unlock()
	}
}
