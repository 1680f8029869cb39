package remote

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

// These tests replay what llama.cpp's llama-server answers (testdata/
// llamacpp, see its README for the version), so they run without one;
// testdata/llamacpp/run.sh runs the engines against a real server.

// Item 1: given llama-server's root URL, the engine sees llama.cpp in
// /props and fills through /infill, where the suffix reaches the model,
// instead of /v1/completions, whose handler drops the suffix field.
func TestLlamaCppRootURLUsesInfill(t *testing.T) {
	for _, endpoint := range []string{"", "/", "/v1", "/v1/completions"} {
		rp := newReplay(t, map[string][]string{
			"GET /props":   {"llamacpp/props"},
			"POST /infill": {"llamacpp/infill-stream"},
		})
		e, log := openaiWith(t, engine.Config{Endpoint: rp.URL + endpoint}, detecting())
		res := fill(t, e, pyCanvas())
		if got := res.Candidates[0].Holes[0]; got != "a + b" {
			t.Errorf("%q: fill %q, want \"a + b\"", endpoint, got)
		}
		if n := rp.count("POST /v1/completions"); n != 0 || rp.count("POST /infill") != 1 {
			t.Errorf("%q: requests %v, want /props then one /infill", endpoint, rp.requests())
		}
		b := rp.last("POST /infill")
		if b["input_prefix"] != "def add(a, b):\n    return " || b["input_suffix"] != "\n\nprint(add(1, 2))\n" {
			t.Errorf("%q: /infill body %v, want the prefix and the suffix", endpoint, b)
		}
		for _, want := range []string{"api=/infill", "server=\"llama.cpp b1-de3ff81\"", "n_ctx=1024", "drops the suffix"} {
			if !strings.Contains(log.String(), want) {
				t.Errorf("%q: debug log %q lacks %q", endpoint, log.String(), want)
			}
		}
		if d := e.Describe(); !strings.Contains(d, "llama.cpp") || !strings.Contains(d, "/infill") {
			t.Errorf("Describe() = %q, want the server and the API", d)
		}
		// The look is made once.
		fill(t, e, pyCanvas())
		if n := rp.count("GET /props"); n != 1 {
			t.Errorf("%q: %d looks at /props, want 1", endpoint, n)
		}
	}
}

// Behind a proxy that hides /props and the Server header, llama.cpp still
// names itself in /v1/models (owned_by "llamacpp").
func TestLlamaCppFoundByModels(t *testing.T) {
	rp := newReplay(t, map[string][]string{
		"GET /v1/models": {"llamacpp/models"},
		"POST /infill":   {"llamacpp/infill-stream"},
	})
	e, _ := openaiWith(t, engine.Config{Endpoint: rp.URL}, detecting())
	fill(t, e, pyCanvas())
	if rp.count("POST /infill") != 1 || rp.count("POST /v1/completions") != 0 {
		t.Errorf("requests %v, want /infill", rp.requests())
	}
	if n := e.ContextLength(); n != 1024 {
		t.Errorf("ContextLength() = %d, want meta.n_ctx 1024", n)
	}
}

// vLLM refuses suffix: once /v1/models names it, the first request
// already carries the model's FIM template, and its context is
// max_model_len.
func TestVLLMGetsTemplateAtOnce(t *testing.T) {
	rp := newReplay(t, map[string][]string{
		"GET /props":           {"vllm/not-found"},
		"GET /v1/models":       {"vllm/models"},
		"POST /v1/completions": {"vllm/completions"},
	})
	e, log := openaiWith(t, engine.Config{Endpoint: rp.URL + "/v1"}, detecting())
	if n := e.ContextLength(); n != 32768 {
		t.Errorf("ContextLength() = %d, want max_model_len 32768", n)
	}
	res := fill(t, e, pyCanvas())
	if res.Candidates[0].Holes[0] != "a + b" || rp.count("POST /v1/completions") != 1 {
		t.Fatalf("fill %v after %v", res.Candidates, rp.requests())
	}
	b := rp.last("POST /v1/completions")
	if _, ok := b["suffix"]; ok || !strings.HasPrefix(b["prompt"].(string), "<|fim_prefix|>") {
		t.Errorf("body %v, want the qwen template and no suffix field", b)
	}
	if !strings.Contains(log.String(), "template=qwen") {
		t.Errorf("debug log %q, want the template named", log.String())
	}
}

