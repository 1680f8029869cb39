package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfim/dfim/infill"
)

// TestCompletionsBuiltin: OpenAI's /v1/completions with suffix, answered
// by the built-in model through infill, with tree-sitter validating Go.
func TestCompletionsBuiltin(t *testing.T) {
	srv := newBuiltinServer(t, Options{Model: "dfim-test"})
	body := fmt.Sprintf(`{"model":"anything","prompt":%s,"suffix":%s,"max_tokens":24,"language":"go","min_confidence":0}`,
		jsonString(goPrompt), jsonString(goSuffix))
	status, v := post(t, srv.URL+"/v1/completions", body)
	if status != 200 {
		t.Fatalf("status %d: %v", status, v)
	}
	if v["object"] != "text_completion" || v["model"] != "dfim-test" || !strings.HasPrefix(v["id"].(string), "cmpl-") {
		t.Errorf("answer %v: want a text_completion of model dfim-test with a cmpl- id", v)
	}
	choices := v["choices"].([]any)
	if len(choices) != 1 {
		t.Fatalf("choices %v, want one", choices)
	}
	c := choices[0].(map[string]any)
	if text, _ := c["text"].(string); text == "" {
		t.Errorf("empty fill: %v", c)
	}
	if c["finish_reason"] != "stop" && c["finish_reason"] != "length" {
		t.Errorf("finish_reason %v", c["finish_reason"])
	}
	if d := c["dfim"].(map[string]any); d["syntax"] != "valid" {
		t.Errorf("dfim %v: want syntax valid (language go)", d)
	}
	u := v["usage"].(map[string]any)
	if u["prompt_tokens"].(float64) <= 0 || u["total_tokens"].(float64) != u["prompt_tokens"].(float64)+u["completion_tokens"].(float64) {
		t.Errorf("usage %v", u)
	}
}

