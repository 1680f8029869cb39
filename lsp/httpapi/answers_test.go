package httpapi

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
)

// scriptedEngine is a denoiser that answers every request with fills,
// one per candidate asked for (the first ones), after steps steps.
type scriptedEngine struct {
	mu    sync.Mutex
	fills []engine.Fill
	steps int
}

func (e *scriptedEngine) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := min(max(req.Opts.Candidates, 1), len(e.fills))
	return engine.Result{Candidates: e.fills[:n], Steps: e.steps}, nil
}

func (e *scriptedEngine) Close() error { return nil }

// fill is one candidate's fill of the one hole.
func fill(text string, tokens int, confidence float64) engine.Fill {
	return engine.Fill{Holes: []string{text}, Tokens: []int{tokens}, Confidence: confidence, LogProb: -1}
}

// newScriptedServer serves the APIs over infill with e, logging into the
// returned observer.
func newScriptedServer(t *testing.T, e *scriptedEngine, opts Options) (string, *observer.ObservedLogs) {
	t.Helper()
	c := infill.New(e)
	core, logs := observer.New(zapcore.DebugLevel)
	opts.Logger = zap.New(core)
	opts.Load = func(context.Context) (infill.Filler, error) { return c, nil }
	return httptestServer(t, New(opts)).URL, logs
}

// TestGateHiddenFillSaysSo: when the confidence gate hides the fill, the
// answer is empty and says so, with the steps and tokens the engine spent
// on it (they read 0 before), and the request's log line says why
// (issue 27, item 16).
func TestGateHiddenFillSaysSo(t *testing.T) {
	e := &scriptedEngine{fills: []engine.Fill{fill("len(s.items)", 5, 0.2)}, steps: 4}
	url, logs := newScriptedServer(t, e, Options{})
	status, v := post(t, url+"/v1/completions", `{"prompt": "return ", "suffix": "\n}\n", "min_confidence": 0.6}`)
	if status != 200 {
		t.Fatalf("status %d: %v", status, v)
	}
	ch := v["choices"].([]any)[0].(map[string]any)
	d := ch["dfim"].(map[string]any)
	if ch["text"] != "" || d["gated"] != true || d["tokens"] != 5.0 || !strings.Contains(fmt.Sprint(d["reason"]), "confidence gate") {
		t.Errorf("choice %v: want empty text, dfim gated, tokens 5 and the reason", ch)
	}
	if steps := v["dfim"].(map[string]any)["steps"]; steps != 4.0 {
		t.Errorf("dfim.steps %v, want the engine's 4", steps)
	}
	if u := v["usage"].(map[string]any); u["completion_tokens"] != 0.0 {
		t.Errorf("usage %v: nothing was written", u)
	}
	// llama.cpp's /infill says the same in its dfim object.
	_, v = post(t, url+"/infill", `{"input_prefix": "return ", "input_suffix": "\n}\n", "min_confidence": 0.6}`)
	if d := v["dfim"].(map[string]any); v["content"] != "" || d["gated"] != true || d["steps"] != 4.0 || d["tokens"] != 5.0 || v["tokens_predicted"] != 0.0 {
		t.Errorf("/infill: %v, want empty content, dfim gated with steps 4 and tokens 5, tokens_predicted 0", v)
	}

	entries := logs.FilterMessage("http request").FilterField(zap.String("endpoint", "/v1/completions")).All()
	if len(entries) != 1 {
		t.Fatalf("%d log lines for the /v1/completions request, want 1: %v", len(entries), logs.All())
	}
	line := entries[0]
	fields := line.ContextMap()
	if line.Level != zapcore.InfoLevel || fields["status"] != int64(200) || !strings.HasPrefix(fmt.Sprint(fields["client"]), "127.0.0.1 ") || fields["tokens"] != int64(0) ||
		!strings.Contains(fmt.Sprint(fields["why"]), "confidence gate") || fields["ms"] == nil {
		t.Errorf("log line %s %v: want info with client, endpoint, status, tokens, ms and why", line.Level, fields)
	}
	for _, f := range line.Context {
		if strings.Contains(f.String, "return") {
			t.Errorf("the log line holds request text: %v", f)
		}
	}
}