// llama.cpp still loading its model answers 503 to everything: the look
// is made again later, not taken as "not llama.cpp".
func TestLlamaCppLoadingLooksAgain(t *testing.T) {
	rp := newReplay(t, map[string][]string{
		"GET /props":   {"llamacpp/loading", "llamacpp/props"},
		"POST /infill": {"llamacpp/infill-stream"},
	})
	e, _ := openaiWith(t, engine.Config{Endpoint: rp.URL}, detecting())
	if n := e.ContextLength(); n != 0 {
		t.Errorf("while loading: ContextLength() = %d, want 0 (unknown)", n)
	}
	e.mu.Lock()
	e.probeAt = time.Time{} // as if probeEvery had passed
	e.mu.Unlock()
	if n := e.ContextLength(); n != 1024 {
		t.Errorf("loaded: ContextLength() = %d, want 1024", n)
	}
	fill(t, e, pyCanvas())
	if rp.count("POST /infill") != 1 {
		t.Errorf("requests %v, want /infill (the Server header said llama.cpp even while loading)", rp.requests())
	}
}

// Item 2: an older llama.cpp answers 500 "Unsupported param: suffix". That
// refuses the request's shape, it is no outage: one request, no retries,
// no breaker, then the template.
func TestOldLlamaCppSuffixRefusalIsNoOutage(t *testing.T) {
	rp := newReplay(t, map[string][]string{
		"POST /v1/completions": {"llamacpp/old-completions-suffix-refused", "llamacpp/completions-logprobs"},
	})
	var w waits
	tune := fastTuning(&w) // the look finds nothing to go on here
	tune.threshold = 1     // one outage would open the breaker
	t.Setenv(templateEnv, "")
	e, _ := openaiWith(t, engine.Config{Endpoint: rp.URL, RemoteModel: "qwen2.5-coder-1.5b"}, tune)
	res := fill(t, e, pyCanvas())
	if res.Candidates[0].Holes[0] != "a + b" {
		t.Errorf("fill %q", res.Candidates[0].Holes[0])
	}
	bs := rp.bodies("POST /v1/completions")
	if len(bs) != 2 || len(w.list()) != 0 {
		t.Fatalf("%d requests, %d backoff waits; want 2 (refusal, template) and none", len(bs), len(w.list()))
	}
	if _, ok := bs[1]["suffix"]; ok || !strings.Contains(bs[1]["prompt"].(string), "<|fim_suffix|>") {
		t.Errorf("second request %v, want the qwen template", bs[1])
	}
	if e.c.breaker.isOpen() {
		t.Error("the breaker opened on a refusal")
	}
}

func TestRefusalClassification(t *testing.T) {
	for _, tc := range []struct {
		answer string
		want   bool
	}{
		{"llamacpp/old-completions-suffix-refused", true},
		{"llamacpp/old-completions-n-refused", true},
		{"llamacpp/infill-nofim", true},
		{"llamacpp/completions-n-refused", true},
		{"llamacpp/infill-exceeds-context", true},
		{"llamacpp/loading", false},
	} {
		a := loadAnswer(t, tc.answer)
		se := parseServerError(a.body)
		e := &Error{Status: a.status, Server: se.message, Type: se.typ}
		if got := refusal(e); got != tc.want {
			t.Errorf("%s (%d %q): refusal = %v, want %v", tc.answer, a.status, se.message, got, tc.want)
		}
	}
	for _, e := range []*Error{{Status: 500, Server: "CUDA error: out of memory", Type: "server_error"}, {Status: 502}, {Status: 429}} {
		if refusal(e) {
			t.Errorf("%d %q counted as a refusal; it is an outage", e.Status, e.Server)
		}
	}
}

