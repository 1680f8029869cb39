package index

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"
)

// cursorMarker marks the cursor in a txtar workspace's current file.
const cursorMarker = "@@"

// workspace writes a txtar archive's files under a new folder. Sections
// named want, notwant and budget are directives, not files. It returns the
// folder, the current file (the one holding cursorMarker), its text
// without the marker, and the cursor's offset.
type workspace struct {
	root, current, text string
	offset              int
	directives          map[string]string
}

func loadWorkspace(t *testing.T, archive string) workspace {
	t.Helper()
	ar, err := txtar.ParseFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	ws := workspace{root: t.TempDir(), directives: map[string]string{}}
	for _, f := range ar.Files {
		switch f.Name {
		case "want", "notwant", "budget":
			ws.directives[f.Name] = string(f.Data)
			continue
		}
		data := string(f.Data)
		if i := strings.Index(data, cursorMarker); i >= 0 {
			data = data[:i] + data[i+len(cursorMarker):]
			ws.current, ws.text, ws.offset = filepath.Join(ws.root, f.Name), data, i
		}
		write(t, ws.root, f.Name, data)
	}
	if ws.current == "" {
		t.Fatalf("%s: no file holds the cursor marker %q", archive, cursorMarker)
	}
	return ws
}

// openIndex builds an index of root and waits for its first scan.
func openIndex(t *testing.T, root string, opts Options) *Index {
	t.Helper()
	opts.Logf = t.Logf
	ix, err := New(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ix.WaitReady(ctx); err != nil {
		t.Fatalf("first scan of %s: %v", root, err)
	}
	return ix
}

func TestContextTxtar(t *testing.T) {
	archives, _ := filepath.Glob("testdata/context/*.txtar")
	if len(archives) == 0 {
		t.Fatal("no testdata/context/*.txtar")
	}
	for _, a := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(a), ".txtar"), func(t *testing.T) {
			ws := loadWorkspace(t, a)
			ix := openIndex(t, ws.root, Options{NoWatch: true})
			budget := 2000
			if b := strings.TrimSpace(ws.directives["budget"]); b != "" {
				budget, _ = strconv.Atoi(b)
			}
			got := ix.Context(ws.current, ws.text, ws.offset, budget)
			if len(got) > budget {
				t.Errorf("context is %d bytes, over the budget of %d", len(got), budget)
			}
			for _, line := range lines(ws.directives["want"]) {
				if !strings.Contains(got, line) {
					t.Errorf("context lacks %q; got:\n%s", line, got)
				}
			}
			for _, line := range lines(ws.directives["notwant"]) {
				if strings.Contains(got, line) {
					t.Errorf("context holds %q; got:\n%s", line, got)
				}
			}
		})
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestContextBestLastWithinBudget(t *testing.T) {
	ws := loadWorkspace(t, "testdata/context/go_cross_file.txtar")
	ix := openIndex(t, ws.root, Options{NoWatch: true})
	full := ix.Context(ws.current, ws.text, ws.offset, 4000)
	if !strings.HasSuffix(strings.TrimRight(full, "\n"), "func Open(path string) (*DB, error)") &&
		!strings.Contains(full, "type DB struct") {
		t.Fatalf("context = %q", full)
	}
	for _, budget := range []int{0, 10, 60, 200} {
		if got := ix.Context(ws.current, ws.text, ws.offset, budget); len(got) > budget {
			t.Errorf("budget %d: got %d bytes", budget, len(got))
		}
	}
	if got := ix.Context(ws.current, ws.text, len(ws.text)+1, 1000); got != "" {
		t.Errorf("offset past the end: got %q, want nothing", got)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func symbolsIn(ix *Index, name string) []string {
	var paths []string
	for _, s := range ix.Lookup(name) {
		paths = append(paths, filepath.ToSlash(ix.rel(s.Path)))
	}
	return paths
}

func TestBufferWinsOverDisk(t *testing.T) {
	ws := loadWorkspace(t, "testdata/context/go_cross_file.txtar")
	ix := openIndex(t, ws.root, Options{NoWatch: true})
	dbPath := filepath.Join(ws.root, "store", "db.go")
	disk, _ := os.ReadFile(dbPath)
	edited := strings.Replace(string(disk), "func Open(path string) (*DB, error) {", "func Open(path string, readOnly bool) (*DB, error) {", 1)
	ix.UpdateBuffer(dbPath, edited)
	ix.Flush()
	got := ix.Context(ws.current, ws.text, ws.offset, 2000)
	if !strings.Contains(got, "func Open(path string, readOnly bool) (*DB, error)") || strings.Contains(got, "func Open(path string) (*DB") {
		t.Errorf("after the edit, context = \n%s\nwant the buffer's Open only", got)
	}
	// A save of the old text on disk does not beat the open buffer.
	ix.work.push(dbPath)
	ix.Flush()
	if got := ix.Context(ws.current, ws.text, ws.offset, 2000); !strings.Contains(got, "readOnly bool") {
		t.Errorf("a disk read replaced the open buffer:\n%s", got)
	}
	ix.CloseBuffer(dbPath)
	ix.Flush()
	if got := ix.Context(ws.current, ws.text, ws.offset, 2000); !strings.Contains(got, "func Open(path string) (*DB, error)") {
		t.Errorf("after closing the buffer, context = \n%s\nwant disk's Open", got)
	}
	// An unsaved new file's symbols go when it is closed.
	fresh := filepath.Join(ws.root, "store", "fresh.go")
	ix.UpdateBuffer(fresh, "package store\n\nfunc Fres() {}\n")
	ix.UpdateBuffer(fresh, "package store\n\nfunc Fresh() {}\n")
	// No Flush: the reparse comes by itself once typing pauses.
	waitFor(t, "Fresh from an unsaved buffer", func() bool { return len(symbolsIn(ix, "Fresh")) == 1 })
	if got := symbolsIn(ix, "Fres"); len(got) != 0 {
		t.Errorf("an older text of the buffer defines Fres in %v", got)
	}
	ix.CloseBuffer(fresh)
	ix.Flush()
	if got := symbolsIn(ix, "Fresh"); len(got) != 0 {
		t.Errorf("closed unsaved buffer still defines Fresh in %v", got)
	}
}

func TestWatchNewFolderAndDeletion(t *testing.T) {
	ws := loadWorkspace(t, "testdata/context/go_cross_file.txtar")
	ix := openIndex(t, ws.root, Options{})
	// A folder made after the scan, with a file already in it by the time
	// the watcher sees the folder, and another written later.
	write(t, ws.root, "later/deep/a.go", "package deep\n\nfunc Alpha() {}\n")
	waitFor(t, "Alpha from a folder made after start", func() bool { return len(symbolsIn(ix, "Alpha")) == 1 })
	write(t, ws.root, "later/deep/b.go", "package deep\n\nfunc Beta() {}\n")
	waitFor(t, "Beta written in the new folder", func() bool { return len(symbolsIn(ix, "Beta")) == 1 })
	// Gitignored folders stay out even when made later.
	write(t, ws.root, "gen/more/x.go", "package more\n\nfunc Ignored() {}\n")
	write(t, ws.root, "later/c.go", "package later\n\nfunc Gamma() {}\n")
	waitFor(t, "Gamma", func() bool { return len(symbolsIn(ix, "Gamma")) == 1 })
	if got := symbolsIn(ix, "Ignored"); len(got) != 0 {
		t.Errorf("gitignored gen/more/x.go indexed: %v", got)
	}
	// Deleting a file, then a folder, takes their symbols away.
	if err := os.Remove(filepath.Join(ws.root, "store", "db.go")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Open gone after deleting store/db.go", func() bool { return len(symbolsIn(ix, "Open")) == 0 })
	if err := os.RemoveAll(filepath.Join(ws.root, "later")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Alpha and Beta gone after deleting later/", func() bool {
		return len(symbolsIn(ix, "Alpha"))+len(symbolsIn(ix, "Beta"))+len(symbolsIn(ix, "Gamma")) == 0
	})
	if got := ix.Context(ws.current, ws.text, ws.offset, 2000); strings.Contains(got, "func Open") {
		t.Errorf("context still holds deleted Open:\n%s", got)
	}
}

func TestRescanFindsMissedChanges(t *testing.T) {
	ws := loadWorkspace(t, "testdata/context/go_cross_file.txtar")
	ix := openIndex(t, ws.root, Options{NoWatch: true}) // no events: only a rescan can see changes
	write(t, ws.root, "added/x.go", "package added\n\nfunc Added() {}\n")
	if err := os.Remove(filepath.Join(ws.root, "store", "db.go")); err != nil {
		t.Fatal(err)
	}
	ix.work.push(rescanJob)
	ix.Flush()
	if got := symbolsIn(ix, "Added"); len(got) != 1 {
		t.Errorf("after rescan, Added in %v", got)
	}
	if got := symbolsIn(ix, "Open"); len(got) != 0 {
		t.Errorf("after rescan, deleted Open still in %v", got)
	}
}

func TestProgressReportsFinish(t *testing.T) {
	ws := loadWorkspace(t, "testdata/context/go_cross_file.txtar")
	var last Progress
	calls := 0
	ix := openIndex(t, ws.root, Options{NoWatch: true, Progress: func(p Progress) { last = p; calls++ }})
	_ = ix
	if !last.Finished || last.Done != last.Total || last.Total != 4 || calls < 2 {
		t.Errorf("last progress %+v after %d calls; want finished with 4 of 4 files (.gitignore, go.mod, store/db.go, main.go)", last, calls)
	}
}

func TestRecentChunkJoinsContext(t *testing.T) {
	ws := loadWorkspace(t, "testdata/context/go_cross_file.txtar")
	ix := openIndex(t, ws.root, Options{NoWatch: true})
	other := filepath.Join(ws.root, "report.go")
	text := "package main\n\nfunc report(db *store.DB) {\n\tfmt.Println(db.rows, err, panic)\n}\n"
	ix.Visit(other, text, strings.Index(text, "fmt"))
	got := ix.Context(ws.current, ws.text, ws.offset, 4000)
	if !strings.Contains(got, "// report.go\npackage main\n") || !strings.Contains(got, "fmt.Println(db.rows, err, panic)") {
		t.Errorf("context lacks the visited chunk of report.go:\n%s", got)
	}
	// A chunk of another language is left out.
	ix.Visit(filepath.Join(ws.root, "x.py"), "db = store.Open(err)\npanic(db)\n", 0)
	if got := ix.Context(ws.current, ws.text, ws.offset, 4000); strings.Contains(got, "x.py") {
		t.Errorf("context holds a Python chunk in a Go canvas:\n%s", got)
	}
}

func TestRingEvictsOverlapsAndKeepsNewest(t *testing.T) {
	r := newRing(3, 8)
	text := strings.Repeat("alpha beta\n", 40)
	r.touch("/a", "go", text, 0)
	r.touch("/a", "go", text, 2) // inside the same lines: refreshes
	if n := len(r.snapshot()); n != 1 {
		t.Fatalf("%d chunks after touching one place twice, want 1", n)
	}
	for i, name := range []string{"/b", "/c", "/d"} {
		r.touch(name, "go", strings.Repeat("w"+strconv.Itoa(i)+" x\n", 10), 0)
	}
	var paths []string
	for _, c := range r.snapshot() {
		paths = append(paths, c.path)
	}
	if strings.Join(paths, " ") != "/b /c /d" {
		t.Errorf("ring holds %v, want the 3 newest", paths)
	}
	// A near-copy evicts its twin.
	r.touch("/e", "go", strings.Repeat("w2 x\n", 10), 0)
	paths = paths[:0]
	for _, c := range r.snapshot() {
		paths = append(paths, c.path)
	}
	if strings.Join(paths, " ") != "/b /c /e" {
		t.Errorf("ring holds %v, want /d evicted by its copy /e", paths)
	}
}

func TestFolderNearness(t *testing.T) {
	cases := []struct {
		a, b string
		want float64
	}{
		{"/r/a", "/r/a", 1},
		{"/r/a", "/r/b", 0.5},
		{"/r/a/x", "/r/a", 1 / 1.5},
		{"/r/ab", "/r/a", 0.5},
		{"/r/a/b/c", "/r/d", 1 / 3.0},
	}
	for _, c := range cases {
		if got := folderNearness(c.a, c.b); got != c.want {
			t.Errorf("folderNearness(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestIgnoreCacheAgreesWithWalk(t *testing.T) {
	root := t.TempDir()
	write(t, root, ".gitignore", "*.log\nbuild/\n")
	write(t, root, "sub/.gitignore", "gen.go\n")
	c := newIgnoreCache(root, WalkOptions{})
	cases := map[string]bool{
		"a.go": false, "x.log": true, "build/o.go": true, "sub/gen.go": true, "sub/real.go": false,
		"vendor/v.go": true, "node_modules/m/i.js": true, "deep/build/o.go": true, ".git/config": true,
	}
	for rel, want := range cases {
		if got := c.ignored(filepath.Join(root, rel), false); got != want {
			t.Errorf("ignored(%s) = %v, want %v", rel, got, want)
		}
	}
	if !c.ignored(filepath.Join(root, "build"), true) {
		t.Error("folder build/ not ignored")
	}
}
