package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// goroot is the Go source tree, the benchmarks' workspace (about 11,000
// files, 7,700 of them Go).
func goroot(b *testing.B) string {
	src := filepath.Join(runtime.GOROOT(), "src")
	if _, err := os.Stat(filepath.Join(src, "net", "http", "server.go")); err != nil {
		b.Skipf("no Go source tree at %s", src)
	}
	return src
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkIndexGoroot builds the index of $GOROOT/src from nothing:
// files/s, MB/s of text tagged, and the heap the finished index keeps.
func BenchmarkIndexGoroot(b *testing.B) {
	root := goroot(b)
	b.ReportAllocs()
	var files int
	var bytes int64
	var heap float64
	for b.Loop() {
		base := heapMB()
		ix, err := New(root, Options{NoWatch: true, Workers: runtime.GOMAXPROCS(0), Progress: func(p Progress) { files = p.Total }})
		if err != nil {
			b.Fatal(err)
		}
		if err := ix.WaitReady(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		heap = heapMB() - base
		bytes = 0
		ix.mu.RLock()
		for _, e := range ix.files {
			bytes += e.size
		}
		ix.mu.RUnlock()
		st := ix.Stats()
		b.ReportMetric(float64(st.Symbols), "symbols")
		ix.Close()
		b.StartTimer()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(files)/sec, "files/s")
	b.ReportMetric(float64(bytes)/(1<<20)/sec, "MB/s")
	b.ReportMetric(heap, "MB")
}

// shared is one index of $GOROOT/src for the retrieval benchmarks.
var shared struct {
	once sync.Once
	ix   *Index
	err  error
}

func sharedIndex(b *testing.B) *Index {
	root := goroot(b)
	shared.once.Do(func() {
		shared.ix, shared.err = New(root, Options{NoWatch: true, Workers: runtime.GOMAXPROCS(0)})
		if shared.err == nil {
			shared.err = shared.ix.WaitReady(context.Background())
		}
	})
	if shared.err != nil {
		b.Fatal(shared.err)
	}
	return shared.ix
}

// BenchmarkContext is retrieval for one completion on the $GOROOT/src
// index: cursors in net/http/server.go, with a full ring of recent chunks.
func BenchmarkContext(b *testing.B) {
	ix := sharedIndex(b)
	path := filepath.Join(ix.Root(), "net", "http", "server.go")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	text := string(data)
	// Fill the ring with chunks of other files the user "looked at".
	for i, rel := range []string{"net/http/request.go", "net/http/transport.go", "io/io.go", "bufio/bufio.go",
		"net/url/url.go", "context/context.go", "net/textproto/reader.go", "crypto/tls/conn.go"} {
		if d, err := os.ReadFile(filepath.Join(ix.Root(), rel)); err == nil {
			ix.Visit(filepath.Join(ix.Root(), rel), string(d), len(d)*(i+1)/10)
			ix.Visit(filepath.Join(ix.Root(), rel), string(d), len(d)*(i+5)/10)
		}
	}
	var cursors []int
	for _, needle := range []string{"w.conn.bufw", "req.Header.Get(", "c.rwc.SetReadDeadline(", "http.StatusBadRequest"} {
		if i := strings.Index(text, needle); i >= 0 {
			cursors = append(cursors, i+len(needle)/2)
		}
	}
	if len(cursors) == 0 {
		cursors = []int{len(text) / 2}
	}
	b.ReportAllocs()
	n, size := 0, 0
	for b.Loop() {
		size += len(ix.Context(path, text, cursors[n%len(cursors)], 4096))
		n++
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(n), "ms/completion")
	b.ReportMetric(float64(size)/float64(n), "bytes/completion")
}

// BenchmarkUpdateAfterSave is the time from writing a file to its new
// definition being in the table, through the watcher, in a workspace of
// net/http's files; and, for comparison, from UpdateBuffer to the same.
func BenchmarkUpdateAfterSave(b *testing.B) {
	src := filepath.Join(goroot(b), "net", "http")
	root := b.TempDir()
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".go") {
			if d, err := os.ReadFile(filepath.Join(src, e.Name())); err == nil {
				os.WriteFile(filepath.Join(root, e.Name()), d, 0o644)
			}
		}
	}
	orig, err := os.ReadFile(filepath.Join(root, "server.go"))
	if err != nil {
		b.Skip("no net/http/server.go")
	}
	ix, err := New(root, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	ix.WaitReady(context.Background())
	path := filepath.Join(root, "server.go")
	version := func(i int) (string, string) {
		name := fmt.Sprintf("Saved%d", i)
		return name, string(orig) + "\nfunc " + name + "() {}\n"
	}
	seen := func(name string) bool {
		ix.mu.RLock()
		defer ix.mu.RUnlock()
		return len(ix.byName[name]) > 0
	}
	b.Run("disk", func(b *testing.B) {
		i := 0
		for b.Loop() {
			name, text := version(i)
			i++
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				b.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !seen(name) {
				if time.Now().After(deadline) {
					b.Fatalf("%s never indexed", name)
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(i), "ms/update")
		b.SetBytes(int64(len(orig)))
	})
	b.Run("buffer", func(b *testing.B) {
		i := 0
		for b.Loop() {
			name, text := version(1_000_000 + i)
			i++
			ix.UpdateBuffer(path, text)
			ix.Flush()
			if !seen(name) {
				b.Fatalf("%s not indexed after Flush", name)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(i), "ms/update")
		b.SetBytes(int64(len(orig)))
	})
}
