package lsp

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

func goSource(lines int) string {
	var sb strings.Builder
	sb.WriteString("package bench\n\n")
	for i := 0; 2+4*i < lines; i++ {
		fmt.Fprintf(&sb, "func f%d(x int) int {\n\treturn x * %d // ünïcode 𝄞\n}\n\n", i, i)
	}
	return sb.String()
}

// BenchmarkCompletionOverhead is the server's cost per completion while
// typing in a 5,000-line document: a didChange and a completion request
// through the real framing and dispatch, answered by a completer that
// returns at once. The metric p50-ms is the median round trip.
func BenchmarkCompletionOverhead(b *testing.B) {
	text := goSource(5000)
	c := startServer(b, Options{Completer: &fakeCompleter{}, Logger: zap.NewNop()})
	c.initialize()
	c.open("file:///bench.go", "go", text)
	line := 2500
	var rtts []time.Duration
	id, version := 0, 1
	b.ReportAllocs()
	for b.Loop() {
		id++
		version++
		start := time.Now()
		c.notify("textDocument/didChange", msg{"textDocument": msg{"uri": "file:///bench.go", "version": version},
			"contentChanges": []msg{{"range": msg{"start": posMsg(line, 1), "end": posMsg(line, 1)}, "text": "x"}}})
		m := c.call(id, "textDocument/completion", msg{"textDocument": msg{"uri": "file:///bench.go"},
			"position": posMsg(line, 2), "context": msg{"triggerKind": 1}})
		rtts = append(rtts, time.Since(start))
		if m["error"] != nil {
			b.Fatal(m)
		}
	}
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(rtts[len(rtts)*95/100].Microseconds())/1000, "p95-ms")
}

// BenchmarkDidChange applies a one-character edit in the middle of
// documents of growing size: the cost follows the edit, not the document.
func BenchmarkDidChange(b *testing.B) {
	for _, lines := range []int{1000, 10000, 100000} {
		text := goSource(lines)
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			buf := newBuffer(text)
			p := protocol.Position{Line: uint32(lines / 2), Character: 3}
			r := protocol.Range{Start: p, End: p}
			b.ReportAllocs()
			for b.Loop() {
				buf.replace(r, "x", UTF16)
			}
			b.ReportMetric(float64(len(text))/1e6, "doc-MB")
		})
	}
}

// BenchmarkDidChangeWholeCopy is the baseline a plain string store would
// pay for the same edit: a copy of the whole document.
func BenchmarkDidChangeWholeCopy(b *testing.B) {
	for _, lines := range []int{1000, 10000, 100000} {
		text := goSource(lines)
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			m := NewMapper(text, UTF16)
			off := m.Offset(protocol.Position{Line: uint32(lines / 2), Character: 3})
			b.ReportAllocs()
			for b.Loop() {
				_ = text[:off] + "x" + text[off:]
			}
		})
	}
}
