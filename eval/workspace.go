package eval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dfim/dfim/index"
)

// A Workspace gives tasks cross-file context from an index of the folder
// their paths are relative to, as an editor open on that folder would.
type Workspace struct {
	ix  *index.Index
	dir string
}

// OpenWorkspace indexes dir (without watching it) and waits for the first
// scan, or for ctx.
func OpenWorkspace(ctx context.Context, dir string) (*Workspace, error) {
	ix, err := index.New(dir, index.Options{NoWatch: true})
	if err != nil {
		return nil, fmt.Errorf("indexing workspace: %w", err)
	}
	if err := ix.WaitReady(ctx); err != nil {
		ix.Close()
		return nil, fmt.Errorf("indexing workspace %s: %w", dir, err)
	}
	return &Workspace{ix: ix, dir: ix.Root()}, nil
}

// Stats says what the workspace's index holds.
func (w *Workspace) Stats() index.Stats { return w.ix.Stats() }

// File returns the file of the workspace that t's path names, or "" when
// the path is not a local path of a file under the workspace (a task of
// dev.jsonl, whose paths name the Go source tree).
func (w *Workspace) File(t *Task) string { return w.file(t.Path) }

// file is the file under the workspace that the slash-separated task path
// names, or "".
func (w *Workspace) file(path string) string {
	p := filepath.FromSlash(path)
	if !filepath.IsLocal(p) {
		return ""
	}
	p = filepath.Join(w.dir, p)
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	return p
}

// Context makes a Workspace an infill.ContextSource for tasks: path is a
// task's path, relative to the workspace, and text its prefix and suffix.
// The file's own definitions are never offered, so the middle on disk
// does not leak. "" for a task outside the workspace.
func (w *Workspace) Context(path, text string, offset, budget int) string {
	file := w.file(path)
	if file == "" {
		return ""
	}
	return w.ix.Context(file, text, offset, budget)
}

// Close stops the index.
func (w *Workspace) Close() error { return w.ix.Close() }
