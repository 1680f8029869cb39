package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

// An answer is one recorded HTTP answer: testdata/*/NAME.http holds it as
// `curl -si` prints it (status line, headers, blank line, body with any
// chunked encoding undone), so run.sh can record new ones from a real
// server.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func loadAnswer(t *testing.T, name string) answer {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".http"))
	if err != nil {
		t.Fatal(err)
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	line, err := r.ReadLine()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	_, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if err != nil {
		t.Fatalf("%s: status line %q", name, line)
	}
	h, err := r.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("%s: headers: %v", name, err)
	}
	body, err := io.ReadAll(r.R)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: status, header: http.Header(h), body: body}
}

// write replays the answer: its status and headers (less the framing
// ones, which Go's server sets itself) and its body, event by event with
// a flush after each for a stream.
func (a answer) write(w http.ResponseWriter) {
	for k, vs := range a.header {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Keep-Alive":
			continue
		}
		w.Header()[k] = vs
	}
	w.WriteHeader(a.status)
	if !strings.HasPrefix(a.header.Get("Content-Type"), "text/event-stream") {
		w.Write(a.body)
		return
	}
	f, _ := w.(http.Flusher)
	for ev := range bytes.SplitAfterSeq(a.body, []byte("\n\n")) {
		w.Write(ev)
		if f != nil {
			f.Flush()
		}
	}
}

// A seen request is what a replay server was asked.
type seen struct {
	method, path, query string
	auth                string
	body                map[string]any
}

func (s seen) String() string {
	if s.query != "" {
		return s.method + " " + s.path + "?" + s.query
	}
	return s.method + " " + s.path
}

// A replay is a loopback server that answers each "METHOD /path" with the
// recorded answers given for it, in turn (the last one repeating), and
// 404s anything else the way llama.cpp does. It keeps every request.
type replay struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string][]answer
	asked   []seen
}

func newReplay(t *testing.T, routes map[string][]string) *replay {
	t.Helper()
	rp := &replay{answers: map[string][]answer{}}
	for route, names := range routes {
		for _, n := range names {
			rp.answers[route] = append(rp.answers[route], loadAnswer(t, n))
		}
	}
	notFound := loadAnswer(t, "llamacpp/not-found")
	rp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		rp.mu.Lock()
		rp.asked = append(rp.asked, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), body})
		key := r.Method + " " + r.URL.Path
		if r.URL.RawQuery != "" {
			if _, ok := rp.answers[key+"?"+r.URL.RawQuery]; ok {
				key += "?" + r.URL.RawQuery
			}
		}
		list, ok := rp.answers[key]
		a := notFound
		if ok {
			a = list[0]
			if len(list) > 1 {
				rp.answers[key] = list[1:]
			}
		}
		rp.mu.Unlock()
		a.write(w)
	}))
	t.Cleanup(rp.Close)
	return rp
}

// requests lists what the server was asked, in order.
func (rp *replay) requests() []seen {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([]seen(nil), rp.asked...)
}

// count is how many requests went to "METHOD /path".
func (rp *replay) count(route string) int {
	n := 0
	for _, s := range rp.requests() {
		if s.method+" "+s.path == route {
			n++
		}
	}
	return n
}

// last is the body of the last request to "METHOD /path".
func (rp *replay) last(route string) map[string]any {
	var b map[string]any
	for _, s := range rp.requests() {
		if s.method+" "+s.path == route {
			b = s.body
		}
	}
	return b
}

// bodies lists the bodies sent to "METHOD /path", in order.
func (rp *replay) bodies(route string) []map[string]any {
	var out []map[string]any
	for _, s := range rp.requests() {
		if s.method+" "+s.path == route {
			out = append(out, s.body)
		}
	}
	return out
}

// detecting is fastTuning with the look at the server on, as in use.
func detecting() tuning {
	t := fastTuning(nil)
	t.detect = true
	return t
}

// openaiWith opens the openai engine on cfg (its endpoint, model) with a
// debug log the test can read.
func openaiWith(t *testing.T, cfg engine.Config, tune tuning) (*remoteEngine, *syncBuffer) {
	t.Helper()
	t.Setenv(openaiKeyEnv, "")
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	e, err := newOpenAI(cfg, tune)
	if err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	e.log = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() { e.Close() })
	return e, &log
}

// syncBuffer is a bytes.Buffer safe for a logger and a test together.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// pyCanvas is the canvas the recorded answers fill: the body of add.
func pyCanvas() engine.Request {
	return canvas("def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n", 24)
}

func fill(t *testing.T, e *remoteEngine, req engine.Request) engine.Result {
	t.Helper()
	res, err := e.Infill(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
