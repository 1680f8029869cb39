package lsp

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dfim/dfim/engine"
	_ "github.com/dfim/dfim/engine/native" // the built-in model
	"github.com/dfim/dfim/infill"
)

// BenchmarkLargeDocumentCompletion asks the built-in model for a
// completion in the middle of Go documents up to 1 MB, over the LSP with
// the default settings (so the default request timeout). Metrics: the
// median and longest round trips (p50-ms, max-ms), the items of the last answer, and how many
// requests the timeout stopped (timeouts; want 0).
func BenchmarkLargeDocumentCompletion(b *testing.B) {
	d, err := engine.Open("native", engine.Config{})
	if err != nil {
		b.Fatalf("opening the built-in model: %v", err)
	}
	comp := infill.New(d)
	for _, size := range []int{10 << 10, 1 << 20} {
		lines := size / 15 // goSource writes about 15 bytes a line
		half := goSource(lines / 2)
		text := half + "func add(a, b int) int {\n\treturn \n}\n" + strings.TrimPrefix(goSource(lines/2), "package bench\n")
		line := strings.Count(half, "\n") + 1
		b.Run(fmt.Sprintf("kB=%d", len(text)>>10), func(b *testing.B) {
			core, logs := observer.New(zap.InfoLevel)
			c := startServer(b, Options{Completer: comp, Logger: zap.New(core)})
			c.initialize()
			c.open("file:///big.go", "go", text)
			var rtts []time.Duration
			items, id := 0, 0
			for b.Loop() {
				id++
				start := time.Now()
				m := c.call(id, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///big.go"},
					"position": posMsg(line, 8), "context": msg{"triggerKind": 1}})
				rtts = append(rtts, time.Since(start))
				if m["error"] != nil {
					b.Fatal(m)
				}
				list := m["result"].(map[string]any)["items"].([]any)
				if items = len(list); items > 0 && id == 1 {
					b.Logf("%s: first item %q", b.Name(), list[0].(map[string]any)["label"])
				}
			}
			slices.Sort(rtts)
			b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(rtts[len(rtts)-1].Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(items), "items")
			b.ReportMetric(float64(logs.FilterMessageSnippet("request timeout").Len()), "timeouts")
			b.ReportMetric(float64(len(text))/1e6, "doc-MB")
		})
	}
}
