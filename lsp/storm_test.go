package lsp

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
)

// fixedDenoiser fills every hole with the same text, at once.
type fixedDenoiser struct{ text string }

func (d fixedDenoiser) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	if err := ctx.Err(); err != nil {
		return engine.Result{}, err
	}
	var holes []string
	var toks []int
	for _, s := range req.Segments {
		if s.Hole {
			holes = append(holes, d.text)
			toks = append(toks, 2)
		}
	}
	return engine.Result{Candidates: []engine.Fill{{Holes: holes, Tokens: toks, Confidence: 0.9}}, Steps: 1, Tokens: 2}, nil
}

func (fixedDenoiser) Close() error { return nil }

// stormDoc is a Go file of a few kilobytes (the parser checks its
// cancellation flag only every 100 parse actions, so a tiny file would
// never notice it) with a comment line to type into.
func stormDoc() string {
	var b strings.Builder
	b.WriteString("package p\n\n// typed: \n\n")
	for i := range 60 {
		fmt.Fprintf(&b, "func f%d(x int) int {\n\tif x > %d {\n\t\treturn x + 1\n\t}\n\treturn 0\n}\n\n", i, i)
	}
	return b.String()
}

// TestQuietRequestsSucceedAfterCancelledTyping types fast into a Go file
// through infill (real tree-sitter validation) with every request
// overtaken by the next keystroke and cancelled, then asks quietly: each
// quiet request must come back with a suggestion, and dfim/stats must
// count no request that failed inside the server. A cancelled parse used
// to leave its parser's cancellation flag set in the pool, and every later
// completion failed with "operation limit was hit".
func TestQuietRequestsSucceedAfterCancelledTyping(t *testing.T) {
	if testing.Short() {
		t.Skip("a typing storm of a few seconds")
	}
	set := DefaultSettings()
	set.DebounceMs, set.InvokedDebounceMs = 0, 0
	set.CrossFileContext = false
	comp := infill.New(fixedDenoiser{text: "x"})
	defer comp.Close()
	c := startServer(t, Options{Completer: comp, Settings: set})
	c.initialize()
	const uri = "file:///storm.go"
	doc := stormDoc()
	c.open(uri, "go", doc)
	line, col := 2, len("// typed: ")

	const keys = 400
	sent := make(chan error, 1)
	go func() {
		for i := range keys {
			c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": uri, "version": i + 2},
				"contentChanges": []msg{{"range": msg{"start": posMsg(line, col), "end": posMsg(line, col)}, "text": "a"}}})
			col++
			c.request(100+i, MethodInlineCompletion, msg{"textDocument": msg{"uri": uri}, "position": posMsg(line, col),
				"context": msg{"triggerKind": 2}})
			// Vary the gap so cancellations land before, during and just
			// after the server's parses.
			time.Sleep(time.Duration(i%7) * 150 * time.Microsecond)
			c.notify("$/cancelRequest", msg{"id": 100 + i})
		}
		sent <- nil
	}()
	for answered := 0; answered < keys; {
		m := c.next()
		if id, ok := m["id"].(float64); ok && id >= 100 && id < 100+keys && m["method"] == nil {
			answered++
		}
	}
	<-sent

	for i := range 30 {
		m := c.call(1000+i, MethodInlineCompletion, msg{"textDocument": msg{"uri": uri}, "position": posMsg(line, col),
			"context": msg{"triggerKind": 1}})
		res, _ := m["result"].(map[string]any)
		if items, _ := res["items"].([]any); m["error"] != nil || len(items) == 0 {
			t.Errorf("quiet request %d after the storm: %v, want a suggestion", i, m)
		}
	}
	st := c.call(2000, MethodStats, nil)
	res, _ := st["result"].(map[string]any)
	if res == nil || res["failed"] != 0.0 {
		t.Errorf("dfim/stats after the storm: %v, want no request failed inside the server", st)
	}
}