// Item 3: a model without FIM tokens is refused once (501), with an error
// that names the missing tokens and what to do, and the breaker stays
// closed; no template fits (its vocabulary lacks qwen's tokens too).
func TestInfillWithoutFIMTokens(t *testing.T) {
	rp := newReplay(t, map[string][]string{
		"GET /props":     {"llamacpp/props-nofim"},
		"POST /infill":   {"llamacpp/infill-nofim"},
		"POST /tokenize": {"llamacpp/tokenize-qwen-absent"},
	})
	var w waits
	tune := detecting()
	tune.sleep = fastTuning(&w).sleep
	tune.threshold = 1
	e, _ := openaiWith(t, engine.Config{Endpoint: rp.URL}, tune)
	req := pyCanvas()
	req.Opts.Candidates = 3
	for call := range 2 {
		_, err := e.Infill(context.Background(), req)
		var re *Error
		if !errors.As(err, &re) || re.Status != 501 {
			t.Fatalf("call %d: err = %v, want the 501", call, err)
		}
		if call == 0 {
			t.Logf("a model without FIM tokens: %v", err)
		}
		for _, want := range []string{"prefix token is missing", "tokenizer.ggml.fim_pre_token_id", "Qwen2.5-Coder", "lacks the qwen template's tokens"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("call %d: err %q lacks %q", call, err, want)
			}
		}
		if strings.Contains(err.Error(), "try again later") || errors.Is(err, ErrCircuitOpen) {
			t.Errorf("call %d: err %q treats the model as an outage", call, err)
		}
		if n := rp.count("POST /infill"); n != call+1 {
			t.Errorf("call %d: %d /infill requests in all, want one a fill", call, n)
		}
	}
	if len(w.list()) != 0 || rp.count("POST /tokenize") != 1 {
		t.Errorf("%d backoff waits, %d vocabulary checks; want none and one", len(w.list()), rp.count("POST /tokenize"))
	}
}

// Item 3, the other way out: llama.cpp does not know Codestral's
// [SUFFIX]/[PREFIX] as FIM tokens, but the vocabulary has them, so after
// the one 501 the fill goes to /v1/completions with the codestral template
// (and its {"content": [{logprob}]} logprobs rank the candidates).
func TestInfillWithoutFIMTokensTakesTemplate(t *testing.T) {
	rp := newReplay(t, map[string][]string{
		"GET /props":           {"llamacpp/props-codestral"},
		"POST /infill":         {"llamacpp/infill-nofim"},
		"POST /tokenize":       {"llamacpp/tokenize-codestral"},
		"POST /v1/completions": {"llamacpp/completions-stream-logprobs"},
	})
	e, log := openaiWith(t, engine.Config{Endpoint: rp.URL}, detecting())
	req := pyCanvas()
	req.Opts.Candidates = 2
	req.Opts.Temperature = 0.3
	res := fill(t, e, req)
	if got := res.Candidates[0].Holes[0]; got != "a + b" {
		t.Errorf("fill %q, want \"a + b\"", got)
	}
	if want := -0.105 - 0.2231 - 0.0513; math.Abs(res.Candidates[0].LogProb-want) > 1e-9 {
		t.Errorf("LogProb %v, want %v from logprobs.content", res.Candidates[0].LogProb, want)
	}
	b := rp.last("POST /v1/completions")
	if want := "[SUFFIX]\n\nprint(add(1, 2))\n[PREFIX]def add(a, b):\n    return "; b["prompt"] != want || b["logprobs"] != 1.0 {
		t.Errorf("body %v, want the codestral prompt %q and logprobs 1", b, want)
	}
	if rp.count("POST /infill") != 1 || !strings.Contains(log.String(), "template=codestral") {
		t.Errorf("requests %v, log %q", rp.requests(), log.String())
	}
	fill(t, e, req)
	if rp.count("POST /infill") != 1 {
		t.Error("a later fill asked /infill again")
	}
}

