package remote

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

func TestInceptionPlainAnswer(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeJSON(w, completion("a + b"))
	})
	e := inceptionAt(t, s.URL, "sk-test", fastTuning(nil))
	res, err := e.Infill(context.Background(), canvas("func add(a, b int) int { return ", " }\n", 12))
	if err != nil {
		t.Fatal(err)
	}
	if s.lastPath() != "/v1/fim/completions" {
		t.Errorf("path = %q, want /v1/fim/completions", s.lastPath())
	}
	if got := s.lastHeader().Get("Authorization"); got != "Bearer sk-test" {
		t.Errorf("Authorization = %q", got)
	}
	b := s.lastBody()
	want := map[string]any{"model": inceptionModel, "prompt": "func add(a, b int) int { return ", "suffix": " }\n",
		"max_tokens": 12.0, "stream": false}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("request %s = %#v, want %#v", k, b[k], v)
		}
	}
	if _, ok := b["temperature"]; ok {
		t.Errorf("temperature 0 should be left to Inception's default, request has %v", b["temperature"])
	}
	if len(res.Candidates) != 1 {
		t.Fatalf("%d candidates, want 1", len(res.Candidates))
	}
	f := res.Candidates[0]
	if f.Holes[0] != "a + b" || f.Tokens[0] != 3 || res.Tokens != 3 {
		t.Errorf("fill = %q (%d tokens, result %d), want \"a + b\" (3 tokens from usage)", f.Holes[0], f.Tokens[0], res.Tokens)
	}
	if !math.IsNaN(f.LogProb) {
		t.Errorf("LogProb = %v, want NaN without logprobs", f.LogProb)
	}
}

func TestInceptionStreamed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
	}{
		{"text chunks", []string{
			`{"choices":[{"index":0,"text":"a "}]}`,
			`{"choices":[{"index":0,"text":"+ "}]}`,
			`{"choices":[{"index":0,"text":"b","finish_reason":"stop"}]}`,
		}},
		{"delta chunks", []string{
			`{"choices":[{"index":0,"delta":{"role":"assistant","content":"a "}}]}`,
			`{"choices":[{"index":0,"delta":{"content":"+ "}}]}`,
			`{"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"stop"}]}`,
			`{"choices":[],"usage":{"completion_tokens":3}}`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				writeEvents(w, tc.chunks...)
			})
			e := inceptionAt(t, s.URL, "k", fastTuning(nil))
			req := canvas("x := ", "\n", 8)
			var seen []string
			req.Observe = func(st engine.Step) {
				if st.Candidate != 0 || st.Index != len(seen) {
					t.Errorf("step candidate %d index %d, want 0 and %d", st.Candidate, st.Index, len(seen))
				}
				seen = append(seen, st.Holes[0].Text)
			}
			res, err := e.Infill(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if s.lastBody()["stream"] != true || s.lastHeader().Get("Accept") != "text/event-stream" {
				t.Errorf("an observed request must stream: body stream=%v, Accept=%q", s.lastBody()["stream"], s.lastHeader().Get("Accept"))
			}
			if want := []string{"a ", "a + ", "a + b"}; strings.Join(seen, "|") != strings.Join(want, "|") {
				t.Errorf("observed %q, want %q", seen, want)
			}
			if got := res.Candidates[0].Holes[0]; got != "a + b" {
				t.Errorf("fill = %q, want \"a + b\"", got)
			}
			if res.Steps != 3 {
				t.Errorf("Steps = %d, want 3 streamed chunks", res.Steps)
			}
		})
	}
}

