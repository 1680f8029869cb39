package remote

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

func TestEndpointURLs(t *testing.T) {
	for _, tc := range []struct {
		engine, endpoint, url string
		api                   api
	}{
		{"inception", "", "https://api.inceptionlabs.ai/v1/fim/completions", apiFIM},
		{"inception", "https://api.inceptionlabs.ai/v1", "https://api.inceptionlabs.ai/v1/fim/completions", apiFIM},
		{"inception", "http://127.0.0.1:9/", "http://127.0.0.1:9/v1/fim/completions", apiFIM},
		{"inception", "http://127.0.0.1:9/proxy/v1/fim/completions", "http://127.0.0.1:9/proxy/v1/fim/completions", apiFIM},
		{"openai", "", "http://127.0.0.1:8080/v1/completions", apiCompletions},
		{"openai", "http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/completions", apiCompletions},
		{"openai", "http://127.0.0.1:11434", "http://127.0.0.1:11434/v1/completions", apiCompletions},
		{"openai", "http://127.0.0.1:30000/v1/completions/", "http://127.0.0.1:30000/v1/completions", apiCompletions},
		{"openai", "http://127.0.0.1:8080/infill", "http://127.0.0.1:8080/infill", apiInfill},
	} {
		var e *remoteEngine
		var err error
		cfg := engine.Config{Endpoint: tc.endpoint}
		if tc.engine == "inception" {
			e, err = newInception(cfg, defaultTuning)
		} else {
			e, err = newOpenAI(cfg, defaultTuning)
		}
		if err != nil {
			t.Errorf("%s %q: %v", tc.engine, tc.endpoint, err)
			continue
		}
		if e.c.url != tc.url || e.rt.api != tc.api {
			t.Errorf("%s %q: URL %q api %d, want %q api %d", tc.engine, tc.endpoint, e.c.url, e.rt.api, tc.url, tc.api)
		}
	}
	for _, bad := range []string{"api.inceptionlabs.ai", "ftp://host/", "http://", "::"} {
		if _, err := newInception(engine.Config{Endpoint: bad}, defaultTuning); err == nil || !strings.Contains(err.Error(), "--endpoint") {
			t.Errorf("endpoint %q: err = %v, want a usage hint about --endpoint", bad, err)
		}
	}
	e, err := newOpenAI(engine.Config{Endpoint: "http://user:secret@127.0.0.1:1/v1"}, defaultTuning)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.Describe(), "secret") || strings.Contains(e.c.shown, "secret") {
		t.Errorf("password shown in %q / %q", e.Describe(), e.c.shown)
	}
}

func TestRegistered(t *testing.T) {
	names := strings.Join(engine.Names(), " ")
	for _, n := range []string{"inception", "openai"} {
		if !strings.Contains(names, n) {
			t.Errorf("engine %q not registered (have %s)", n, names)
		}
		d, err := engine.Open(n, engine.Config{Endpoint: "http://127.0.0.1:1"})
		if err != nil {
			t.Errorf("Open(%q): %v", n, err)
			continue
		}
		if desc, ok := d.(engine.Describer); !ok || !strings.Contains(desc.Describe(), n) {
			t.Errorf("%q does not describe itself", n)
		}
		d.Close()
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"3", 3 * time.Second}, {" 0 ", 0}, {"-5", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"Fri, 02 Jan 2026 03:05:05 GMT", time.Minute},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(tc.v, now); got != tc.want {
			t.Errorf("Retry-After %q = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestServerMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"message":"bad model","type":"invalid_request_error"}}`: "bad model",
		`{"error":"quota exceeded"}`:                                       "quota exceeded",
		`{"object":"error","message":"vllm says no"}`:                      "vllm says no",
		`{"detail":"Not Found"}`:                                           "Not Found",
		"plain\n  text  ":                                                  "plain text",
	} {
		if got := serverMessage([]byte(body)); got != want {
			t.Errorf("serverMessage(%q) = %q, want %q", body, got, want)
		}
	}
	if got := serverMessage([]byte(strings.Repeat("x", 1000))); len(got) > 310 {
		t.Errorf("long body kept %d bytes", len(got))
	}
}

func TestReadEvents(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		done     bool
	}{
		{"plain", "data: a\n\ndata: b\n\ndata: [DONE]\n\ndata: after\n\n", []string{"a", "b"}, true},
		{"crlf and comments", ": ping\r\nevent: completion\r\ndata: a\r\n\r\n", []string{"a"}, false},
		{"multi-line data", "data: a\ndata: b\n\n", []string{"a\nb"}, false},
		{"no space, no trailing blank line", "data:a\n\ndata:b", []string{"a", "b"}, false},
	} {
		var got []string
		done, err := readEvents(strings.NewReader(tc.in), func(d []byte) error {
			got = append(got, string(d))
			return nil
		})
		if err != nil || done != tc.done || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: events %q done %v err %v; want %q done %v", tc.name, got, done, err, tc.want, tc.done)
		}
	}
	boom := errors.New("boom")
	if _, err := readEvents(strings.NewReader("data: a\n\n"), func([]byte) error { return boom }); err != boom {
		t.Errorf("callback error = %v, want it returned", err)
	}
	if _, err := readEvents(io.MultiReader(strings.NewReader("data: a"), errReader{}), func([]byte) error { return nil }); err == nil {
		t.Error("a read error was swallowed")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestBreakerProbeAbandoned(t *testing.T) {
	b := newBreaker(1, time.Minute)
	now := time.Unix(0, 0)
	b.now = func() time.Time { return now }
	if ok, _, _ := b.allow(); !ok {
		t.Fatal("a new breaker refuses")
	}
	b.done(failed, errors.New("down"))
	if ok, wait, last := b.allow(); ok || wait != time.Minute || last == nil {
		t.Fatalf("after the threshold: ok %v wait %v last %v; want refused for 1m with the cause", ok, wait, last)
	}
	now = now.Add(time.Minute)
	if ok, _, _ := b.allow(); !ok {
		t.Fatal("no probe after the cool-down")
	}
	if ok, _, _ := b.allow(); ok {
		t.Fatal("a second call went through while the probe was in flight")
	}
	b.done(abandoned, nil) // the user typed on: the probe says nothing
	if ok, _, _ := b.allow(); !ok {
		t.Fatal("an abandoned probe should let the next call probe at once")
	}
	b.done(succeeded, nil)
	if ok, _, _ := b.allow(); !ok {
		t.Fatal("a successful probe should close the circuit")
	}
}
