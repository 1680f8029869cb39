package remote

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
)

// vLLM answers 400 "suffix is not currently supported"; the engine then
// writes the FIM prompt with the model's tokens, and keeps doing so.
func TestSuffixRefusedLearnsTemplate(t *testing.T) {
	var s *server
	s = newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if _, ok := s.lastBody()["suffix"]; ok {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"object":"error","message":"suffix is not currently supported","type":"BadRequestError","code":400}`))
			return
		}
		writeJSON(w, completion("x * 2"))
	})
	t.Setenv(templateEnv, "")
	t.Setenv(openaiKeyEnv, "")
	e, err := newOpenAI(engine.Config{Endpoint: s.URL + "/v1", RemoteModel: "Qwen/Qwen2.5-Coder-1.5B"}, fastTuning(nil))
	if err != nil {
		t.Fatal(err)
	}
	req := engine.Request{Segments: []engine.Segment{{Text: "// ctx\n"}, {Text: "y := "}, {Hole: true, MaxTok: 8}, {Text: "\n"}}}
	for i := range 2 {
		res, err := e.Infill(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Candidates[0].Holes[0]; got != "x * 2" {
			t.Errorf("call %d: fill %q, want \"x * 2\"", i, got)
		}
	}
	if want := "<|fim_prefix|>// ctx\ny := <|fim_suffix|>\n<|fim_middle|>"; s.lastBody()["prompt"] != want {
		t.Errorf("prompt %q, want %q", s.lastBody()["prompt"], want)
	}
	if s.hits.Load() != 3 {
		t.Errorf("%d requests, want 3: one refusal, then the template for both calls", s.hits.Load())
	}
}

func TestSuffixRefusedUnknownModel(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":{"message":"suffix is not currently supported"}}`))
	})
	e := openaiAt(t, s.URL, fastTuning(nil))
	_, err := e.Infill(context.Background(), canvas("a", "b", 4))
	for _, want := range []string{"suffix is not currently supported", "--remote-model", templateEnv, "/infill"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
	var re *Error
	if !asError(err, &re) || re.Status != 400 {
		t.Errorf("err = %v, want the server's 400 kept as *Error", err)
	}
}

func TestForcedTemplate(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, completion("m")) })
	for _, tc := range []struct{ env, prompt string }{
		{"codellama", "<PRE> p <SUF>s <MID>"},
		{"starcoder", "<fim_prefix>p<fim_suffix>s<fim_middle>"},
		{"deepseek", "<｜fim▁begin｜>p<｜fim▁hole｜>s<｜fim▁end｜>"},
		{"codestral", "[SUFFIX]s[PREFIX]p"},
		{"suffix", "p"},
	} {
		t.Setenv(templateEnv, tc.env)
		e := openaiAt(t, s.URL, fastTuning(nil))
		if _, err := e.Infill(context.Background(), canvas("p", "s", 4)); err != nil {
			t.Fatal(err)
		}
		b := s.lastBody()
		_, hasSuffix := b["suffix"]
		if b["prompt"] != tc.prompt || hasSuffix != (tc.env == "suffix") {
			t.Errorf("%s=%s: prompt %q suffix field %v", templateEnv, tc.env, b["prompt"], hasSuffix)
		}
	}
	t.Setenv(templateEnv, "gpt")
	if _, err := newOpenAI(engine.Config{}, defaultTuning); err == nil || !strings.Contains(err.Error(), "qwen") {
		t.Errorf("unknown template: err = %v, want the known names", err)
	}
}

func TestTemplateFor(t *testing.T) {
	for model, want := range map[string]string{
		"Qwen/Qwen2.5-Coder-7B": "qwen", "codegemma:2b": "qwen", "bigcode/starcoder2-3b": "starcoder",
		"deepseek-ai/deepseek-coder-1.3b-base": "deepseek", "codellama/CodeLlama-7b-hf": "codellama",
		"codestral-latest": "codestral", "gpt-3.5-turbo-instruct": "",
	} {
		got := ""
		if t := templateFor(model); t != nil {
			got = t.name
		}
		if got != want {
			t.Errorf("templateFor(%q) = %q, want %q", model, got, want)
		}
	}
}
