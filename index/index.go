package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options steer an Index. Zero values mean defaults.
type Options struct {
	Walk WalkOptions
	// Progress, when set, hears how the first scan goes; it is called from
	// the scanning goroutine and must not block for long.
	Progress func(Progress)
	// Logf, when set, hears what went wrong in the background (a folder
	// that could not be watched, a file that would not parse).
	Logf func(format string, args ...any)
	// NoWatch leaves out the file watcher: the index then changes only
	// through UpdateBuffer and CloseBuffer (benchmarks, one-shot commands).
	NoWatch bool
	// Workers parse files in parallel during the first scan; 0 = half the
	// cores (at least one), leaving the rest to completions.
	Workers int
	// BufferDelay is how long an edited buffer must stay quiet before it
	// is parsed again, so typing does not reparse on every keystroke;
	// 0 = 250 ms, negative = at once.
	BufferDelay time.Duration
	// RingChunks and ChunkLines size the ring of recent chunks; 0 = 16 and 64.
	RingChunks, ChunkLines int
	// MaxFiles, MaxBytes and MaxWatches bound what one workspace may cost,
	// since a root such as /usr or a home folder holds far more than a
	// project: the files in the table, their total size on disk, and the
	// folders watched. 0 = DefaultMaxFiles, DefaultMaxBytes and
	// DefaultMaxWatches; negative = no limit. At a cap the index keeps what
	// it has (the first files in the walk's order), says so once through
	// Logf, and names the cap in Progress.Limit and Stats.Limit.
	MaxFiles   int
	MaxBytes   int64
	MaxWatches int
}

// The caps an index has unless Options set others: room for a large
// repository, while a root such as /usr or a home folder stops there
// instead of growing with the disk (and taking every inotify watch).
const (
	DefaultMaxFiles   = 20_000
	DefaultMaxBytes   = 200 << 20
	DefaultMaxWatches = 8192
)

// Progress is how far the first scan has got.
type Progress struct {
	Done, Total int // files
	Finished    bool
	Elapsed     time.Duration
	// Limit is "" unless a cap of Options was hit: which one, what it
	// left out, and what the user can do (see Stats.Limit).
	Limit string
}

// An Index is a workspace's symbol table and ring of recent chunks, kept up
// to date in the background. Its methods are safe for concurrent use, and
// none of them waits for I/O or parsing except Flush and WaitReady.
type Index struct {
	root    string
	opts    Options
	queries map[string]*compiledQuery // by language; closed by Close
	ignore  *ignoreCache
	watcher *fsnotify.Watcher // nil with NoWatch
	seq     atomic.Uint64     // orders reads of a file's text (see fileEntry.seq)
	ring    *ring
	work    *queue
	ready   chan struct{}
	cancel  context.CancelFunc
	// quiet delays buffer reparses until typing pauses.
	quiet *debouncer
	done  sync.WaitGroup
	// hit marks the caps of Options reached so far, by limit.
	hit [numLimits]atomic.Bool

	// watchMu guards watched: the folders the watcher has, for MaxWatches.
	watchMu sync.Mutex
	watched map[string]bool

	// mu guards files, buffers, byName, refFiles, modules, live and bytes.
	// Writers hold it only to swap one file's entries, readers only to look
	// names up.
	mu       sync.RWMutex
	files    map[string]*fileEntry
	buffers  map[string]string // open editor buffers: they win over disk
	byName   map[string][]*Symbol
	refFiles map[string]int32 // how many files refer to a name
	// modules maps the names code qualifies with (a Go or Java package's
	// folder name, a Python or JavaScript module's file name) to the files
	// with definitions that go by it.
	modules map[string]map[string]struct{}
	live    int   // files present (not gone)
	bytes   int64 // their size on disk (editor buffers count nothing)
}

// fileEntry is what the index knows of one file.
type fileEntry struct {
	lang    string
	seq     uint64 // when its text was read; an older read never replaces a newer one
	buffer  bool   // from an editor buffer rather than disk
	gone    bool   // deleted: kept so a late read of the old file cannot resurrect it
	modTime time.Time
	size    int64
	tags
}

