package index

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ignore "github.com/sabhiram/go-gitignore"
)

// ignoreCache answers Walk's question — would this path be left out? — for
// one path at a time, as file events arrive. It keeps each folder's
// compiled .gitignore. Safe for concurrent use.
type ignoreCache struct {
	root string
	opts WalkOptions
	// mu guards byDir.
	mu    sync.Mutex
	byDir map[string]*ignore.GitIgnore // nil value: the folder has none
}

func newIgnoreCache(root string, opts WalkOptions) *ignoreCache {
	opts.defaults()
	return &ignoreCache{root: root, opts: opts, byDir: map[string]*ignore.GitIgnore{}}
}

// reset forgets the compiled rules (a .gitignore changed).
func (c *ignoreCache) reset() {
	c.mu.Lock()
	clear(c.byDir)
	c.mu.Unlock()
}

func (c *ignoreCache) rulesOf(dir string) *ignore.GitIgnore {
	gi, ok := c.byDir[dir]
	if !ok {
		gi, _ = ignore.CompileIgnoreFile(filepath.Join(dir, ".gitignore"))
		c.byDir[dir] = gi
	}
	return gi
}

// stack is the .gitignore rules in force inside dir: root's down to dir's.
func (c *ignoreCache) stack(dir string) []rules {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stackLocked(dir)
}

func (c *ignoreCache) stackLocked(dir string) []rules {
	rel, err := filepath.Rel(c.root, dir)
	if err != nil || !within(c.root, dir) {
		return nil
	}
	var st []rules
	cur := c.root
	parts := []string{}
	if rel != "." {
		parts = strings.Split(rel, string(filepath.Separator))
	}
	for i := 0; ; i++ {
		if gi := c.rulesOf(cur); gi != nil {
			st = append(st, rules{dir: cur, gi: gi})
		}
		if i == len(parts) {
			return st
		}
		cur = filepath.Join(cur, parts[i])
	}
}

// ignored reports whether Walk from the root would leave path out because
// of its name, a skipped folder above it, or a .gitignore rule. It does
// not look at the file's content.
func (c *ignoreCache) ignored(path string, isDir bool) bool {
	if !within(c.root, path) {
		return true
	}
	rel, err := filepath.Rel(c.root, path)
	if err != nil || rel == "." {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &walker{opts: c.opts}
	parts := strings.Split(rel, string(filepath.Separator))
	cur := c.root
	for i, p := range parts {
		next := filepath.Join(cur, p)
		last := i == len(parts)-1
		dir := !last || isDir
		if dir && contains(c.opts.SkipDirs, p) {
			return true
		}
		if w.ignored(next, dir, c.stackLocked(cur)) {
			return true
		}
		cur = next
	}
	return false
}

// walkSubtreeWith walks dir, a folder under root, with the rules root's
// .gitignore files set for it, as Walk(root) would have.
func walkSubtreeWith(c *ignoreCache, opts WalkOptions, dir string, visit func(string, fs.FileInfo) error) error {
	opts.defaults()
	realRoot, err := filepath.EvalSymlinks(c.root)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	w := &walker{opts: opts, realRoot: realRoot, visit: visit, skipped: func(Skip) {}}
	var st []rules
	if dir != c.root {
		st = c.stack(filepath.Dir(dir))
	}
	return w.dir(dir, st)
}