// Item 5: llama.cpp refuses more candidates than it has slots; the
// engine then asks one at a time (and remembers). At temperature 0 the
// first candidate is greedy and the others sampled at rising
// temperatures, since n greedy choices are n copies.
func TestCandidatesBeyondSlots(t *testing.T) {
	for _, refusal := range []string{"llamacpp/completions-n-refused", "llamacpp/old-completions-n-refused"} {
		rp := newReplay(t, map[string][]string{
			"GET /props":           {"llamacpp/props"},
			"POST /v1/completions": {"llamacpp/completions-logprobs", refusal, "llamacpp/completions-logprobs"},
		})
		t.Setenv(templateEnv, "qwen") // forced: /v1/completions with the template, on llama.cpp too
		tune := detecting()
		tune.threshold = 1
		e, _ := openaiWith(t, engine.Config{Endpoint: rp.URL}, tune)
		req := pyCanvas()
		req.Opts.Candidates = 3
		req.Opts.Seed = 11
		res := fill(t, e, req)
		if len(res.Candidates) != 3 {
			t.Fatalf("%s: %d candidates, want 3", refusal, len(res.Candidates))
		}
		bs := rp.bodies("POST /v1/completions")
		var got []string
		for _, b := range bs {
			got = append(got, strings.TrimSpace(strings.Join([]string{fmtNum(b["n"]), fmtNum(b["temperature"]), fmtNum(b["seed"])}, "/")))
		}
		// greedy alone; two together refused; then one at a time
		want := "-/0/11 2/0.4/12 -/0.4/12 -/0.6/13"
		if strings.Join(got, " ") != want {
			t.Errorf("%s: n/temperature/seed %q, want %q", refusal, strings.Join(got, " "), want)
		}
		fill(t, e, req)
		for _, b := range rp.bodies("POST /v1/completions")[len(bs):] {
			if _, ok := b["n"]; ok {
				t.Errorf("%s: after a refusal of n, a later fill asked for n = %v", refusal, b["n"])
			}
		}
		if e.c.breaker.isOpen() {
			t.Errorf("%s: the breaker opened", refusal)
		}
	}
}

// Item 5 on /infill (one candidate a request): temperatures differ too.
func TestInfillCandidatesVaryTemperature(t *testing.T) {
	rp := newReplay(t, map[string][]string{
		"GET /props":   {"llamacpp/props"},
		"POST /infill": {"llamacpp/infill-stream"},
	})
	e, _ := openaiWith(t, engine.Config{Endpoint: rp.URL}, detecting())
	req := pyCanvas()
	req.Opts.Candidates = 3
	fill(t, e, req)
	temps := map[string]bool{}
	for _, b := range rp.bodies("POST /infill") {
		temps[fmtNum(b["temperature"])] = true
		if b["n_probs"] != 1.0 {
			t.Errorf("body %v, want n_probs 1 to rank candidates", b)
		}
	}
	if !temps["0"] || !temps["0.4"] || !temps["0.6"] {
		t.Errorf("temperatures %v, want 0, 0.4 and 0.6", temps)
	}
}

// Item 6: llama.cpp's router wants a model name; the hint names
// --remote-model and the models it offers, not the prompt's length.
func TestRouterModelHints(t *testing.T) {
	for _, tc := range []struct{ model, answer, want string }{
		{"", "llamacpp/router-model-missing", "pass --remote-model"},
		{"qwen2.5-coder", "llamacpp/router-model-not-found", `no model "qwen2.5-coder": check --remote-model`},
	} {
		rp := newReplay(t, map[string][]string{
			"GET /props":     {"llamacpp/router-props"},
			"GET /v1/models": {"llamacpp/router-models"},
			"POST /infill":   {tc.answer},
		})
		e, _ := openaiWith(t, engine.Config{Endpoint: rp.URL, RemoteModel: tc.model}, detecting())
		_, err := e.Infill(context.Background(), pyCanvas())
		t.Logf("model %q: %v", tc.model, err)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "it offers qwen2-fim, qwen2-nofim") {
			t.Errorf("model %q: err = %v, want %q and the models", tc.model, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "too long") {
			t.Errorf("model %q: err = %v blames the prompt", tc.model, err)
		}
	}
	// With the right name, the model's own context comes from its /props,
	// asked for without loading it.
	rp := newReplay(t, map[string][]string{
		"GET /props": {"llamacpp/router-props"},
		"GET /props?autoload=false&model=qwen2-fim": {"llamacpp/router-props-qwen2-fim"},
		"GET /v1/models": {"llamacpp/router-models"},
		"POST /infill":   {"llamacpp/infill-stream"},
	})
	e, _ := openaiWith(t, engine.Config{Endpoint: rp.URL, RemoteModel: "qwen2-fim"}, detecting())
	if n := e.ContextLength(); n != 2048 {
		t.Errorf("ContextLength() = %d, want the model's 2048; requests %v", n, rp.requests())
	}
	fill(t, e, pyCanvas())
	if rp.last("POST /infill")["model"] != "qwen2-fim" {
		t.Errorf("/infill body %v, want the model named", rp.last("POST /infill"))
	}
}

