package remote

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

// BenchmarkInfillLoopback measures the client's own cost per completion
// (encoding, HTTP over loopback, decoding) against an instant server, so
// it shows what the remote engines add to a server's latency.
func BenchmarkInfillLoopback(b *testing.B) {
	events := []string{
		`{"choices":[{"index":0,"text":"if err != nil "}]}`,
		`{"choices":[{"index":0,"text":"{\n\t\treturn err\n\t}"}]}`,
		`{"choices":[{"index":0,"text":"","finish_reason":"stop"}]}`,
	}
	srv := func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") == "text/event-stream" {
			writeEvents(w, events...)
			return
		}
		writeJSON(w, completion("if err != nil {\n\t\treturn err\n\t}"))
	}
	for _, stream := range []bool{false, true} {
		name := "whole"
		if stream {
			name = "streamed"
		}
		b.Run(name, func(b *testing.B) {
			s := newBenchServer(b, srv)
			e, err := newInception(engine.Config{Endpoint: s, APIKey: "k"}, defaultTuning)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			prefix := make([]byte, 8<<10) // a typical 2k-token window
			for i := range prefix {
				prefix[i] = 'a' + byte(i%26)
			}
			req := canvas(string(prefix), "\n}\n", 32)
			if stream {
				req.Observe = func(engine.Step) {}
			}
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if _, err := e.Infill(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/completion")
		})
	}
}

func newBenchServer(b *testing.B, h http.HandlerFunc) string {
	s := httptestServer(h)
	b.Cleanup(s.Close)
	return s.URL
}
