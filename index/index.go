package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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
	// Budget, when set, holds caps shared with the other indexes given
	// the same Budget, on top of the caps above.
	Budget *Budget
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
	// claimFiles and claimBytes are what this index claimed from
	// opts.Budget; the Budget's mu guards them.
	claimFiles int
	claimBytes int64

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
	if b := ix.opts.Budget; b != nil {
		b.release(ix)
		ix.watchMu.Lock()
		b.giveWatches(len(ix.watched))
		ix.watched = map[string]bool{}
		ix.watchMu.Unlock()
	}
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