// BenchmarkTypingStormSoak is the soak run: one iteration is a keystroke
// (didChange, an inline completion, and $/cancelRequest for the one
// before) into a Go file completed through infill's real tree-sitter
// validation, for as long as -benchtime says, e.g.
//
//	go test -run '^$' -bench TypingStormSoak -benchtime 60s ./lsp/
//
// Afterwards quiet requests must all succeed, and it reports the requests
// that failed inside the server (must be 0) and the goroutines, Go heap
// and RSS against the baseline before the storm (goroutines must return
// to it; heap and RSS should stay flat as the run gets longer).
func BenchmarkTypingStormSoak(b *testing.B) {
	set := DefaultSettings()
	set.DebounceMs, set.InvokedDebounceMs, set.CrossFileContext = 0, 0, false
	comp := infill.New(fixedDenoiser{text: "x"})
	defer comp.Close()
	c := startServer(b, Options{Completer: comp, Settings: set, Logger: zap.NewNop()})
	c.initialize()
	const uri = "file:///soak.go"
	c.open(uri, "go", stormDoc())
	line, col := 2, len("// typed: ")
	quiet := func(id int) {
		m := c.call(id, MethodInlineCompletion, msg{"textDocument": msg{"uri": uri}, "position": posMsg(line, col),
			"context": msg{"triggerKind": 1}})
		res, _ := m["result"].(map[string]any)
		if items, _ := res["items"].([]any); len(items) == 0 {
			b.Errorf("quiet request %d: %v, want a suggestion", id, m)
		}
	}
	quiet(1) // warm: parsers, caches, the tree of the document
	before := sampleProcess()

	var sent, received atomic.Int64
	var done atomic.Bool
	drained := make(chan struct{})
	go func() { // the replies to the storm's requests, read as they come
		defer close(drained)
		for !done.Load() || received.Load() < sent.Load() {
			select {
			case m, ok := <-c.in:
				if !ok {
					return
				}
				if id, ok := m["id"].(float64); ok && id >= 1e6 && m["method"] == nil {
					received.Add(1)
				}
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	i := 0
	start := time.Now()
	for b.Loop() {
		c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": uri, "version": i + 2},
			"contentChanges": []msg{{"range": msg{"start": posMsg(line, col), "end": posMsg(line, col)}, "text": "a"}}})
		col++
		if col > 2000 { // keep the line from growing without end: a new one
			c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": uri, "version": i + 2},
				"contentChanges": []msg{{"range": msg{"start": posMsg(line, col), "end": posMsg(line, col)}, "text": "\n// typed: "}}})
			line, col = line+1, len("// typed: ")
		}
		c.request(1e6+i, MethodInlineCompletion, msg{"textDocument": msg{"uri": uri}, "position": posMsg(line, col),
			"context": msg{"triggerKind": 2}})
		sent.Add(1)
		time.Sleep(time.Duration(i%7) * 150 * time.Microsecond)
		c.notify("$/cancelRequest", msg{"id": 1e6 + i})
		i++
	}
	elapsed := time.Since(start)
	done.Store(true)
	<-drained
	for q := range 10 {
		quiet(100 + q)
	}
	st := c.call(2, MethodStats, nil)
	res, _ := st["result"].(map[string]any)
	failed, _ := res["failed"].(float64)
	if failed != 0 {
		b.Errorf("%v requests failed inside the server; last: %v", failed, res["lastFailure"])
	}
	// Goroutines of finished requests take a moment to end.
	after := sampleProcess()
	for deadline := time.Now().Add(2 * time.Second); after.goroutines > before.goroutines && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		after = sampleProcess()
	}
	if after.goroutines > before.goroutines {
		b.Errorf("goroutines %d after the storm, %d before", after.goroutines, before.goroutines)
	}
	b.ReportMetric(failed, "failed")
	b.ReportMetric(float64(i)/elapsed.Seconds(), "keys/s")
	b.ReportMetric(float64(after.goroutines-before.goroutines), "goroutines-delta")
	b.ReportMetric(float64(int64(after.heap)-int64(before.heap))/(1<<20), "heap-delta-MB")
	if before.rss > 0 {
		b.ReportMetric(float64(after.rss-before.rss)/(1<<20), "rss-delta-MB")
	}
}

// processSample is what the soak run compares before and after.
type processSample struct {
	goroutines int
	heap       uint64
	rss        int64 // bytes; 0 where /proc is missing
}

func sampleProcess() processSample {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := processSample{goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if pages, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				s.rss = pages * int64(os.Getpagesize())
			}
		}
	}
	return s
}
