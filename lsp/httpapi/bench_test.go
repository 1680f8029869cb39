package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkConcurrentClients: 1, 4 and 16 clients each send one
// /v1/completions request per round, at once, to a server on the built-in
// model, with batching off (Parallel 1: requests queue and fill one at a
// time) and on (Parallel 8: up to 8 fill at once, the native engine
// stepping them together so that they share forward passes). It reports
// requests per second and the p50 and p95 latency of a request (queueing
// included); compare off and on within one run.
func BenchmarkConcurrentClients(b *testing.B) {
	for _, c := range []struct {
		clients, parallel int
	}{{1, 1}, {4, 1}, {4, 8}, {16, 1}, {16, 8}} {
		clients := c.clients
		batching := "off"
		if c.parallel > 1 {
			batching = "on"
		}
		b.Run(fmt.Sprintf("clients=%d/batching=%s", clients, batching), func(b *testing.B) {
			srv := newBuiltinServer(b, Options{MaxQueue: 64, Parallel: c.parallel})
			bodies := make([]string, clients)
			for i := range bodies {
				// A different canvas per client, as a team's would be.
				prompt := strings.Replace(goPrompt, "Size()", fmt.Sprintf("Size%d()", i), 1)
				bodies[i] = fmt.Sprintf(`{"prompt":%s,"suffix":%s,"max_tokens":24,"language":"go","min_confidence":0,"user":"client-%d"}`,
					jsonString(prompt), jsonString(goSuffix), i)
			}
			var mu sync.Mutex
			var lat []time.Duration
			requests := 0
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				var wg sync.WaitGroup
				for i := range clients {
					wg.Go(func() {
						t0 := time.Now()
						resp, err := http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(bodies[i]))
						if err != nil {
							b.Error(err)
							return
						}
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Errorf("status %d", resp.StatusCode)
						}
						mu.Lock()
						lat = append(lat, time.Since(t0))
						requests++
						mu.Unlock()
					})
				}
				wg.Wait()
			}
			elapsed := time.Since(start)
			slices.Sort(lat)
			b.ReportMetric(float64(requests)/elapsed.Seconds(), "req/s")
			b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
			b.ReportMetric(ms(percentile(lat, 0.95)), "p95-ms")
		})
	}
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