// Item 7: the openai engine streams every request, observed or not, so a
// cancelled fill closes the connection and llama.cpp stops generating.
func TestCancelledFillClosesTheStream(t *testing.T) {
	closed := make(chan time.Duration, 1)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if s := r.Header.Get("Accept"); s != "text/event-stream" {
			t.Errorf("Accept %q, want a stream", s)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte(`data: {"index":0,"content":"a","tokens":[64],"stop":false,"id_slot":0,"tokens_predicted":1,"tokens_evaluated":21}` + "\n\n"))
		w.(http.Flusher).Flush()
		start := time.Now()
		select { // a server generating 1,900 more tokens
		case <-r.Context().Done():
			closed <- time.Since(start)
		case <-time.After(5 * time.Second):
			closed <- -1
		}
	})
	e := openaiAt(t, s.URL+"/infill", fastTuning(nil))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := e.Infill(ctx, pyCanvas()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := <-closed; d < 0 || d > 2*time.Second {
		t.Errorf("the server saw the client leave after %v, want at once", d)
	}
	if s.lastBody()["stream"] != true {
		t.Errorf("body %v, want stream true with no Observe", s.lastBody())
	}
}

// Item 7, stops: a hole that is the rest of one line ends at a newline on
// the server. (parseCanvas cannot tell such a hole yet: engine.Segment
// has no field for a hole's shape.)
func TestStopsReachTheServer(t *testing.T) {
	e, _ := openaiWith(t, engine.Config{Endpoint: "http://127.0.0.1:1"}, fastTuning(nil))
	cv := fimCanvas{prefix: "x := ", suffix: "\n", maxTok: 16, stop: []string{"\n"}}
	a := ask{cv: cv, n: 1}
	if got := e.infillBody(a).Stop; len(got) != 1 || got[0] != "\n" {
		t.Errorf("/infill stop %q, want [\"\\n\"]", got)
	}
	if got := e.completionsBody(a, nil).Stop; len(got) != 1 || got[0] != "\n" {
		t.Errorf("/v1/completions stop %q", got)
	}
	cv.stop = nil
	if got := e.infillBody(ask{cv: cv, n: 1}).Stop; got != nil {
		t.Errorf("stop %q for a hole of any shape, want none", got)
	}
}

// Item 8: the canvas is sized to the server's context (ContextLength, from
// /props), and a prompt the server still finds too long (400
// exceed_context_size_error) is cut to fit and asked once more.
func TestPromptSizedToServerContext(t *testing.T) {
	rp := newReplay(t, map[string][]string{
		"GET /props":   {"llamacpp/props"},
		"POST /infill": {"llamacpp/infill-exceeds-context", "llamacpp/infill-stream"},
	})
	tune := detecting()
	tune.threshold = 1
	e, log := openaiWith(t, engine.Config{Endpoint: rp.URL}, tune)
	var sizer engine.Denoiser = e
	cs, ok := sizer.(engine.ContextSizer)
	if !ok || cs.ContextLength() != 1024 {
		t.Fatalf("ContextSizer %v, want n_ctx 1024 from /props", ok)
	}
	prefix := strings.Repeat("x = x + 1 # a line of about forty bytes\n", 150) + "def add(a, b):\n    return "
	suffix := "\n" + strings.Repeat("print(add(1, 2))  # and more of these\n", 50)
	res := fill(t, e, canvas(prefix, suffix, 24))
	if res.Candidates[0].Holes[0] != "a + b" {
		t.Errorf("fill %q", res.Candidates[0].Holes[0])
	}
	bs := rp.bodies("POST /infill")
	if len(bs) != 2 {
		t.Fatalf("%d /infill requests, want 2", len(bs))
	}
	p1, p2 := bs[0]["input_prefix"].(string), bs[1]["input_prefix"].(string)
	s2 := bs[1]["input_suffix"].(string)
	if len(p2) >= len(p1) || !strings.HasSuffix(p2, "def add(a, b):\n    return ") || !strings.HasPrefix(s2, "\nprint") {
		t.Errorf("second prefix %d bytes (first %d), suffix %q…: want both cut at lines, the nearest text kept", len(p2), len(p1), s2[:min(len(s2), 20)])
	}
	// 1529 tokens for 1024: about 9/10 of 0.64 of the text is left.
	if r := float64(len(p2)) / float64(len(p1)); r > 0.62 || r < 0.4 {
		t.Errorf("prefix kept %.2f of its bytes, want about 0.57", r)
	}
	if e.c.breaker.isOpen() || !strings.Contains(log.String(), "cutting the canvas") {
		t.Errorf("breaker open %v, log %q", e.c.breaker.isOpen(), log.String())
	}
}

