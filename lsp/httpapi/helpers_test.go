package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native"
	"github.com/dfim/dfim/infill"
)

// builtin is the built-in model's completer, opened once for all tests.
var builtin struct {
	once sync.Once
	c    *infill.Completer
	err  error
}

func builtinCompleter(t testing.TB) *infill.Completer {
	t.Helper()
	builtin.once.Do(func() {
		d, err := native.Open(engine.Config{}, native.DefaultSettings)
		if err != nil {
			builtin.err = err
			return
		}
		builtin.c = infill.New(d)
	})
	if builtin.err != nil {
		t.Fatalf("opening the built-in model: %v", builtin.err)
	}
	return builtin.c
}

// newBuiltinServer serves the APIs over the built-in model, with the
// confidence gate off so that every fill shows (the model is small).
func newBuiltinServer(t testing.TB, opts Options) *httptest.Server {
	t.Helper()
	c := builtinCompleter(t)
	opts.Load = func(context.Context) (infill.Filler, error) { return c, nil }
	srv := httptest.NewServer(New(opts))
	t.Cleanup(srv.Close)
	return srv
}

// A fakeCompleter answers with text after waiting for release (when
// set), or until its context ends.
type fakeCompleter struct {
	text    string
	tokens  int           // the engine's tokens of the fill (0: 3)
	release chan struct{} // nil: answer at once
	started chan struct{} // receives one value a fill that starts (nil: none)

	mu        sync.Mutex
	cancelled int // fills whose context ended first
}

func (f *fakeCompleter) Complete(ctx context.Context, doc infill.Document, pos int, opts infill.Options) ([]infill.Suggestion, error) {
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			f.mu.Lock()
			f.cancelled++
			f.mu.Unlock()
			return nil, ctx.Err()
		}
	}
	tokens := f.tokens
	if tokens == 0 {
		tokens = 3
	}
	return []infill.Suggestion{{Text: f.text, Start: pos, End: pos, Tokens: tokens, Confidence: 0.9, Syntax: infill.SyntaxUnvalidated}}, nil
}

func (f *fakeCompleter) FillHoles(ctx context.Context, doc infill.Document, holes []infill.Hole, opts infill.Options) ([]infill.Suggestion, error) {
	out := make([]infill.Suggestion, len(holes))
	for i, h := range holes {
		out[i] = infill.Suggestion{Text: f.text, Start: h.Start, End: h.End}
	}
	return out, nil
}

func (f *fakeCompleter) cancels() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cancelled
}

func newFakeServer(t testing.TB, f *fakeCompleter, opts Options) *httptest.Server {
	t.Helper()
	opts.Load = func(context.Context) (infill.Filler, error) { return f, nil }
	srv := httptest.NewServer(New(opts))
	t.Cleanup(srv.Close)
	return srv
}

// post sends body to url and returns the status and decoded JSON answer.
func post(t testing.TB, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("POST %s: answer %q is not JSON: %v", url, raw, err)
	}
	return resp.StatusCode, v
}

// events reads a server-sent event stream: each event's data.
func events(t testing.TB, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func postStream(t testing.TB, url, body string) (*http.Response, []string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	return resp, events(t, resp.Body)
}

// errorMessage is error.message of an OpenAI-shaped error answer.
func errorMessage(v map[string]any) string {
	e, _ := v["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

// goPrompt and goSuffix are a Go function with its body's line missing.
const (
	goPrompt = "package stack\n\ntype Stack struct{ items []int }\n\nfunc (s *Stack) Len() int {\n\treturn len(s.items)\n}\n\nfunc (s *Stack) Size() int {\n\treturn "
	goSuffix = "\n}\n"
)

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func infillSuggestion(text string, start, end int) infill.Suggestion {
	return infill.Suggestion{Text: text, Start: start, End: end}
}

func httptestServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// metricValue reads one sample of /metrics (-1 when absent).
func metricValue(t testing.TB, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return -1
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