// TestFIMStream: Inception's /v1/fim/completions streamed: the text, then
// finish_reason, then [DONE], in OpenAI's chunk shape.
func TestFIMStream(t *testing.T) {
	srv := newBuiltinServer(t, Options{})
	body := fmt.Sprintf(`{"model":"mercury-coder","prompt":%s,"suffix":%s,"max_tokens":24,"stream":true,"filename":"stack.go","min_confidence":0}`,
		jsonString(goPrompt), jsonString(goSuffix))
	resp, evs := postStream(t, srv.URL+"/v1/fim/completions", body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if len(evs) < 2 || evs[len(evs)-1] != "[DONE]" {
		t.Fatalf("events %q: want chunks then [DONE]", evs)
	}
	var text strings.Builder
	finish := ""
	for _, e := range evs[:len(evs)-1] {
		var ch completionJSON
		if err := json.Unmarshal([]byte(e), &ch); err != nil {
			t.Fatalf("chunk %q: %v", e, err)
		}
		for _, c := range ch.Choices {
			text.WriteString(c.Text)
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
	}
	if text.Len() == 0 || finish == "" {
		t.Errorf("streamed text %q, finish %q: want a fill and a finish_reason", text.String(), finish)
	}
}

// TestFIMDiffusing: with diffusing, every denoising step arrives as the
// hole's full text so far, masked positions shown; the last text chunk
// is the final fill.
func TestFIMDiffusing(t *testing.T) {
	srv := newBuiltinServer(t, Options{})
	body := fmt.Sprintf(`{"prompt":%s,"suffix":%s,"max_tokens":24,"stream":true,"diffusing":true,"language":"go","min_confidence":0}`,
		jsonString(goPrompt), jsonString(goSuffix))
	_, evs := postStream(t, srv.URL+"/v1/fim/completions", body)
	steps, masked := 0, false
	final := ""
	for _, e := range evs {
		if e == "[DONE]" {
			continue
		}
		var ch completionJSON
		if err := json.Unmarshal([]byte(e), &ch); err != nil {
			t.Fatalf("chunk %q: %v", e, err)
		}
		if ch.Dfim["diffusing"] == true {
			steps++
			masked = masked || strings.Contains(ch.Choices[0].Text, infill.MaskGlyph)
			continue
		}
		if len(ch.Choices) > 0 && ch.Choices[0].FinishReason == nil {
			final = ch.Choices[0].Text
		}
	}
	if steps < 2 || !masked {
		t.Errorf("%d step events (a mask shown: %v), want several, the first ones masked", steps, masked)
	}
	if final == "" {
		t.Errorf("no final text chunk after the steps: %q", evs)
	}
	status, v := post(t, srv.URL+"/v1/fim/completions", `{"prompt":"x","diffusing":true}`)
	if status != 400 || !strings.Contains(errorMessage(v), "stream") {
		t.Errorf("diffusing without stream: %d %v, want 400 saying it needs stream", status, v)
	}
}

// TestInfillBuiltin: llama.cpp's /infill with input_extra, streamed and
// whole, response_fields, and n_predict 0 (llama.vim's cache warm-up)
// answered at once.
func TestInfillBuiltin(t *testing.T) {
	srv := newBuiltinServer(t, Options{})
	extra := `[{"filename":"util.go","text":"func double(x int) int { return 2 * x }\n"}]`
	body := fmt.Sprintf(`{"input_prefix":%s,"input_suffix":%s,"input_extra":%s,"n_predict":24,"filename":"stack.go","min_confidence":0,"samplers":[],"cache_prompt":true,"t_max_prompt_ms":500}`,
		jsonString(goPrompt), jsonString(goSuffix), extra)
	status, v := post(t, srv.URL+"/infill", body)
	if status != 200 || v["stop"] != true || v["content"] == "" || v["timings"] == nil {
		t.Fatalf("status %d: %v, want content, stop and timings", status, v)
	}
	if v["tokens_predicted"].(float64) <= 0 || v["tokens_evaluated"].(float64) <= 0 {
		t.Errorf("token counts %v %v", v["tokens_predicted"], v["tokens_evaluated"])
	}
	picked := strings.Replace(body, `"samplers"`, `"response_fields":["content","timings/predicted_n"],"samplers"`, 1)
	if status, v = post(t, srv.URL+"/infill", picked); status != 200 || len(v) != 2 || v["timings/predicted_n"] == nil {
		t.Errorf("response_fields: %d %v, want content and timings/predicted_n only", status, v)
	}
	start := time.Now()
	status, v = post(t, srv.URL+"/infill", fmt.Sprintf(`{"input_prefix":%s,"input_suffix":"","n_predict":0}`, jsonString(goPrompt)))
	if status != 200 || v["content"] != "" || time.Since(start) > 2*time.Second {
		t.Errorf("n_predict 0: %d %v, want an empty content at once", status, v)
	}
	resp, evs := postStream(t, srv.URL+"/infill", strings.Replace(body, `"n_predict":24`, `"n_predict":24,"stream":true`, 1))
	if resp.StatusCode != 200 || len(evs) == 0 {
		t.Fatalf("stream: %d %q", resp.StatusCode, evs)
	}
	var last map[string]any
	json.Unmarshal([]byte(evs[len(evs)-1]), &last)
	if last["stop"] != true {
		t.Errorf("last streamed chunk %v: want stop true", last)
	}
}

// TestHolesBuiltin: with "holes", a <<fill>> marker in the suffix is
// filled with the cursor, in one canvas, and every hole is reported.
func TestHolesBuiltin(t *testing.T) {
	srv := newBuiltinServer(t, Options{})
	suffix := "\n}\n\nfunc (s *Stack) Empty() bool {\n\treturn <<fill:1>>\n}\n"
	body := fmt.Sprintf(`{"prompt":%s,"suffix":%s,"holes":true,"language":"go","min_confidence":0}`, jsonString(goPrompt), jsonString(suffix))
	status, v := post(t, srv.URL+"/v1/completions", body)
	if status != 200 {
		t.Fatalf("status %d: %v", status, v)
	}
	c := v["choices"].([]any)[0].(map[string]any)
	holes, _ := c["dfim"].(map[string]any)["holes"].([]any)
	if len(holes) != 2 {
		t.Fatalf("holes %v, want the cursor and the marker", holes)
	}
	h0, h1 := holes[0].(map[string]any), holes[1].(map[string]any)
	if int(h0["offset"].(float64)) != len(goPrompt) || h0["length"].(float64) != 0 {
		t.Errorf("hole 0 %v: want the cursor at %d", h0, len(goPrompt))
	}
	if want := len(goPrompt) + strings.Index(suffix, "<<fill:1>>"); int(h1["offset"].(float64)) != want || h1["length"].(float64) != float64(len("<<fill:1>>")) {
		t.Errorf("hole 1 %v: want the marker at %d", h1, want)
	}
	if c["text"] != h0["text"] {
		t.Errorf("text %q, want the cursor's fill %q", c["text"], h0["text"])
	}
}

// TestMalformedBodies: each bad request gets 400 with a message in
// OpenAI's shape, and the server keeps serving.
func TestMalformedBodies(t *testing.T) {
	srv := newFakeServer(t, &fakeCompleter{text: "a + b"}, Options{})
	cases := []struct{ path, body, want string }{
		{"/v1/completions", `{"prompt": "x",`, "not valid JSON"},
		{"/v1/completions", `not json at all`, "not valid JSON"},
		{"/v1/completions", ``, "empty request body"},
		{"/v1/completions", `[1, 2]`, "not the JSON"},
		{"/v1/completions", `{"suffix": "x"}`, "missing \"prompt\""},
		{"/v1/completions", `{"prompt": 42}`, "must be a string"},
		{"/v1/completions", `{"prompt": [1, 2, 3]}`, "list of strings"},
		{"/v1/completions", `{"prompt": ["a", "b"]}`, "one prompt"},
		{"/v1/completions", `{"prompt": "x", "max_tokens": "many"}`, `"max_tokens"`},
		{"/v1/completions", `{"prompt": "x", "max_tokens": -3}`, "max_tokens -3"},
		{"/v1/completions", `{"prompt": "x", "n": 0}`, "n 0"},
		{"/v1/completions", `{"prompt": "x", "temperature": 9}`, "temperature 9"},
		{"/v1/completions", `{"prompt": "x", "top_p": 1.5}`, "top_p 1.5"},
		{"/infill", `{"input_prefix": "x", "top_p": -1}`, "top_p -1"},
		{"/v1/completions", `{"prompt": "x", "stop": 7}`, `"stop"`},
		{"/v1/completions", `{"prompt": "x", "echo": true}`, "echo"},
		{"/v1/fim/completions", `{"prompt": "x", "min_confidence": 2}`, "min_confidence"},
		{"/v1/fim/completions", `{"prompt": "a\u0000b"}`, "NUL"},
		{"/infill", `{"input_suffix": "x"}`, "input_prefix"},
		{"/infill", `{"input_prefix": "x", "input_extra": "y"}`, `"input_extra"`},
		{"/infill", `{"input_prefix": "x", "n_predict": 1.5}`, `"n_predict"`},
	}
	for _, tc := range cases {
		status, v := post(t, srv.URL+tc.path, tc.body)
		e, _ := v["error"].(map[string]any)
		if status != 400 || e["type"] != typeInvalid || !strings.Contains(errorMessage(v), tc.want) {
			t.Errorf("%s %s: %d %v, want 400 invalid_request_error saying %q", tc.path, tc.body, status, v, tc.want)
		}
	}
	if status, v := post(t, srv.URL+"/v1/completions", `{"prompt": "x"}`); status != 200 || v["choices"].([]any)[0].(map[string]any)["text"] != "a + b" {
		t.Errorf("after the bad requests: %d %v, want the fill", status, v)
	}
}

// TestStopAndCandidates: stop strings cut the fill (finish_reason stop);
// a suggestion covering closers after the cursor is answered as an
// insertion that keeps them.
func TestStopAndCandidates(t *testing.T) {
	srv := newFakeServer(t, &fakeCompleter{text: "a + b\n}\nfunc g() {}"}, Options{})
	_, v := post(t, srv.URL+"/v1/completions", `{"prompt": "return ", "suffix": "\n}", "stop": ["\n}", "\n\n"]}`)
	c := v["choices"].([]any)[0].(map[string]any)
	if c["text"] != "a + b" || c["finish_reason"] != "stop" {
		t.Errorf("choice %v, want text cut at the stop string", c)
	}
	// Continue sends <|endoftext|> as the suffix when there is none.
	_, v = post(t, srv.URL+"/v1/completions", `{"prompt": "return ", "suffix": "<|endoftext|>", "stop": "\n"}`)
	if c := v["choices"].([]any)[0].(map[string]any); c["text"] != "a + b" {
		t.Errorf("choice %v", c)
	}
	if got, ok := insertion("f(x)", 3, infillSuggestion("y)", 3, 4)); !ok || got != "y" {
		t.Errorf("insertion over a closer: %q %v, want \"y\"", got, ok)
	}
	if _, ok := insertion("f(x)", 3, infillSuggestion("y]", 3, 4)); ok {
		t.Error("a fill that rewrites the closer cannot be an insertion")
	}
}

// TestLimits: a body above the limit and a canvas above the token limit
// get 413; a request beyond the queue gets 429 with Retry-After.
func TestLimits(t *testing.T) {
	f := &fakeCompleter{text: "x", release: make(chan struct{}), started: make(chan struct{}, 8)}
	srv := newFakeServer(t, f, Options{MaxBodyBytes: 1000, MaxCanvasTokens: 50, MaxQueue: 1})
	status, v := post(t, srv.URL+"/v1/completions", `{"prompt": "`+strings.Repeat("a", 2000)+`"}`)
	if status != 413 || !strings.Contains(errorMessage(v), "1000 bytes") {
		t.Errorf("big body: %d %v, want 413", status, v)
	}
	status, v = post(t, srv.URL+"/infill", `{"input_prefix": "`+strings.Repeat("word ", 150)+`"}`)
	if e, _ := v["error"].(map[string]any); status != 413 || e["code"] != "context_length_exceeded" {
		t.Errorf("long canvas: %d %v, want 413 context_length_exceeded", status, v)
	}

	// One fill on the engine, one waiting: the third is refused.
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Go(func() {
			s, _ := post(t, srv.URL+"/v1/completions", `{"prompt": "a"}`)
			codes <- s
		})
	}
	<-f.started
	waitFor(t, func() bool { return metricValue(t, srv.URL, "dfim_http_queue_depth") == 1 })
	resp, err := http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(`{"prompt": "a"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third request: %d (Retry-After %q), want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(f.release)
	wg.Wait()
	if a, b := <-codes, <-codes; a != 200 || b != 200 {
		t.Errorf("the admitted requests got %d and %d, want 200", a, b)
	}
}

// TestDisconnectCancels: a client that leaves cancels its fill on the
// engine, and one that leaves while queued gives up its place.
func TestDisconnectCancels(t *testing.T) {
	f := &fakeCompleter{text: "x", release: make(chan struct{}), started: make(chan struct{}, 8)}
	srv := newFakeServer(t, f, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/completions", strings.NewReader(`{"prompt":"a"}`))
			_, err := http.DefaultClient.Do(req)
			errc <- err
		}()
	}
	<-f.started
	waitFor(t, func() bool { return metricValue(t, srv.URL, "dfim_http_queue_depth") == 1 })
	cancel()
	<-errc
	<-errc
	// The server learns of a disconnect asynchronously, so the queued
	// request may be granted the slot and start before its context ends:
	// then it is cancelled on the engine too.
	waitFor(t, func() bool { return f.cancels() >= 1 && metricValue(t, srv.URL, "dfim_http_queue_depth") == 0 })
	// The engine is free again: the next request is served.
	close(f.release)
	if status, _ := post(t, srv.URL+"/v1/completions", `{"prompt":"a"}`); status != 200 {
		t.Errorf("after the disconnects: %d", status)
	}
	if n := metricValue(t, srv.URL, `dfim_http_requests_total{endpoint="/v1/completions",code="499"}`); n != 2 {
		t.Errorf("%v requests recorded as the client gone (499), want 2", n)
	}
}

// TestAuthAndHealth: with an API key every endpoint but /health wants
// it; /health says 503 while the engine loads.
func TestAuthAndHealth(t *testing.T) {
	loaded := make(chan struct{})
	f := &fakeCompleter{text: "x"}
	s := New(Options{APIKey: "k3y", Load: func(context.Context) (infill.Filler, error) { <-loaded; return f, nil }})
	srv := httptestServer(t, s)
	get := func(path, key string) int {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get("/health", ""); st != 503 {
		t.Errorf("/health while loading: %d, want 503", st)
	}
	close(loaded)
	waitFor(t, func() bool { return get("/health", "") == 200 })
	for _, key := range []string{"", "wrong"} {
		if st := get("/v1/models", key); st != 401 {
			t.Errorf("/v1/models with key %q: %d, want 401", key, st)
		}
	}
	if st := get("/v1/models", "k3y"); st != 200 {
		t.Errorf("/v1/models with the key: %d", st)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/v1/completions", strings.NewReader(`{"prompt":"a"}`))
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("fill without a key: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// TestMetricsFormat: /metrics is Prometheus text: HELP and TYPE lines,
// then samples.
func TestMetricsFormat(t *testing.T) {
	srv := newFakeServer(t, &fakeCompleter{text: "x"}, Options{})
	post(t, srv.URL+"/v1/completions", `{"prompt":"a"}`)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		`dfim_http_requests_total{endpoint="/v1/completions",code="200"} 1`,
		`dfim_http_request_duration_seconds_bucket{endpoint="/v1/completions",le="+Inf"} 1`,
		"dfim_http_generated_tokens_total 3", "dfim_http_queue_depth 0", "# TYPE dfim_http_tokens_per_second gauge",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if !strings.HasPrefix(line, "# ") && len(strings.Fields(line)) != 2 {
			t.Errorf("sample line %q is not NAME VALUE", line)
		}
	}
}
