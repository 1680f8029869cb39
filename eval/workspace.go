package eval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dfim/dfim/index"
)

// DefaultContextBytes is the cross-file context budget of a task, as the
// language server's crossFileContextBytes setting defaults to.
const DefaultContextBytes = 1500

// A Workspace gives tasks cross-file context from an index of the folder
// their paths are relative to, as an editor open on that folder would.
type Workspace struct {
	ix  *index.Index
	dir string
	// Budget is the most bytes of context a task gets.
	Budget int
}

// OpenWorkspace indexes dir (without watching it) and waits for the first
// scan, or for ctx.
func OpenWorkspace(ctx context.Context, dir string, budget int) (*Workspace, error) {
	ix, err := index.New(dir, index.Options{NoWatch: true})
	if err != nil {
		return nil, fmt.Errorf("indexing workspace: %w", err)
	}
	if err := ix.WaitReady(ctx); err != nil {
		ix.Close()
		return nil, fmt.Errorf("indexing workspace %s: %w", dir, err)
	}
	return &Workspace{ix: ix, dir: ix.Root(), Budget: budget}, nil
}

// Stats says what the workspace's index holds.
func (w *Workspace) Stats() index.Stats { return w.ix.Stats() }

// File returns the file of the workspace that t's path names, or "" when
// the path is not a local path of a file under the workspace (a task of
// dev.jsonl, whose paths name the Go source tree).
func (w *Workspace) File(t *Task) string {
	p := filepath.FromSlash(t.Path)
	if !filepath.IsLocal(p) {
		return ""
	}
	p = filepath.Join(w.dir, p)
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	return p
}

// Context is the cross-file context of t: what index.Context gives for a
// cursor where t's middle starts, in a document that is its prefix and
// suffix. The file's own definitions are never offered, so the middle on
// disk does not leak. "" for a task outside the workspace.
func (w *Workspace) Context(t *Task) string {
	file := w.File(t)
	if file == "" {
		return ""
	}
	return w.ix.Context(file, t.Prefix+t.Suffix, len(t.Prefix), w.Budget)
}

// Close stops the index.
func (w *Workspace) Close() error { return w.ix.Close() }
