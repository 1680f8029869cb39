package remote

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
)

func TestOpenAICompletionsWithN(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeJSON(w, map[string]any{"choices": []map[string]any{
			{"index": 0, "text": "x + 1", "finish_reason": "stop",
				"logprobs": map[string]any{"tokens": []string{"x", " +", " 1"}, "token_logprobs": []float64{-0.1, -0.2, -0.3}}},
			{"index": 1, "text": "y", "finish_reason": "stop",
				"logprobs": map[string]any{"tokens": []string{"y"}, "token_logprobs": []float64{-2}}},
		}, "usage": map[string]any{"completion_tokens": 4}})
	})
	e := openaiAt(t, s.URL+"/v1/", fastTuning(nil))
	req := canvas("return ", "\n}", 16)
	req.Opts.Candidates = 2
	req.Opts.Seed = 7
	req.Opts.Temperature = 0.5 // sampled: one request asks for both
	res, err := e.Infill(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if s.lastPath() != "/v1/completions" || s.hits.Load() != 1 {
		t.Errorf("%d requests to %q, want 1 to /v1/completions", s.hits.Load(), s.lastPath())
	}
	b := s.lastBody()
	want := map[string]any{"prompt": "return ", "suffix": "\n}", "max_tokens": 16.0, "n": 2.0,
		"temperature": 0.5, "seed": 7.0, "stream": true, "logprobs": 1.0}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("request %s = %#v, want %#v", k, b[k], v)
		}
	}
	if _, ok := b["model"]; ok {
		t.Errorf("no --remote-model: the request should leave model out, has %v", b["model"])
	}
	if len(res.Candidates) != 2 {
		t.Fatalf("%d candidates, want 2", len(res.Candidates))
	}
	c0, c1 := res.Candidates[0], res.Candidates[1]
	if c0.Holes[0] != "x + 1" || c1.Holes[0] != "y" {
		t.Errorf("fills %q %q", c0.Holes[0], c1.Holes[0])
	}
	if math.Abs(c0.LogProb-(-0.6)) > 1e-9 || c0.Tokens[0] != 3 {
		t.Errorf("candidate 0: LogProb %v, %d tokens; want -0.6 and 3 from logprobs", c0.LogProb, c0.Tokens[0])
	}
	if want := math.Exp(-0.2); math.Abs(c0.Confidence-want) > 1e-9 {
		t.Errorf("candidate 0 confidence %v, want exp(mean logprob) = %v", c0.Confidence, want)
	}
	if c1.Confidence >= c0.Confidence {
		t.Errorf("confidences %v, %v: the less likely fill should rank lower", c0.Confidence, c1.Confidence)
	}
}

// Servers that ignore n (llama.cpp, Ollama) answer one choice; the other
// candidates are asked for one at a time, with their own seeds.
func TestOpenAIServerIgnoresN(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, completion(fmt.Sprintf("c%d", n)))
	})
	e := openaiAt(t, s.URL, fastTuning(nil))
	req := canvas("a", "b", 4)
	req.Opts.Candidates = 3
	req.Opts.Seed = 40
	res, err := e.Infill(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 3 || s.hits.Load() != 3 {
		t.Fatalf("%d candidates from %d requests, want 3 from 3", len(res.Candidates), s.hits.Load())
	}
	for i, c := range res.Candidates {
		if want := fmt.Sprintf("c%d", i+1); c.Holes[0] != want {
			t.Errorf("candidate %d = %q, want %q", i, c.Holes[0], want)
		}
	}
	if got := s.lastBody()["seed"]; got != 42.0 {
		t.Errorf("last request's seed = %v, want 42 (seed + candidate index)", got)
	}
	if _, ok := s.lastBody()["n"]; ok {
		t.Errorf("a follow-up request asks for one candidate, has n = %v", s.lastBody()["n"])
	}
}

func TestOpenAIStreamedCandidates(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeEvents(w,
			`{"choices":[{"index":0,"text":"a"}]}`,
			`{"choices":[{"index":1,"text":"b"}]}`,
			`{"choices":[{"index":0,"text":"a","finish_reason":"length"}]}`,
			`{"choices":[{"index":1,"text":"b","finish_reason":"stop"}]}`)
	})
	e := openaiAt(t, s.URL, fastTuning(nil))
	req := canvas("p", "s", 2)
	req.Opts.Candidates = 2
	req.Opts.Temperature = 0.7
	var steps []string
	req.Observe = func(st engine.Step) {
		steps = append(steps, fmt.Sprintf("%d:%d:%s", st.Candidate, st.Index, st.Holes[0].Text))
	}
	res, err := e.Infill(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(steps, " "), "0:0:a 1:0:b 0:1:aa 1:1:bb"; got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
	if res.Candidates[0].Holes[0] != "aa" || res.Candidates[1].Holes[0] != "bb" || s.hits.Load() != 1 {
		t.Errorf("fills %v after %d requests", res.Candidates, s.hits.Load())
	}
}