// A slow answer is cancelled mid-stream: Infill returns at once with the
// caller's error, and the server sees its request end.
func TestSlowStreamCancelled(t *testing.T) {
	closed := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\"first\"}]}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			close(closed)
		case <-time.After(10 * time.Second):
		}
	})
	e := inceptionAt(t, s.URL, "k", fastTuning(nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := canvas("a", "b", 8)
	req.Observe = func(engine.Step) { cancel() } // the user typed on
	done := make(chan error, 1)
	go func() { _, err := e.Infill(ctx, req); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Infill did not return after cancellation")
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the server's request was not closed")
	}
	if s.hits.Load() != 1 {
		t.Errorf("%d requests, want 1: a cancelled request is not retried", s.hits.Load())
	}
	// A cancellation says nothing about the server: the breaker stays closed.
	if ok, _, _ := e.c.breaker.allow(); !ok {
		t.Error("the breaker opened after a caller's cancellation")
	} else {
		e.c.breaker.done(abandoned, nil)
	}
}

func TestInceptionTimeout(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	t.Setenv(inceptionKeyEnv, "")
	e, err := newInception(engine.Config{Endpoint: s.URL, Timeout: 50 * time.Millisecond}, fastTuning(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, err = e.Infill(context.Background(), canvas("a", "b", 8))
	var re *Error
	if !errors.As(err, &re) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "--timeout") {
		t.Fatalf("err = %v, want an *Error naming --timeout and wrapping DeadlineExceeded", err)
	}
}

func TestUnauthorized(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		// A careless server echoes the header it rejected.
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"invalid key %s"}}`, r.Header.Get("Authorization"))
	})
	for _, tc := range []struct{ key, want string }{
		{"", "no API key was sent: set INCEPTION_API_KEY"},
		{"sk-secret-123", "the API key was rejected: check INCEPTION_API_KEY"},
	} {
		e := inceptionAt(t, s.URL, tc.key, fastTuning(nil))
		_, err := e.Infill(context.Background(), canvas("a", "b", 4))
		var re *Error
		if !errors.As(err, &re) || re.Status != 401 {
			t.Fatalf("key %q: err = %v, want a 401 *Error", tc.key, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("key %q: %q does not say %q", tc.key, err, tc.want)
		}
		if strings.Contains(err.Error(), "sk-secret") {
			t.Errorf("the error leaks the key: %q", err)
		}
	}
	if n := s.hits.Load(); n != 2 {
		t.Errorf("%d requests, want 2: a 401 is not retried", n)
	}
}

func TestNotFound(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"message":"model not found"}}`)
	})
	t.Setenv(inceptionKeyEnv, "")
	e, err := newInception(engine.Config{Endpoint: s.URL, RemoteModel: "mercury-nope"}, fastTuning(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Infill(context.Background(), canvas("a", "b", 4))
	for _, want := range []string{"HTTP 404", "model not found", `--remote-model (sent "mercury-nope")`, "--endpoint"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		writeJSON(w, completion("ok"))
	})
	var w waits
	e := inceptionAt(t, s.URL, "k", fastTuning(&w))
	res, err := e.Infill(context.Background(), canvas("a", "b", 4))
	if err != nil {
		t.Fatal(err)
	}
	if res.Candidates[0].Holes[0] != "ok" || s.hits.Load() != 2 {
		t.Errorf("fill %q after %d requests, want \"ok\" after 2", res.Candidates[0].Holes[0], s.hits.Load())
	}
	if got := w.list(); len(got) != 1 || got[0] != 2*time.Second {
		t.Errorf("waited %v, want [2s] as Retry-After asked", got)
	}
}

// A Retry-After longer than typing can bear fails the request at once.
func TestRetryAfterTooLong(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	var w waits
	e := inceptionAt(t, s.URL, "k", fastTuning(&w))
	_, err := e.Infill(context.Background(), canvas("a", "b", 4))
	if err == nil || !strings.Contains(err.Error(), "rate limited") || !strings.Contains(err.Error(), "wait 2m0s") {
		t.Errorf("err = %v, want a rate-limit error saying to wait 2m0s", err)
	}
	if s.hits.Load() != 1 || len(w.list()) != 0 {
		t.Errorf("%d requests, waits %v; want 1 request and no wait", s.hits.Load(), w.list())
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			http.Error(w, "upstream overloaded", http.StatusInternalServerError)
			return
		}
		writeJSON(w, completion("fine"))
	})
	var w waits
	e := inceptionAt(t, s.URL, "k", fastTuning(&w))
	res, err := e.Infill(context.Background(), canvas("a", "b", 4))
	if err != nil {
		t.Fatal(err)
	}
	if res.Candidates[0].Holes[0] != "fine" || s.hits.Load() != 2 {
		t.Errorf("fill %q after %d requests, want \"fine\" after 2", res.Candidates[0].Holes[0], s.hits.Load())
	}
	if got := w.list(); len(got) != 1 || got[0] != time.Millisecond {
		t.Errorf("backoff waits %v, want [1ms]", got)
	}
}