// TestFinishReasonAndTokensWritten: a fill that ended by itself finishes
// "stop" even when the engine used its whole token budget and
// post-processing cut it, and completion_tokens counts the tokens written
// (they were the engine's: 16 and "length" for a 1-token answer); one cut
// at the cap finishes "length" (issue 27, item 16).
func TestFinishReasonAndTokensWritten(t *testing.T) {
	srv := newFakeServer(t, &fakeCompleter{text: "a", tokens: 16}, Options{})
	_, v := post(t, srv.URL+"/v1/completions", `{"prompt": "return ", "max_tokens": 16}`)
	ch := v["choices"].([]any)[0].(map[string]any)
	u := v["usage"].(map[string]any)
	if ch["finish_reason"] != "stop" || u["completion_tokens"] != 1.0 || ch["dfim"].(map[string]any)["tokens"] != 16.0 {
		t.Errorf("choice %v usage %v: want finish stop, completion_tokens 1 (written), dfim.tokens 16 (filled)", ch, u)
	}
	long := strings.Repeat("x = x + 1; ", 8) // 88 bytes: about 26 tokens by the byte estimate
	srv = newFakeServer(t, &fakeCompleter{text: long, tokens: 16}, Options{})
	_, v = post(t, srv.URL+"/v1/completions", `{"prompt": "return ", "max_tokens": 16}`)
	if ch := v["choices"].([]any)[0].(map[string]any); ch["finish_reason"] != "length" {
		t.Errorf("a fill at the cap: %v, want finish length", ch)
	}
	_, v = post(t, srv.URL+"/infill", `{"input_prefix": "return ", "n_predict": 16}`)
	if v["stop_type"] != "limit" {
		t.Errorf("/infill of a fill at the cap: stop_type %v, want limit", v["stop_type"])
	}
}

// TestNChoices: n 8 gives 8 choices: the distinct fills best first, the
// candidates that repeat one (marked duplicate_of), and empty ones saying
// why infill dropped them; n 9 is refused naming the maximum; an engine
// that gives fewer candidates than asked is said to (issue 27, item 16:
// n 8 gave one choice, and no word why).
func TestNChoices(t *testing.T) {
	e := &scriptedEngine{steps: 3, fills: []engine.Fill{
		fill("a + b", 3, 0.9), fill("a - b", 3, 0.8), fill("a + b", 3, 0.9), fill("a * b", 3, 0.7),
		fill("a + b", 3, 0.9), fill("a / b", 3, 0.1), fill("", 0, 0.9), fill("a - b", 3, 0.8),
	}}
	url, _ := newScriptedServer(t, e, Options{})
	status, v := post(t, url+"/v1/completions", `{"prompt": "return ", "suffix": "\n}\n", "n": 8, "min_confidence": 0.5}`)
	if status != 200 {
		t.Fatalf("status %d: %v", status, v)
	}
	choices := v["choices"].([]any)
	var texts []string
	dups, reasons := 0, 0
	for i, c := range choices {
		ch := c.(map[string]any)
		d := ch["dfim"].(map[string]any)
		texts = append(texts, ch["text"].(string))
		if ch["index"] != float64(i) {
			t.Errorf("choice %d has index %v", i, ch["index"])
		}
		if _, ok := d["duplicate_of"]; ok {
			dups++
		}
		if ch["text"] == "" && d["reason"] != nil {
			reasons++
		}
	}
	if len(choices) != 8 || texts[0] != "a + b" || texts[1] != "a - b" || texts[2] != "a * b" || dups != 3 || reasons != 2 {
		t.Errorf("n 8: %d choices %q (%d duplicates, %d empty with a reason), want 8: 3 distinct best first, 3 duplicates, 2 saying why", len(choices), texts, dups, reasons)
	}
	status, v = post(t, url+"/v1/completions", `{"prompt": "return ", "n": 9}`)
	if status != 400 || !strings.Contains(errorMessage(v), "8") {
		t.Errorf("n 9: %d %v, want 400 naming the maximum, 8", status, v)
	}
	// A completer that gives one suggestion for n 4 says why there are fewer.
	srv := newFakeServer(t, &fakeCompleter{text: "x"}, Options{})
	_, v = post(t, srv.URL+"/v1/completions", `{"prompt": "return ", "n": 4}`)
	if why, _ := v["dfim"].(map[string]any)["fewer_choices"].(string); len(v["choices"].([]any)) != 1 || !strings.Contains(why, "4 choices asked") {
		t.Errorf("n 4 with one candidate: %v, want one choice and dfim.fewer_choices saying why", v)
	}
}
