package lsp

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/dfim/dfim/index"
	"github.com/dfim/dfim/infill"
)

// txtarWorkspace writes an archive's files under a new folder and returns
// the folder and the files by name.
func txtarWorkspace(t *testing.T, archive string) (string, map[string]string) {
	t.Helper()
	ar, err := txtar.ParseFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range ar.Files {
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		files[f.Name] = string(f.Data)
	}
	return root, files
}

func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// contextRecorder is a completer that keeps the ExtraContext of the last
// completion and fill.
type contextRecorder struct {
	fakeCompleter
	mu              sync.Mutex
	complete, fills string
}

func newContextRecorder() *contextRecorder {
	r := &contextRecorder{}
	r.fn = func(_ context.Context, doc infill.Document, pos int, o infill.Options) ([]infill.Suggestion, error) {
		extra := askContext(doc, pos, o)
		r.mu.Lock()
		r.complete = extra
		r.mu.Unlock()
		return []infill.Suggestion{{Text: "Open()", Start: pos, End: pos}}, nil
	}
	r.fill = func(_ context.Context, doc infill.Document, holes []infill.Hole, o infill.Options) ([]infill.Suggestion, error) {
		extra := askContext(doc, holes[0].Start, o)
		r.mu.Lock()
		r.fills = extra
		r.mu.Unlock()
		return nil, nil
	}
	return r
}

// askContext asks o's context source as infill does.
func askContext(doc infill.Document, pos int, o infill.Options) string {
	if o.Context == nil {
		return o.ExtraContext
	}
	return o.Context.Context(doc.Path, doc.Text, pos, o.ContextBytes)
}

func (r *contextRecorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.complete
}

// indexProgress reads messages until the index's progress ends and returns
// the kinds seen for its token (create, begin, report…, end).
func indexProgress(c *testClient) []string {
	c.t.Helper()
	var kinds []string
	token := ""
	for {
		m := c.next()
		p, _ := m["params"].(map[string]any)
		switch m["method"] {
		case "window/workDoneProgress/create":
			if tok, _ := p["token"].(string); strings.HasPrefix(tok, "dfim-index-") {
				token = tok
				kinds = append(kinds, "create")
			}
		case "$/progress":
			if p["token"] != token || token == "" {
				continue
			}
			kind := p["value"].(map[string]any)["kind"].(string)
			kinds = append(kinds, kind)
			if kind == "end" {
				return kinds
			}
		}
	}
}

func TestCompletionGetsCrossFileContextFromTheIndex(t *testing.T) {
	root, files := txtarWorkspace(t, "testdata/index/cross_file.txtar")
	rec := newContextRecorder()
	c := startServer(t, Options{Completer: rec})
	m := c.call(0, "initialize", msg{"rootUri": fileURI(root),
		"capabilities": msg{"window": msg{"workDoneProgress": true}}})
	if m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	c.notify("initialized", msg{})
	if kinds := strings.Join(indexProgress(c), ","); !strings.HasPrefix(kinds, "create,begin") || !strings.HasSuffix(kinds, "end") {
		t.Errorf("index progress %s, want create, begin, reports, end", kinds)
	}

	mainURI, dbURI := fileURI(filepath.Join(root, "main.go")), fileURI(filepath.Join(root, "store/db.go"))
	c.open(mainURI, "go", files["main.go"])
	complete := func(id int) string {
		c.call(id, "textDocument/completion", msg{"textDocument": msg{"uri": mainURI}, "position": posMsg(12, 7)})
		return rec.last()
	}
	got := complete(1)
	for _, want := range []string{"// store/db.go", "func Open(path string) (*DB, error)"} {
		if !strings.Contains(got, want) {
			t.Errorf("cross-file context lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "helperInMain") {
		t.Errorf("cross-file context holds the document's own definition:\n%s", got)
	}

	// An unsaved edit of another file wins over the disk, until closed.
	edited := files["store/db.go"] + "\n// OpenReadOnly opens the database at path for reading.\nfunc OpenReadOnly(path string) (*DB, error) { return Open(path) }\n"
	c.open(dbURI, "go", files["store/db.go"])
	c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": dbURI, "version": 2},
		"contentChanges": []msg{{"text": edited}}})
	id := 10
	poll(t, "the unsaved OpenReadOnly in the context", func() bool {
		id++
		return strings.Contains(complete(id), "func OpenReadOnly(path string) (*DB, error)")
	})
	c.notify("textDocument/didClose", msg{"textDocument": msg{"uri": dbURI}})
	poll(t, "OpenReadOnly gone once its buffer closed unsaved", func() bool {
		id++
		return !strings.Contains(complete(id), "OpenReadOnly")
	})
	// Opened with text that differs from the disk: that text wins too.
	c.open(dbURI, "go", edited)
	poll(t, "OpenReadOnly from a document opened unsaved", func() bool {
		id++
		return strings.Contains(complete(id), "func OpenReadOnly(path string) (*DB, error)")
	})
	c.notify("textDocument/didClose", msg{"textDocument": msg{"uri": dbURI}})

	// The fill commands get it too.
	c.call(50, "workspace/executeCommand", msg{"command": CommandFillSelection, "arguments": []msg{{"uri": mainURI,
		"range": msg{"start": posMsg(12, 1), "end": posMsg(12, 7)}}}})
	rec.mu.Lock()
	fills := rec.fills
	rec.mu.Unlock()
	if !strings.Contains(fills, "func Open(path string)") {
		t.Errorf("dfim.fillSelection's context lacks Open:\n%s", fills)
	}

	// The setting turns it off; the budget bounds it.
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"crossFileContextBytes": 60}})
	if got := complete(60); len(got) > 60 {
		t.Errorf("context of %d bytes with a 60-byte budget:\n%s", len(got), got)
	}
	c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"crossFileContext": false}})
	if got := complete(61); got != "" {
		t.Errorf("context with crossFileContext off:\n%s", got)
	}
	if m := c.call(62, "shutdown", nil); m["error"] != nil {
		t.Fatalf("shutdown: %v", m)
	}
	c.notify("exit", nil)
	if err := c.waitExit(); err != nil {
		t.Errorf("Serve after shutdown+exit = %v", err)
	}
}

