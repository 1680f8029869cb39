package index

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// watchDir adds a folder to the watcher (fsnotify is not recursive),
// unless MaxWatches folders are watched already.
func (ix *Index) watchDir(dir string) {
	if ix.watcher == nil {
		return
	}
	ix.watchMu.Lock()
	defer ix.watchMu.Unlock()
	if ix.watched[dir] {
		return
	}
	if m := ix.opts.MaxWatches; m > 0 && len(ix.watched) >= m {
		ix.hitLimit(limitWatches)
		return
	}
	b := ix.opts.Budget
	if b != nil && !b.takeWatch() {
		ix.hitLimit(limitSharedWatches)
		return
	}
	if err := ix.watcher.Add(dir); err != nil {
		if b != nil {
			b.giveWatches(1)
		}
		ix.opts.Logf("index: watching %s: %v (changes there are seen only when saved in the editor; raise fs.inotify.max_user_watches)", dir, err)
		return
	}
	ix.watched[dir] = true
}

// unwatch forgets the watches on path and the folders under it, which are
// gone, so they no longer count against MaxWatches.
func (ix *Index) unwatch(path string) {
	if ix.watcher == nil {
		return
	}
	ix.watchMu.Lock()
	defer ix.watchMu.Unlock()
	prefix := path + string(filepath.Separator)
	for dir := range ix.watched {
		if dir == path || strings.HasPrefix(dir, prefix) {
			_ = ix.watcher.Remove(dir) // the kernel may have dropped it already
			delete(ix.watched, dir)
			if ix.opts.Budget != nil {
				ix.opts.Budget.giveWatches(1)
			}
		}
	}
}

// rescanJob is the queue item that asks for a full rescan.
const rescanJob = "\x00rescan"

// updater applies queued changes one at a time: buffer edits, file
// events, rescans.
func (ix *Index) updater(ctx context.Context) {
	defer ix.done.Done()
	for {
		path, ok := ix.work.pop()
		if !ok {
			return
		}
		if path == rescanJob {
			ix.rescan(ctx)
		} else {
			ix.update(ctx, path)
		}
		ix.work.finish()
	}
}

// update brings one path up to date from its buffer or from disk.
func (ix *Index) update(ctx context.Context, path string) {
	ix.mu.RLock()
	text, open := ix.buffers[path]
	seq := ix.seq.Add(1) // stamped under the lock, so it orders with buffer writes
	ix.mu.RUnlock()
	if open {
		e := &fileEntry{lang: langOf(path), seq: seq, buffer: true}
		if cq := ix.queries[e.lang]; cq != nil {
			ix.tag(ctx, cq, path, []byte(text), e)
		}
		ix.apply(path, e)
		return
	}
	info, err := os.Stat(path)
	switch {
	case err != nil:
		ix.remove(path)
		ix.unwatch(path)
	case info.IsDir():
		if ix.ignore.ignored(path, true) {
			return
		}
		// A new folder: watch it and everything already in it.
		opts := ix.opts.Walk
		opts.Dir = ix.watchDir
		_ = walkSubtreeWith(ix.ignore, opts, path, func(p string, info fs.FileInfo) error {
			if !ix.admit(p, info.Size()) {
				return errLimit
			}
			ix.apply(p, ix.loadDisk(ctx, p, info))
			return nil
		})
	case info.Mode().IsRegular():
		if ix.ignore.ignored(path, false) || !ix.admit(path, info.Size()) {
			return
		}
		ix.apply(path, ix.loadDisk(ctx, path, info))
	}
}

// remove marks path, and every file under it when it was a folder, gone.
func (ix *Index) remove(path string) {
	seq := ix.seq.Add(1)
	ix.mu.RLock()
	var victims []string
	prefix := path + string(filepath.Separator)
	for p, e := range ix.files {
		if !e.gone && (p == path || len(p) > len(prefix) && p[:len(prefix)] == prefix) {
			victims = append(victims, p)
		}
	}
	ix.mu.RUnlock()
	for _, p := range victims {
		ix.apply(p, &fileEntry{seq: seq, gone: true})
	}
}

// watch turns file events into queued updates.
func (ix *Index) watch(ctx context.Context) {
	defer ix.done.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ix.watcher.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) == ".gitignore" {
				ix.work.push(rescanJob)
				continue
			}
			if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Create) {
				continue
			}
			ix.work.push(filepath.Clean(ev.Name))
		case err, ok := <-ix.watcher.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				ix.opts.Logf("index: file events overflowed; rescanning %s", ix.root)
				ix.work.push(rescanJob)
				continue
			}
			ix.opts.Logf("index: watching %s: %v", ix.root, err)
		}
	}
}
