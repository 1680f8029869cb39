package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

// Tests against a real llama-server, run by testdata/llamacpp/run.sh:
// DFIM_LLAMACPP_FIM is the root URL of one serving qwen2-fim.gguf with
// --parallel 1, DFIM_LLAMACPP_NOFIM of one serving qwen2-nofim.gguf.
// Without them they skip; the replay tests cover the same paths.

func liveURL(t *testing.T, env string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		t.Skipf("%s is not set (testdata/llamacpp/run.sh sets it)", env)
	}
	return strings.TrimRight(u, "/")
}

// postJSON is one raw request to the server, for what the engine does
// not show (the server's own token counts).
func postJSON(t *testing.T, url string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return v
}

func TestLiveLlamaCppFIM(t *testing.T) {
	root := liveURL(t, "DFIM_LLAMACPP_FIM")
	t.Setenv(templateEnv, "")

	// What issue 19 found: /v1/completions counts the same prompt with a
	// suffix and without (it drops the field); /infill does not.
	short := map[string]any{"prompt": "def add(a, b):\n    return ", "max_tokens": 1, "temperature": 0}
	long := map[string]any{"prompt": short["prompt"], "suffix": strings.Repeat("print(add(1, 2))\n", 20), "max_tokens": 1, "temperature": 0}
	pt := func(v map[string]any) float64 {
		u, _ := v["usage"].(map[string]any)
		f, _ := u["prompt_tokens"].(float64)
		return f
	}
	if a, b := pt(postJSON(t, root+"/v1/completions", short)), pt(postJSON(t, root+"/v1/completions", long)); a != b {
		t.Logf("this llama.cpp counts the suffix in /v1/completions (%v vs %v tokens)", a, b)
	}
	ev := func(suffix string) float64 {
		v := postJSON(t, root+"/infill", map[string]any{"input_prefix": short["prompt"], "input_suffix": suffix, "n_predict": 1, "temperature": 0})
		f, _ := v["tokens_evaluated"].(float64)
		return f
	}
	if a, b := ev(""), ev(long["suffix"].(string)); b <= a {
		t.Errorf("/infill evaluated %v tokens with a long suffix, %v without: the suffix does not reach the model", b, a)
	}

	e, log := openaiWith(t, engine.Config{Endpoint: root}, defaultTuning)
	if n := e.ContextLength(); n <= 0 {
		t.Errorf("ContextLength() = %d, want the slot's n_ctx", n)
	}
	if _, err := e.Infill(context.Background(), pyCanvas()); err != nil {
		t.Fatal(err)
	}
	if rt := e.route(); rt.api != apiInfill {
		t.Errorf("route %v, want /infill; log: %s", rt.api, log.String())
	}

	// More candidates than slots, through /v1/completions with a template.
	t.Setenv(templateEnv, "qwen")
	e2, _ := openaiWith(t, engine.Config{Endpoint: root}, defaultTuning)
	req := pyCanvas()
	req.Opts.Candidates = 3
	res, err := e2.Infill(context.Background(), req)
	if err != nil || len(res.Candidates) != 3 {
		t.Fatalf("3 candidates on one slot: %d, %v", len(res.Candidates), err)
	}

	// A cancelled fill frees the slot at once (streaming: the server sees
	// the client leave), so the next one is not queued behind it.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = e.Infill(ctx, canvas("def add(a, b):\n    return ", "\n", 1900))
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		t.Logf("cancelled fill: %v", err)
	}
	start := time.Now()
	if _, err := e.Infill(context.Background(), canvas("x = ", "\n", 4)); err != nil {
		t.Fatal(err)
	}
	t.Logf("the fill after a cancelled 1,900-token one took %v", time.Since(start))
}

func TestLiveLlamaCppNoFIM(t *testing.T) {
	root := liveURL(t, "DFIM_LLAMACPP_NOFIM")
	t.Setenv(templateEnv, "")
	e, _ := openaiWith(t, engine.Config{Endpoint: root}, defaultTuning)
	_, err := e.Infill(context.Background(), pyCanvas())
	var re *Error
	if !errors.As(err, &re) || re.Status != 501 || !strings.Contains(err.Error(), "fim_pre_token_id") {
		t.Fatalf("err = %v, want the 501 with a hint naming the missing tokens", err)
	}
	if e.c.breaker.isOpen() {
		t.Error("the breaker opened on a model without FIM tokens")
	}
}
