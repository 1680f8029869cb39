package httpapi

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds, in seconds, of the request
// latency histogram.
var latencyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// metrics counts what /metrics reports, in Prometheus' text format.
type metrics struct {
	// mu guards the fields below.
	mu       sync.Mutex
	requests map[[2]string]int64   // {endpoint, status code} -> requests answered
	latency  map[string]*histogram // endpoint -> fill latency
	tokens   int64                 // tokens filled, over all requests
	fillTime time.Duration         // time spent filling them (queue excluded)
	rejected map[string]int64      // reason -> requests refused before filling
}

type histogram struct {
	counts []int64 // per bucket, not cumulative; one more for +Inf
	sum    float64
	n      int64
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]int64{}, latency: map[string]*histogram{}, rejected: map[string]int64{}}
}

// answered records one answered request.
func (m *metrics) answered(endpoint string, status int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{endpoint, strconv.Itoa(status)}]++
}

// reject records a request refused before it reached the engine.
func (m *metrics) reject(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rejected[reason]++
}

// filled records one fill: its latency (queue included) and the tokens
// it filled in fill (queue excluded).
func (m *metrics) filled(endpoint string, latency, fill time.Duration, tokens int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.latency[endpoint]
	if h == nil {
		h = &histogram{counts: make([]int64, len(latencyBuckets)+1)}
		m.latency[endpoint] = h
	}
	s := latency.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, s)
	h.counts[i]++
	h.sum += s
	h.n++
	m.tokens += int64(tokens)
	m.fillTime += fill
}

// write writes every metric; queued and busy are the queue's state now.
func (m *metrics) write(w io.Writer, queued, busy, slots int, loaded bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	family(w, "dfim_http_requests_total", "counter", "HTTP requests answered, by endpoint and status code.")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "dfim_http_requests_total{endpoint=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	family(w, "dfim_http_rejected_total", "counter", "Requests refused before they reached the engine, by reason.")
	for _, r := range sortedKeys(m.rejected) {
		fmt.Fprintf(w, "dfim_http_rejected_total{reason=%q} %d\n", r, m.rejected[r])
	}
	family(w, "dfim_http_request_duration_seconds", "histogram", "Latency of fill requests, queueing included.")
	for _, ep := range sortedKeys(m.latency) {
		h := m.latency[ep]
		var cum int64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "dfim_http_request_duration_seconds_bucket{endpoint=%q,le=%q} %d\n", ep, strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		cum += h.counts[len(latencyBuckets)]
		fmt.Fprintf(w, "dfim_http_request_duration_seconds_bucket{endpoint=%q,le=\"+Inf\"} %d\n", ep, cum)
		fmt.Fprintf(w, "dfim_http_request_duration_seconds_sum{endpoint=%q} %g\n", ep, h.sum)
		fmt.Fprintf(w, "dfim_http_request_duration_seconds_count{endpoint=%q} %d\n", ep, h.n)
	}
	metric(w, "dfim_http_generated_tokens_total", "counter", "Tokens filled over all requests.", m.tokens)
	metric(w, "dfim_http_fill_seconds_total", "counter", "Time spent filling (on the engine, queueing excluded).", m.fillTime.Seconds())
	tps := 0.0
	if m.fillTime > 0 {
		tps = float64(m.tokens) / m.fillTime.Seconds()
	}
	if math.IsNaN(tps) || math.IsInf(tps, 0) {
		tps = 0
	}
	metric(w, "dfim_http_tokens_per_second", "gauge", "Tokens filled per second of filling, since the start.", tps)
	metric(w, "dfim_http_queue_depth", "gauge", "Requests waiting for the engine.", queued)
	metric(w, "dfim_http_in_flight", "gauge", "Requests on the engine now.", busy)
	metric(w, "dfim_http_slots", "gauge", "Requests the engine takes at once (--http-parallel).", slots)
	up := 0
	if loaded {
		up = 1
	}
	metric(w, "dfim_http_engine_loaded", "gauge", "1 once the engine is loaded.", up)
}

// family writes the HELP and TYPE lines of a metric, in Prometheus's text
// format.
func family(w io.Writer, name, kind, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
}

// metric writes a metric without labels: its family lines and its value.
func metric(w io.Writer, name, kind, help string, value any) {
	family(w, name, kind, help)
	fmt.Fprintf(w, "%s %v\n", name, value)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
