package index

import (
	"context"
	"errors"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"
)

// scan is the first walk: it lists the files, watches every folder, then
// tags the files on opts.Workers goroutines.
func (ix *Index) scan(ctx context.Context) {
	defer ix.done.Done()
	defer close(ix.ready)
	start := time.Now()
	type job struct {
		path string
		info fs.FileInfo
	}
	var jobs []job
	var size int64
	wopts := ix.opts.Walk
	wopts.Dir = ix.watchDir
	err := Walk(ix.root, wopts, func(path string, info fs.FileInfo) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if l, over := ix.over(len(jobs)+1, size+info.Size()); over {
			ix.hitLimit(l)
			return errLimit
		}
		size += info.Size()
		jobs = append(jobs, job{path, info})
		return nil
	}, nil)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, errLimit) {
		ix.opts.Logf("index: walking %s: %v", ix.root, err)
	}
	total := len(jobs)
	report := func(done int, finished bool) {
		if ix.opts.Progress != nil {
			ix.opts.Progress(Progress{Done: done, Total: total, Finished: finished, Elapsed: time.Since(start),
				Limit: ix.limit()})
		}
	}
	report(0, false)
	var next, done atomic.Int64
	var lastReport atomic.Int64
	var wg sync.WaitGroup
	for range min(ix.opts.Workers, max(total, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				ix.apply(jobs[i].path, ix.loadDisk(ctx, jobs[i].path, jobs[i].info))
				n := done.Add(1)
				// Report about every 200 ms, not every file.
				if now := time.Since(start).Milliseconds(); now-lastReport.Load() >= 200 {
					lastReport.Store(now)
					report(int(n), false)
				}
			}
		}()
	}
	wg.Wait()
	report(int(done.Load()), true)
}

// rescan walks the whole tree again after the watcher lost events: new and
// changed files are tagged, vanished ones removed. Like the first scan it
// stops at the caps, so the table holds the first files in the walk's
// order.
func (ix *Index) rescan(ctx context.Context) {
	ix.ignore.reset()
	seen := map[string]bool{}
	var size int64
	opts := ix.opts.Walk
	opts.Dir = ix.watchDir
	err := walkSubtreeWith(ix.ignore, opts, ix.root, func(p string, info fs.FileInfo) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if l, over := ix.over(len(seen)+1, size+info.Size()); over {
			ix.hitLimit(l)
			return errLimit
		}
		size += info.Size()
		seen[p] = true
		ix.mu.RLock()
		e := ix.files[p]
		ix.mu.RUnlock()
		if e != nil && !e.gone && !e.buffer && e.modTime.Equal(info.ModTime()) && e.size == info.Size() {
			return nil
		}
		ix.apply(p, ix.loadDisk(ctx, p, info))
		return nil
	})
	if err != nil && !errors.Is(err, errLimit) {
		ix.opts.Logf("index: rescanning %s: %v", ix.root, err)
		return
	}
	seq := ix.seq.Add(1)
	ix.mu.RLock()
	var victims []string
	for p, e := range ix.files {
		if !e.gone && !seen[p] {
			victims = append(victims, p)
		}
	}
	ix.mu.RUnlock()
	for _, p := range victims {
		ix.apply(p, &fileEntry{seq: seq, gone: true})
	}
}
