package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// logRecorder keeps what an index logs (from its goroutines).
type logRecorder struct {
	t  *testing.T
	mu sync.Mutex
	// lines is guarded by mu.
	lines []string
}

func (r *logRecorder) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.t.Log(msg)
	r.mu.Lock()
	r.lines = append(r.lines, msg)
	r.mu.Unlock()
}

// count is how many lines hold s.
func (r *logRecorder) count(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range r.lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// openCapped builds an index of root with opts, recording its log and
// its last progress report, and waits for the first scan.
func openCapped(t *testing.T, root string, opts Options) (*Index, *logRecorder, *Progress) {
	t.Helper()
	rec := &logRecorder{t: t}
	var last Progress
	opts.Logf = rec.logf
	opts.Progress = func(p Progress) { last = p }
	ix, err := New(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ix.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return ix, rec, &last
}

// TestMaxFiles: a tree with more files than MaxFiles is indexed up to the
// cap, which is logged once and named in Progress and Stats; a file that
// appears later stays out, while one already indexed is still updated.
func TestMaxFiles(t *testing.T) {
	root := t.TempDir()
	for i := range 10 {
		write(t, root, fmt.Sprintf("f%d.go", i), fmt.Sprintf("package p\n\nfunc F%d() {}\n", i))
	}
	ix, log, last := openCapped(t, root, Options{NoWatch: true, MaxFiles: 4})
	st := ix.Stats()
	if st.Files != 4 || st.Symbols != 4 {
		t.Errorf("indexed %d files, %d definitions; want the cap, 4 and 4", st.Files, st.Symbols)
	}
	const msg = "more than 4 files; only the first 4 are indexed"
	if !strings.Contains(st.Limit, msg) || !strings.Contains(st.Limit, "open the project's own folder") {
		t.Errorf("Stats.Limit = %q; want it to say %q and what to do", st.Limit, msg)
	}
	if !last.Finished || last.Total != 4 || !strings.Contains(last.Limit, msg) {
		t.Errorf("last progress %+v; want finished, 4 files and the cap named", *last)
	}
	if n := log.count(msg); n != 1 {
		t.Errorf("the cap was logged %d times, want once", n)
	}

	// After the scan: a new file is not admitted, a known one is reread.
	write(t, root, "new.go", "package p\n\nfunc Late() {}\n")
	write(t, root, "f0.go", "package p\n\nfunc Renamed() {}\n")
	ix.work.push(filepath.Join(root, "new.go"))
	ix.work.push(filepath.Join(root, "f0.go"))
	ix.Flush()
	if got := ix.Lookup("Late"); len(got) != 0 {
		t.Errorf("a file past the cap was indexed: %v", got)
	}
	if got := ix.Lookup("Renamed"); len(got) != 1 {
		t.Errorf("an indexed file was not updated: Renamed in %v", got)
	}
	if st := ix.Stats(); st.Files != 4 {
		t.Errorf("%d files after the updates, want 4", st.Files)
	}
	if n := log.count(msg); n != 1 {
		t.Errorf("the cap was logged %d times, want once", n)
	}

	// A rescan (after lost events) keeps to the cap too.
	ix.work.push(rescanJob)
	ix.Flush()
	if st := ix.Stats(); st.Files != 4 {
		t.Errorf("%d files after a rescan, want 4", st.Files)
	}
}

// TestMaxBytes: the files' total size stops the index at MaxBytes.
func TestMaxBytes(t *testing.T) {
	root := t.TempDir()
	body := "package p\n\n" + strings.Repeat("// padding\n", 8) // 99 bytes
	for i := range 6 {
		write(t, root, fmt.Sprintf("f%d.go", i), body+fmt.Sprintf("func F%d() {}\n", i))
	}
	ix, log, last := openCapped(t, root, Options{NoWatch: true, MaxBytes: 250})
	st := ix.Stats()
	if st.Files != 2 || st.Bytes > 250 || st.Bytes == 0 {
		t.Errorf("indexed %d files of %d bytes; want 2 under the 250-byte cap", st.Files, st.Bytes)
	}
	const msg = "come to more than 250 bytes; only the first 250 bytes are indexed"
	if !strings.Contains(st.Limit, msg) || !strings.Contains(last.Limit, msg) || log.count(msg) != 1 {
		t.Errorf("Stats.Limit %q, Progress.Limit %q; want the bytes cap named, and logged once", st.Limit, last.Limit)
	}
}

// TestMaxWatches: past MaxWatches folders the index stops adding watches
// (the files there are still indexed), and a folder that goes gives its
// watch back.
func TestMaxWatches(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a", "b", "c", "d", "e"} {
		write(t, root, d+"/x.go", "package "+d+"\n\nfunc X() {}\n")
	}
	ix, log, last := openCapped(t, root, Options{MaxWatches: 3})
	st := ix.Stats()
	if st.Watches != 3 || st.Files != 5 {
		t.Errorf("%d folders watched, %d files indexed; want 3 (the cap) and 5", st.Watches, st.Files)
	}
	const msg = "3 folders under"
	if !strings.Contains(st.Limit, msg) || !strings.Contains(last.Limit, msg) || log.count(msg) != 1 {
		t.Errorf("Stats.Limit %q, Progress.Limit %q; want the watch cap named, and logged once", st.Limit, last.Limit)
	}
	// The walk watches the root, then a and b.
	if err := os.RemoveAll(filepath.Join(root, "a")); err != nil {
		t.Fatal(err)
	}
	ix.work.push(filepath.Join(root, "a"))
	ix.Flush()
	if st := ix.Stats(); st.Watches != 2 {
		t.Errorf("%d folders watched after one was removed, want 2", st.Watches)
	}
}

// TestDefaultCaps: an index without caps in its Options gets the defaults.
func TestDefaultCaps(t *testing.T) {
	ix := openIndex(t, t.TempDir(), Options{NoWatch: true})
	if ix.opts.MaxFiles != DefaultMaxFiles || ix.opts.MaxBytes != DefaultMaxBytes || ix.opts.MaxWatches != DefaultMaxWatches {
		t.Errorf("caps %d files, %d bytes, %d watches; want the defaults", ix.opts.MaxFiles, ix.opts.MaxBytes, ix.opts.MaxWatches)
	}
}

// TestBudgetSharedByIndexes: indexes given one Budget (the sessions of one
// server) share its caps: three indexes of five folders each under a
// budget of 8 watches and 7 files hold 8 and 7 together, not 15 and 15 (each
// index used to apply the caps alone), the later ones say the shared cap
// was hit, and closing an index gives its share back.
func TestBudgetSharedByIndexes(t *testing.T) {
	b := NewBudget(7, 0, 8)
	var ixs []*Index
	for range 3 {
		root := t.TempDir()
		for _, d := range []string{"a", "b", "c", "d"} {
			write(t, root, d+"/x.go", "package "+d+"\n\nfunc X() {}\n")
		}
		ix, _, _ := openCapped(t, root, Options{Budget: b})
		ixs = append(ixs, ix)
	}
	files, watches := 0, 0
	for _, ix := range ixs {
		st := ix.Stats()
		files += st.Files
		watches += st.Watches
	}
	if files != 7 || watches != 8 {
		t.Errorf("three indexes hold %d files and watch %d folders; want the shared caps, 7 and 8", files, watches)
	}
	if u := b.Use(); u.Files != 7 || u.Watches != 8 {
		t.Errorf("budget use %+v; want 7 files and 8 watches", u)
	}
	if st := ixs[2].Stats(); !strings.Contains(st.Limit, "all the sessions of this dfim server together") {
		t.Errorf("the last index's Stats.Limit %q; want the shared cap named", st.Limit)
	}
	for _, ix := range ixs {
		ix.Close()
	}
	if u := b.Use(); u != (BudgetUse{}) {
		t.Errorf("budget use after every index closed: %+v; want nothing", u)
	}
}