func TestServerErrorGivesUp(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Error(w, "still broken", http.StatusBadGateway)
	})
	var w waits
	tune := fastTuning(&w)
	tune.threshold = 10 // keep the breaker out of this test
	e := inceptionAt(t, s.URL, "k", tune)
	_, err := e.Infill(context.Background(), canvas("a", "b", 4))
	var re *Error
	if !errors.As(err, &re) || re.Status != 502 || !strings.Contains(err.Error(), "still broken") {
		t.Fatalf("err = %v, want the 502 with the server's message", err)
	}
	if got := s.hits.Load(); got != int32(tune.attempts) {
		t.Errorf("%d requests, want %d attempts", got, tune.attempts)
	}
	if got := w.list(); len(got) != 2 || got[0] != time.Millisecond || got[1] != 2*time.Millisecond {
		t.Errorf("backoff waits %v, want [1ms 2ms] (doubling)", got)
	}
}

func TestMalformedJSON(t *testing.T) {
	for _, body := range []string{`{"choices": [`, `<html>gateway</html>`, `{"object":"text_completion"}`} {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, body)
		})
		e := inceptionAt(t, s.URL, "k", fastTuning(nil))
		_, err := e.Infill(context.Background(), canvas("a", "b", 4))
		if err == nil || !strings.Contains(err.Error(), "not an OpenAI-style completion") {
			t.Errorf("body %q: err = %v, want it to say the answer is not an OpenAI-style completion", body, err)
		}
		if s.hits.Load() != 1 {
			t.Errorf("body %q: %d requests, want 1 (not retried)", body, s.hits.Load())
		}
	}
}

func TestMalformedStreamChunk(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeEvents(w, `{"choices":[{"index":0,"text":"ok"}]}`, `{"choices":[{`)
	})
	e := inceptionAt(t, s.URL, "k", fastTuning(nil))
	req := canvas("a", "b", 4)
	req.Observe = func(engine.Step) {}
	_, err := e.Infill(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "streamed chunk") {
		t.Errorf("err = %v, want a malformed-chunk error", err)
	}
}

func TestErrorInsideStream(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeEvents(w, `{"choices":[{"index":0,"text":"par"}]}`, `{"error":{"message":"model crashed"}}`)
	})
	e := inceptionAt(t, s.URL, "k", fastTuning(nil))
	req := canvas("a", "b", 4)
	req.Observe = func(engine.Step) {}
	_, err := e.Infill(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "model crashed") {
		t.Errorf("err = %v, want the server's mid-stream error", err)
	}
}

// hijackAndClose drops the connection without an answer.
func hijackAndClose(t *testing.T, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST rather than FIN: a real reset
	}
	conn.Close()
}