// The logprobs of llama.cpp's /v1/completions come as {"content":
// [{logprob}]}; they rank candidates like OpenAI's token_logprobs.
func TestLlamaCppLogprobsContent(t *testing.T) {
	a := loadAnswer(t, "llamacpp/completions-logprobs")
	c := []*candidate{{}}
	if err := readCompletion(strings.NewReader(string(a.body)), false, c, nil); err != nil {
		t.Fatal(err)
	}
	if want := -0.105 - 0.2231 - 0.0513; c[0].logprobs != 3 || math.Abs(c[0].logprob-want) > 1e-9 {
		t.Errorf("%d logprobs summing to %v, want 3 summing to %v", c[0].logprobs, c[0].logprob, want)
	}
	// A server that ignores "stream" and answers whole is read whole.
	c = []*candidate{{}}
	if err := readCompletion(strings.NewReader(string(a.body)), true, c, nil); err != nil || c[0].text.String() != "a + b" {
		t.Errorf("whole answer to a streamed request: %q, %v", c[0].text.String(), err)
	}
}

// fmtNum writes a JSON number as the tests compare it; "-" when absent.
func fmtNum(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// On llama.cpp every fill asks for the sampled tokens' logprobs (n_probs
// 1): they give the fill a Confidence, which infill ranks and gates on.
func TestInfillConfidenceFromProbabilities(t *testing.T) {
	rp := newReplay(t, map[string][]string{
		"GET /props":   {"llamacpp/props"},
		"POST /infill": {"llamacpp/infill-stream-probs"},
	})
	e, _ := openaiWith(t, engine.Config{Endpoint: rp.URL}, detecting())
	f := fill(t, e, pyCanvas()).Candidates[0]
	if rp.last("POST /infill")["n_probs"] != 1.0 {
		t.Errorf("body %v, want n_probs 1", rp.last("POST /infill"))
	}
	sum := -0.105 - 0.2231 - 0.0513
	if math.Abs(f.LogProb-sum) > 1e-9 || math.Abs(f.Confidence-math.Exp(sum/3)) > 1e-9 || f.Tokens[0] != 4 {
		t.Errorf("LogProb %v, Confidence %v, %d tokens; want %v, %v, 4", f.LogProb, f.Confidence, f.Tokens[0], sum, math.Exp(sum/3))
	}
}

// A line-shaped hole (Segment.MaxLines 1, as infill plans the rest of a
// line) becomes a newline stop; any other hole gets none.
func TestLineHoleGetsNewlineStop(t *testing.T) {
	for _, tc := range []struct {
		maxLines int
		want     []string
	}{{1, []string{"\n"}}, {0, nil}, {3, nil}} {
		cv, err := parseCanvas([]engine.Segment{{Text: "x := "}, {Hole: true, MaxTok: 8, MaxLines: tc.maxLines}, {Text: "\n"}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cv.stop, tc.want) {
			t.Errorf("MaxLines %d: stop %q, want %q", tc.maxLines, cv.stop, tc.want)
		}
	}
}