// A stream cut before [DONE] and before any finish_reason is a failure,
// not a short answer.
func TestOpenAIStreamWithoutEnd(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"text\":\"half\"}]}\n\n")
	})
	e := openaiAt(t, s.URL, fastTuning(nil))
	req := canvas("p", "s", 2)
	req.Observe = func(engine.Step) {}
	if _, err := e.Infill(context.Background(), req); err == nil || !strings.Contains(err.Error(), "[DONE]") {
		t.Errorf("err = %v, want a stream that ended early", err)
	}
}

func TestLlamaInfill(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeJSON(w, map[string]any{"content": "ln(x)", "stop": true, "tokens_predicted": 4})
	})
	e := openaiAt(t, s.URL+"/infill", fastTuning(nil))
	req := engine.Request{Segments: []engine.Segment{
		{Text: "// from util.go: func ln(float64) float64\n"}, {Text: "y := "}, {Hole: true, MaxTok: 9}, {Text: "\n"},
	}}
	req.Opts.Temperature = 0.2
	res, err := e.Infill(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if s.lastPath() != "/infill" {
		t.Errorf("path %q, want /infill", s.lastPath())
	}
	b := s.lastBody()
	want := map[string]any{"input_prefix": "y := ", "input_suffix": "\n", "n_predict": 9.0,
		"cache_prompt": true, "stream": true}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("request %s = %#v, want %#v", k, b[k], v)
		}
	}
	if math.Abs(b["temperature"].(float64)-0.2) > 1e-6 {
		t.Errorf("temperature = %v, want 0.2", b["temperature"])
	}
	if _, ok := b["prompt"]; ok {
		t.Errorf("request has prompt %q; /infill takes the prefix in input_prefix", b["prompt"])
	}
	extra, _ := b["input_extra"].([]any)
	if len(extra) != 1 || extra[0].(map[string]any)["text"] != "// from util.go: func ln(float64) float64\n" {
		t.Errorf("input_extra = %#v, want the context chunk", b["input_extra"])
	}
	f := res.Candidates[0]
	if f.Holes[0] != "ln(x)" || f.Tokens[0] != 4 {
		t.Errorf("fill %q (%d tokens), want \"ln(x)\" (4)", f.Holes[0], f.Tokens[0])
	}
}

func TestLlamaInfillStreamed(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range []string{`{"content":"fo","stop":false}`, `{"content":"o","stop":false}`,
			`{"content":"","stop":true,"tokens_predicted":2}`} {
			fmt.Fprintf(w, "data: %s\n\n", c)
			w.(http.Flusher).Flush()
		}
	})
	e := openaiAt(t, s.URL+"/infill/", fastTuning(nil))
	req := canvas("a", "b", 4)
	var seen []string
	req.Observe = func(st engine.Step) { seen = append(seen, st.Holes[0].Text) }
	res, err := e.Infill(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, "|") != "fo|foo" || res.Candidates[0].Holes[0] != "foo" || res.Candidates[0].Tokens[0] != 2 {
		t.Errorf("steps %q, fill %v", seen, res.Candidates[0])
	}
}

func TestOpenAIKeyOptional(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, completion("x")) })
	e := openaiAt(t, s.URL, fastTuning(nil))
	if _, err := e.Infill(context.Background(), canvas("a", "b", 4)); err != nil {
		t.Fatal(err)
	}
	if got := s.lastHeader().Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q with no key configured", got)
	}
	t.Setenv(openaiKeyEnv, "sk-local-server")
	e2, err := newOpenAI(engine.Config{Endpoint: s.URL, RemoteModel: "qwen2.5-coder"}, fastTuning(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e2.Infill(context.Background(), canvas("a", "b", 4)); err != nil {
		t.Fatal(err)
	}
	if got := s.lastHeader().Get("Authorization"); got != "Bearer sk-local-server" {
		t.Errorf("Authorization = %q, want the key from %s", got, openaiKeyEnv)
	}
	if s.lastBody()["model"] != "qwen2.5-coder" {
		t.Errorf("model = %v", s.lastBody()["model"])
	}
}

func TestOpenAIUnauthorizedNamesVariable(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
	e := openaiAt(t, s.URL, fastTuning(nil))
	_, err := e.Infill(context.Background(), canvas("a", "b", 4))
	if err == nil || !strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Errorf("err = %v, want it to name OPENAI_API_KEY", err)
	}
}
