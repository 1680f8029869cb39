package lsp

import (
	"runtime"
	"sync/atomic"
)

// MethodStats is dfim's own request for the session's counters, so that
// `dfim bench lsp` and tests can see requests that failed inside the
// server: those are answered with an empty result (an editor should show
// nothing, not an error, for a suggestion that did not come), which a
// client cannot tell from "the model had nothing to say".
const MethodStats = "dfim/stats"

// Stats is the result of dfim/stats.
type Stats struct {
	// Requests counts the completion and command requests that ran.
	Requests int64 `json:"requests"`
	// Failed counts those that failed inside the server (an error from
	// infill or the engine, or a panic) and were answered empty or with an
	// InternalError; cancelled and superseded requests are not failures.
	Failed int64 `json:"failed"`
	// LastFailure is the error of the latest failure.
	LastFailure string `json:"lastFailure,omitempty"`
	// Goroutines and HeapBytes show whether a session's load leaves
	// anything behind (a soak run compares them before and after).
	Goroutines int    `json:"goroutines"`
	HeapBytes  uint64 `json:"heapBytes"`
}

// counters are the live numbers behind Stats.
type counters struct {
	requests, failed atomic.Int64
	lastFailure      atomic.Pointer[string]
}

func (c *counters) fail(method, why string) {
	c.failed.Add(1)
	msg := method + ": " + why
	c.lastFailure.Store(&msg)
}

// stats answers dfim/stats.
func (s *Server) stats(r *request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := Stats{Requests: s.counters.requests.Load(), Failed: s.counters.failed.Load(),
		Goroutines: runtime.NumGoroutine(), HeapBytes: ms.HeapAlloc}
	if p := s.counters.lastFailure.Load(); p != nil {
		st.LastFailure = *p
	}
	r.respond(st, nil)
}