func TestConnectionReset(t *testing.T) {
	t.Run("then success", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				hijackAndClose(t, w)
				return
			}
			writeJSON(w, completion("again"))
		})
		e := inceptionAt(t, s.URL, "k", fastTuning(nil))
		res, err := e.Infill(context.Background(), canvas("a", "b", 4))
		if err != nil {
			t.Fatal(err)
		}
		if res.Candidates[0].Holes[0] != "again" || s.hits.Load() != 2 {
			t.Errorf("fill %q after %d requests, want \"again\" after a retry", res.Candidates[0].Holes[0], s.hits.Load())
		}
	})
	t.Run("every time", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { hijackAndClose(t, w) })
		tune := fastTuning(nil)
		tune.threshold = 10
		e := inceptionAt(t, s.URL, "k", tune)
		_, err := e.Infill(context.Background(), canvas("a", "b", 4))
		var re *Error
		if !errors.As(err, &re) || re.Status != 0 || !strings.Contains(err.Error(), "connection failed") {
			t.Fatalf("err = %v, want a connection failure", err)
		}
		if s.hits.Load() != int32(tune.attempts) {
			t.Errorf("%d requests, want %d", s.hits.Load(), tune.attempts)
		}
	})
	t.Run("mid-stream", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\"half\"}]}\n\n")
			w.(http.Flusher).Flush()
			hijackAndClose(t, w)
		})
		e := inceptionAt(t, s.URL, "k", fastTuning(nil))
		req := canvas("a", "b", 4)
		var seen int
		req.Observe = func(engine.Step) { seen++ }
		_, err := e.Infill(context.Background(), req)
		if err == nil || !strings.Contains(err.Error(), "broke while the answer arrived") {
			t.Errorf("err = %v, want a broken-stream error", err)
		}
		if seen != 1 || s.hits.Load() != 1 {
			t.Errorf("%d steps, %d requests; want 1 and 1 (a half-streamed answer is not retried)", seen, s.hits.Load())
		}
	})
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	e := inceptionAt(t, "http://"+addr, "k", fastTuning(nil))
	_, err = e.Infill(context.Background(), canvas("a", "b", 4))
	if err == nil || !strings.Contains(err.Error(), "no server is running at this URL") || !strings.Contains(err.Error(), addr) {
		t.Errorf("err = %v, want it to say no server runs at %s", err, addr)
	}
}

func TestBreakerOpensAndRecovers(t *testing.T) {
	var healthy atomic.Bool
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if !healthy.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, completion("back"))
	})
	tune := fastTuning(nil)
	tune.attempts = 1
	tune.threshold = 2
	tune.coolDown = time.Minute
	e := inceptionAt(t, s.URL, "k", tune)
	now := time.Unix(1000, 0)
	e.c.breaker.now = func() time.Time { return now }
	ctx := context.Background()

	for i := range 2 {
		if _, err := e.Infill(ctx, canvas("a", "b", 4)); err == nil || errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("call %d: err = %v, want the server's 503", i, err)
		}
	}
	_, err := e.Infill(ctx, canvas("a", "b", 4))
	if !errors.Is(err, ErrCircuitOpen) || !strings.Contains(err.Error(), "not calling it again for 1m0s") {
		t.Fatalf("err = %v, want the open circuit with its cool-down", err)
	}
	if s.hits.Load() != 2 {
		t.Fatalf("%d requests, want 2: an open circuit fails without calling", s.hits.Load())
	}

	// Half-open: the probe fails and the circuit opens again.
	now = now.Add(time.Minute)
	if _, err := e.Infill(ctx, canvas("a", "b", 4)); err == nil || errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("probe: err = %v, want the server's 503", err)
	}
	if _, err := e.Infill(ctx, canvas("a", "b", 4)); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("after a failed probe: err = %v, want the open circuit", err)
	}

	// The server is back: the next probe closes the circuit.
	healthy.Store(true)
	now = now.Add(time.Minute)
	for i := range 2 {
		res, err := e.Infill(ctx, canvas("a", "b", 4))
		if err != nil || res.Candidates[0].Holes[0] != "back" {
			t.Fatalf("call %d after recovery: %v, %v", i, res, err)
		}
	}
	if s.hits.Load() != 5 {
		t.Errorf("%d requests, want 5", s.hits.Load())
	}
}

