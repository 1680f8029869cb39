package index

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
)

func (ix *Index) abs(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// rel is path as headers show it: relative to the root when inside it.
func (ix *Index) rel(path string) string {
	if r, err := filepath.Rel(ix.root, path); err == nil && within(ix.root, path) {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(path)
}

// moduleNames are the names code elsewhere may qualify path's definitions
// with: its folder's name and its own name without the extension.
func moduleNames(path string) [2]string {
	base := filepath.Base(path)
	return [2]string{filepath.Base(filepath.Dir(path)), strings.TrimSuffix(base, filepath.Ext(base))}
}

// loadDisk reads and tags a file from disk, stamped with a fresh sequence
// number. A file the walk would skip (binary, too large) yields no tags.
func (ix *Index) loadDisk(ctx context.Context, path string, info fs.FileInfo) *fileEntry {
	e := &fileEntry{lang: langOf(path), seq: ix.seq.Add(1), modTime: info.ModTime(), size: info.Size()}
	cq := ix.queries[e.lang]
	if cq == nil {
		return e // no tagger: known to exist, nothing to extract
	}
	if reason, _ := checkFile(path, info, ix.opts.Walk); reason != "" {
		return e
	}
	src, err := readRegular(path, ix.opts.Walk.MaxFileSize)
	if err != nil {
		ix.opts.Logf("index: reading %s: %v", path, err)
		return e
	}
	ix.tag(ctx, cq, path, src, e)
	return e
}

func (ix *Index) tag(ctx context.Context, cq *compiledQuery, path string, src []byte, e *fileEntry) {
	tg, err := extract(ctx, cq, path, src)
	if err != nil {
		ix.opts.Logf("index: %v", err)
		return
	}
	e.tags = tg
}

// apply puts a file's new entry in the table unless a newer read, or an
// open buffer (for a read from disk), is already there.
func (ix *Index) apply(path string, e *fileEntry) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	old := ix.files[path]
	if old != nil && old.seq > e.seq {
		return false
	}
	if _, open := ix.buffers[path]; open && !e.buffer {
		return false
	}
	if old != nil {
		ix.drop(path, old)
	}
	ix.files[path] = e
	if e.gone {
		return true
	}
	ix.live++
	ix.bytes += e.size
	for _, d := range e.defs {
		ix.byName[d.Name] = append(ix.byName[d.Name], d)
	}
	for _, r := range e.refs {
		ix.refFiles[r]++
	}
	if len(e.defs) > 0 {
		for _, m := range moduleNames(path) {
			if ix.modules[m] == nil {
				ix.modules[m] = map[string]struct{}{}
			}
			ix.modules[m][path] = struct{}{}
		}
	}
	return true
}

// drop takes old's symbols out of the table. ix.mu is held.
func (ix *Index) drop(path string, old *fileEntry) {
	if old.gone {
		return
	}
	ix.live--
	ix.bytes -= old.size
	for _, d := range old.defs {
		list := ix.byName[d.Name]
		for i, s := range list {
			if s == d {
				list[i] = list[len(list)-1]
				list = list[:len(list)-1]
				break
			}
		}
		if len(list) == 0 {
			delete(ix.byName, d.Name)
		} else {
			ix.byName[d.Name] = list
		}
	}
	for _, r := range old.refs {
		if ix.refFiles[r]--; ix.refFiles[r] <= 0 {
			delete(ix.refFiles, r)
		}
	}
	for _, m := range moduleNames(path) {
		if set := ix.modules[m]; set != nil {
			delete(set, path)
			if len(set) == 0 {
				delete(ix.modules, m)
			}
		}
	}
}