// New makes an index of root and starts its first scan and its watcher in
// the background; use WaitReady or Ready to know when the scan is done.
func New(root string, opts Options) (*Index, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("index root %q: %w", root, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("index root: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("index root %s is not a folder; pass the workspace folder", abs)
	}
	opts.Walk.defaults()
	if opts.RingChunks <= 0 {
		opts.RingChunks = 16
	}
	if opts.ChunkLines <= 0 {
		opts.ChunkLines = 64
	}
	if opts.Workers <= 0 {
		opts.Workers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if opts.BufferDelay == 0 {
		opts.BufferDelay = 250 * time.Millisecond
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.MaxFiles == 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxWatches == 0 {
		opts.MaxWatches = DefaultMaxWatches
	}
	ix := &Index{root: abs, opts: opts, queries: map[string]*compiledQuery{}, quiet: newDebouncer(opts.BufferDelay),
		ignore: newIgnoreCache(abs, opts.Walk), ring: newRing(opts.RingChunks, opts.ChunkLines),
		work: newQueue(), ready: make(chan struct{}), watched: map[string]bool{},
		files: map[string]*fileEntry{}, buffers: map[string]string{},
		byName: map[string][]*Symbol{}, refFiles: map[string]int32{},
		modules: map[string]map[string]struct{}{}}
	for i := range taggers {
		cq, err := compileQuery(&taggers[i])
		if err != nil {
			ix.closeQueries()
			return nil, err
		}
		ix.queries[taggers[i].name] = cq
	}
	if !opts.NoWatch {
		if ix.watcher, err = fsnotify.NewWatcher(); err != nil {
			ix.closeQueries()
			return nil, fmt.Errorf("watching %s: %w (raise fs.inotify.max_user_instances, or run without watching)", abs, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ix.cancel = cancel
	ix.done.Add(2)
	go ix.scan(ctx)
	go ix.updater(ctx)
	if ix.watcher != nil {
		ix.done.Add(1)
		go ix.watch(ctx)
	}
	return ix, nil
}

// Root is the folder the index covers (absolute).
func (ix *Index) Root() string { return ix.root }

// Ready is closed when the first scan is done.
func (ix *Index) Ready() <-chan struct{} { return ix.ready }

// WaitReady waits for the first scan, or for ctx.
func (ix *Index) WaitReady(ctx context.Context) error {
	select {
	case <-ix.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush waits until every update queued so far (saved files, buffer
// edits, even those still waiting for typing to pause) is in the symbol
// table. File events the watcher has not yet delivered are not waited for.
func (ix *Index) Flush() {
	for _, p := range ix.quiet.fireAll() {
		ix.work.push(p)
	}
	ix.work.waitIdle()
}

// Close stops the watcher and the background work and frees the parsers
// and queries.
func (ix *Index) Close() error {
	ix.quiet.fireAll()
	ix.cancel()
	ix.work.close()
	var err error
	if ix.watcher != nil {
		err = ix.watcher.Close()
	}
	ix.done.Wait()
	ix.closeQueries()
	return err
}

func (ix *Index) closeQueries() {
	for _, cq := range ix.queries {
		cq.q.Close()
	}
	ix.queries = nil
}

// UpdateBuffer records an editor's unsaved text for path; it wins over the
// file on disk until CloseBuffer. The symbols are re-extracted in the
// background, and the edited lines enter the ring of recent chunks.
func (ix *Index) UpdateBuffer(path, text string) {
	path = ix.abs(path)
	ix.mu.Lock()
	old, had := ix.buffers[path]
	ix.buffers[path] = text
	ix.mu.Unlock()
	if had {
		if at, changed := editOffset(old, text); changed {
			ix.ring.touch(path, langOf(path), text, at)
		}
	}
	ix.quiet.after(path, func() { ix.work.push(path) })
}

// CloseBuffer forgets an editor buffer; path's symbols come from disk
// again (or go, when the file was never saved).
func (ix *Index) CloseBuffer(path string) {
	path = ix.abs(path)
	ix.mu.Lock()
	delete(ix.buffers, path)
	ix.mu.Unlock()
	ix.quiet.cancel(path)
	ix.work.push(path)
}

// Visit records that the user looked at offset in path (a document opened,
// the cursor jumped): the lines around it enter the ring of recent chunks.
func (ix *Index) Visit(path, text string, offset int) {
	path = ix.abs(path)
	ix.ring.touch(path, langOf(path), text, offset)
}

// Lookup returns the definitions of name, in no particular order.
func (ix *Index) Lookup(name string) []Symbol {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]Symbol, 0, len(ix.byName[name]))
	for _, s := range ix.byName[name] {
		out = append(out, *s)
	}
	return out
}

// Stats counts what the index holds.
type Stats struct {
	Files, Symbols, Names, Buffers int
	Bytes                          int64 // size on disk of the files
	Watches                        int   // folders watched
	// Limit is "" unless a cap of Options was hit: which one, what it
	// left out, and what the user can do; several are joined by "; ".
	Limit string
}

// Stats says how much the index holds now.
func (ix *Index) Stats() Stats {
	ix.watchMu.Lock()
	watches := len(ix.watched)
	ix.watchMu.Unlock()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := Stats{Files: ix.live, Names: len(ix.byName), Buffers: len(ix.buffers),
		Bytes: ix.bytes, Watches: watches, Limit: ix.limit()}
	for _, defs := range ix.byName {
		st.Symbols += len(defs)
	}
	return st
}

// A limit is one of the caps of Options.
type limit int

const (
	limitFiles limit = iota
	limitBytes
	limitWatches
	numLimits
)

// errLimit stops a walk at a cap.
var errLimit = errors.New("index: a cap of Options was hit")

// message says what hitting l means for the user and what they can do.
func (ix *Index) message(l limit) string {
	const fix = "open the project's own folder as the workspace"
	switch l {
	case limitFiles:
		return fmt.Sprintf("%s holds more than %d files; only the first %d are indexed for cross-file context; %s",
			ix.root, ix.opts.MaxFiles, ix.opts.MaxFiles, fix)
	case limitBytes:
		size := fmt.Sprintf("%d MB", ix.opts.MaxBytes>>20)
		if ix.opts.MaxBytes < 1<<20 {
			size = fmt.Sprintf("%d bytes", ix.opts.MaxBytes)
		}
		return fmt.Sprintf("the files under %s come to more than %s; only the first %s are indexed for cross-file context; %s",
			ix.root, size, size, fix)
	default:
		return fmt.Sprintf("%d folders under %s are watched, the most allowed; changes elsewhere are seen only in files open in the editor; %s",
			ix.opts.MaxWatches, ix.root, fix)
	}
}

// hitLimit records that l was reached, logging it the first time.
func (ix *Index) hitLimit(l limit) {
	if ix.hit[l].CompareAndSwap(false, true) {
		ix.opts.Logf("index: %s", ix.message(l))
	}
}

// limit joins the messages of the caps hit so far; "" when none.
func (ix *Index) limit() string {
	var msgs []string
	for l := range numLimits {
		if ix.hit[l].Load() {
			msgs = append(msgs, ix.message(l))
		}
	}
	return strings.Join(msgs, "; ")
}

// over says which cap a table of files files and bytes bytes would pass.
func (ix *Index) over(files int, bytes int64) (limit, bool) {
	if m := ix.opts.MaxFiles; m > 0 && files > m {
		return limitFiles, true
	}
	if m := ix.opts.MaxBytes; m > 0 && bytes > m {
		return limitBytes, true
	}
	return 0, false
}

// admit says whether a file read after the first scan (a file event, a new
// folder) may enter the table: one already there always may, a new one
// only under the caps.
func (ix *Index) admit(path string, size int64) bool {
	ix.mu.RLock()
	e := ix.files[path]
	files, bytes := ix.live, ix.bytes
	ix.mu.RUnlock()
	if e != nil && !e.gone {
		return true
	}
	if l, over := ix.over(files+1, bytes+size); over {
		ix.hitLimit(l)
		return false
	}
	return true
}

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
	if err := ix.watcher.Add(dir); err != nil {
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

// queue is the set of paths waiting for the updater, oldest first; a path
// queued twice is updated once.
type queue struct {
	// mu guards the fields below; cond signals pushes, pops and idleness.
	mu      sync.Mutex
	cond    *sync.Cond
	order   []string
	pending map[string]bool
	busy    bool
	closed  bool
}

func newQueue() *queue {
	q := &queue{pending: map[string]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *queue) push(path string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.pending[path] {
		return
	}
	q.pending[path] = true
	q.order = append(q.order, path)
	q.cond.Broadcast()
}

// pop waits for a path; false once the queue is closed.
func (q *queue) pop() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return "", false
	}
	p := q.order[0]
	q.order = q.order[1:]
	delete(q.pending, p)
	q.busy = true
	return p, true
}

// finish marks the popped path done.
func (q *queue) finish() {
	q.mu.Lock()
	q.busy = false
	q.cond.Broadcast()
	q.mu.Unlock()
}

func (q *queue) waitIdle() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for (len(q.order) > 0 || q.busy) && !q.closed {
		q.cond.Wait()
	}
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// editOffset finds where new differs from old: the end of their common
// prefix. changed is false when they are equal.
func editOffset(old, new string) (at int, changed bool) {
	if old == new {
		return 0, false
	}
	n := min(len(old), len(new))
	i := 0
	for i < n && old[i] == new[i] {
		i++
	}
	return i, true
}

// debouncer runs an action for a key once calls for it pause for delay.
type debouncer struct {
	delay time.Duration
	// mu guards timers.
	mu     sync.Mutex
	timers map[string]*time.Timer
}

func newDebouncer(delay time.Duration) *debouncer {
	return &debouncer{delay: delay, timers: map[string]*time.Timer{}}
}

// after (re)starts key's timer; f runs when it fires.
func (d *debouncer) after(key string, f func()) {
	if d.delay < 0 {
		f()
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.timers[key]; t != nil {
		t.Stop()
	}
	d.timers[key] = time.AfterFunc(d.delay, func() {
		d.mu.Lock()
		delete(d.timers, key)
		d.mu.Unlock()
		f()
	})
}

// cancel drops key's pending action.
func (d *debouncer) cancel(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.timers[key]; t != nil {
		t.Stop()
		delete(d.timers, key)
	}
}

// fireAll stops every pending timer and returns their keys, for the caller
// to act on now.
func (d *debouncer) fireAll() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var keys []string
	for k, t := range d.timers {
		// A timer that fired already may not have queued its key yet:
		// the caller queues it too (a path queued twice is updated once,
		// or once more from the same text).
		t.Stop()
		keys = append(keys, k)
		delete(d.timers, k)
	}
	return keys
}