func TestBreakerIgnoresClientErrors(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Error(w, `{"error":{"message":"prompt too long"}}`, http.StatusBadRequest)
	})
	tune := fastTuning(nil)
	tune.threshold = 1
	e := inceptionAt(t, s.URL, "k", tune)
	for range 3 {
		_, err := e.Infill(context.Background(), canvas("a", "b", 4))
		if errors.Is(err, ErrCircuitOpen) || err == nil || !strings.Contains(err.Error(), "prompt too long") {
			t.Fatalf("err = %v, want the server's 400 each time", err)
		}
	}
}

func TestCanvasShapes(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, completion("x")) })
	e := inceptionAt(t, s.URL, "k", fastTuning(nil))
	two := engine.Request{Segments: []engine.Segment{{Text: "a"}, {Hole: true}, {Text: "b"}, {Hole: true}, {Text: "c"}}}
	if _, err := e.Infill(context.Background(), two); !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("two holes: err = %v, want engine.ErrUnsupported", err)
	}
	none := engine.Request{Segments: []engine.Segment{{Text: "a"}}}
	if _, err := e.Infill(context.Background(), none); err == nil || errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("no hole: err = %v, want a plain error", err)
	}
	if s.hits.Load() != 0 {
		t.Errorf("%d requests for canvases that cannot be sent", s.hits.Load())
	}

	// Context chunks and a hole at the end.
	req := engine.Request{Segments: []engine.Segment{{Text: "// ctx\n"}, {Text: "x := "}, {Hole: true}}}
	res, err := e.Infill(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b := s.lastBody()
	if b["prompt"] != "// ctx\nx := " || b["suffix"] != "" || b["max_tokens"] != float64(defaultMaxTokens) {
		t.Errorf("request = %v, want prompt of context+prefix, empty suffix, default max_tokens", b)
	}
	if got := res.Candidates[0].Holes[0]; got != "x" {
		t.Errorf("fill = %q, want the answer \"x\"", got)
	}
}

func TestInceptionCandidates(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, completion(fmt.Sprintf("c%d", n)))
	})
	e := inceptionAt(t, s.URL, "k", fastTuning(nil))
	req := canvas("a", "b", 4)
	req.Opts.Candidates = 3
	res, err := e.Infill(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 3 || s.hits.Load() != 3 {
		t.Fatalf("%d candidates from %d requests, want 3 from 3", len(res.Candidates), s.hits.Load())
	}
	seen := map[string]bool{}
	for _, c := range res.Candidates {
		seen[c.Holes[0]] = true
	}
	if len(seen) != 3 {
		t.Errorf("candidates %v, want 3 distinct answers", res.Candidates)
	}
}

func TestInceptionKeyFromEnv(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, completion("x")) })
	t.Setenv(inceptionKeyEnv, "from-env")
	e, err := newInception(engine.Config{Endpoint: s.URL}, fastTuning(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Infill(context.Background(), canvas("a", "b", 4)); err != nil {
		t.Fatal(err)
	}
	if got := s.lastHeader().Get("Authorization"); got != "Bearer from-env" {
		t.Errorf("Authorization = %q, want the key from %s", got, inceptionKeyEnv)
	}
	if strings.Contains(e.Describe(), "from-env") {
		t.Errorf("Describe leaks the key: %q", e.Describe())
	}
}

// When a request's own retries open the circuit, it reports the server's
// failure, not the circuit; the next request fails fast.
func TestBreakerOpensMidRetry(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	})
	tune := fastTuning(nil)
	tune.threshold = 2
	e := inceptionAt(t, s.URL, "k", tune)
	_, err := e.Infill(context.Background(), canvas("a", "b", 4))
	var re *Error
	if !errors.As(err, &re) || re.Status != 503 || errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("err = %v, want the server's 503", err)
	}
	if s.hits.Load() != 2 {
		t.Errorf("%d requests, want 2 (the breaker stops the third attempt)", s.hits.Load())
	}
	if _, err := e.Infill(context.Background(), canvas("a", "b", 4)); !errors.Is(err, ErrCircuitOpen) || !strings.Contains(err.Error(), "overloaded") {
		t.Errorf("next call: err = %v, want the open circuit naming the last failure", err)
	}
}