func TestNoIndexWithoutRootOrWhenOff(t *testing.T) {
	root, files := txtarWorkspace(t, "testdata/index/cross_file.txtar")
	for _, tt := range []struct {
		name string
		init msg
	}{
		{"no root", msg{"capabilities": msg{"window": msg{"workDoneProgress": true}}}},
		{"setting off", msg{"rootUri": fileURI(root), "initializationOptions": msg{"crossFileContext": false},
			"capabilities": msg{"window": msg{"workDoneProgress": true}}}},
		{"not a file URI", msg{"rootUri": "untitled:x", "capabilities": msg{}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := newContextRecorder()
			c := startServer(t, Options{Completer: rec})
			c.call(0, "initialize", tt.init)
			c.notify("initialized", msg{})
			uri := fileURI(filepath.Join(root, "main.go"))
			c.open(uri, "go", files["main.go"])
			m, other := c.response(c.callID(1, "textDocument/completion"))
			_ = m
			for _, o := range other {
				if p, _ := o["params"].(map[string]any); o["method"] == "window/workDoneProgress/create" && strings.HasPrefix(p["token"].(string), "dfim-index-") {
					t.Errorf("index progress started: %v", o)
				}
			}
			c.call(2, "textDocument/completion", msg{"textDocument": msg{"uri": uri}, "position": posMsg(12, 7)})
			if got := rec.last(); got != "" {
				t.Errorf("cross-file context without an index:\n%s", got)
			}
			if tt.name != "setting off" {
				return
			}
			// Turned on later, the index starts then.
			c.notify("workspace/didChangeConfiguration", msg{"settings": msg{"crossFileContext": true}})
			id := 2
			poll(t, "cross-file context once the setting is on", func() bool {
				id++
				c.call(id, "textDocument/completion", msg{"textDocument": msg{"uri": uri}, "position": posMsg(12, 7)})
				return strings.Contains(rec.last(), "func Open(path string)")
			})
		})
	}
}

func TestWorkspaceRoot(t *testing.T) {
	for _, tt := range []struct {
		p    initializeParams
		want string
	}{
		{initializeParams{RootURI: "file:///home/u/proj"}, "/home/u/proj"},
		{initializeParams{RootURI: "file:///home/u/with%20space/"}, "/home/u/with space"},
		{initializeParams{WorkspaceFolders: []struct {
			URI string `json:"uri"`
		}{{URI: "file:///w/one"}, {URI: "file:///w/two"}}}, "/w/one"},
		{initializeParams{RootPath: "/old/client"}, "/old/client"},
		{initializeParams{RootURI: "vscode-vfs://github/x"}, ""},
		{initializeParams{RootPath: "relative"}, ""},
		{initializeParams{}, ""},
	} {
		if got := workspaceRoot(&tt.p); got != filepath.FromSlash(tt.want) {
			t.Errorf("workspaceRoot(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// poll retries cond for up to 10 s (the index reparses an edited buffer
// once typing pauses).
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIndexCapsSharedBySessions: the sessions of one server (Options with
// one IndexBudget) share the index caps. Three sessions on trees of 4
// folders under a 6-watch budget used to watch 12 folders together; now 6,
// and a session that ends gives its share back.
func TestIndexCapsSharedBySessions(t *testing.T) {
	budget := index.NewBudget(0, 0, 6)
	opts := Options{Completer: newContextRecorder(), IndexBudget: budget}
	var clients []*testClient
	for range 3 {
		root := t.TempDir()
		for _, d := range []string{"a", "b", "c"} {
			os.MkdirAll(filepath.Join(root, d), 0o755)
			os.WriteFile(filepath.Join(root, d, "x.go"), []byte("package "+d+"\n\nfunc X() {}\n"), 0o644)
		}
		c := startServer(t, opts)
		if m := c.call(0, "initialize", msg{"rootUri": fileURI(root),
			"capabilities": msg{"window": msg{"workDoneProgress": true}}}); m["result"] == nil {
			t.Fatalf("initialize: %v", m)
		}
		c.notify("initialized", msg{})
		indexProgress(c)
		clients = append(clients, c)
	}
	if u := budget.Use(); u.Watches != 6 || u.Files != 9 {
		t.Errorf("three sessions hold %+v; want 6 watches (the shared cap) and 9 files", u)
	}
	for i, c := range clients {
		c.call(10+i, "shutdown", nil)
		c.notify("exit", nil)
		c.waitExit()
	}
	if u := budget.Use(); u != (index.BudgetUse{}) {
		t.Errorf("after every session ended the budget holds %+v; want nothing", u)
	}
}
