package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

// fastTuning keeps retries real but the waits short; waits are recorded.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) list() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

func fastTuning(w *waits) tuning {
	t := defaultTuning
	t.backoff = time.Millisecond
	t.maxBackoff = 4 * time.Millisecond
	t.coolDown = time.Hour // tests that need the breaker to recover move its clock
	t.detect = false       // tests of the server probe turn it on
	t.jitter = func(d time.Duration) time.Duration { return d }
	t.sleep = func(ctx context.Context, d time.Duration) error {
		if w != nil {
			w.mu.Lock()
			w.d = append(w.d, d)
			w.mu.Unlock()
		}
		// Waits the server asked for are recorded, not slept.
		return defaultTuning.sleep(ctx, min(d, time.Millisecond))
	}
	return t
}

// server is a loopback httptest server counting its requests and keeping
// the last body.
type server struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	last map[string]any
	hdr  http.Header
	path string
}

func newServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.hits.Add(1))
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		s.mu.Lock()
		s.last, s.hdr, s.path = m, r.Header.Clone(), r.URL.Path
		s.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) lastBody() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *server) lastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hdr
}

func (s *server) lastPath() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.path
}

// writeJSON answers v with status 200.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// completion is an OpenAI text completion with the given choice texts.
func completion(texts ...string) map[string]any {
	var choices []map[string]any
	for i, t := range texts {
		choices = append(choices, map[string]any{"index": i, "text": t, "finish_reason": "stop"})
	}
	return map[string]any{"id": "cmpl-1", "object": "text_completion", "choices": choices,
		"usage": map[string]any{"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}}
}

// writeEvents streams data events, flushing after each, then [DONE].
func writeEvents(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	for _, e := range events {
		fmt.Fprintf(w, "data: %s\n\n", e)
		f.Flush()
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	f.Flush()
}

// canvas is a [prefix, hole, suffix] request.
func canvas(prefix, suffix string, maxTok int) engine.Request {
	return engine.Request{Segments: []engine.Segment{{Text: prefix}, {Hole: true, MaxTok: maxTok}, {Text: suffix}}}
}

func inceptionAt(t *testing.T, url, key string, tune tuning) *remoteEngine {
	t.Helper()
	t.Setenv(inceptionKeyEnv, "")
	e, err := newInception(engine.Config{Endpoint: url, APIKey: key, Timeout: 5 * time.Second}, tune)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func openaiAt(t *testing.T, url string, tune tuning) *remoteEngine {
	t.Helper()
	t.Setenv(openaiKeyEnv, "")
	e, err := newOpenAI(engine.Config{Endpoint: url, Timeout: 5 * time.Second}, tune)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// httptestServer is a plain loopback server.
func httptestServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

func asError(err error, target **Error) bool { return errors.As(err, target) }
