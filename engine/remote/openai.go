package remote

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dfim/dfim/engine"
)

const (
	// openaiBase is llama.cpp's server on its default port; vLLM (8000),
	// SGLang (30000) and Ollama (11434) are one --endpoint away.
	openaiBase   = "http://127.0.0.1:8080"
	openaiKeyEnv = "OPENAI_API_KEY"
)

func init() { engine.Register("openai", openOpenAI) }

func openOpenAI(cfg engine.Config) (engine.Denoiser, error) {
	return newOpenAI(cfg, defaultTuning)
}

// newOpenAI opens an OpenAI-compatible FIM engine. The endpoint's path
// chooses the API: one ending in /infill is llama.cpp's native infill;
// anything else is /v1/completions with a suffix (a base URL with or
// without /v1, or the full .../completions URL).
func newOpenAI(cfg engine.Config, tune tuning) (*remoteEngine, error) {
	base := cfg.Endpoint
	if base == "" {
		base = openaiBase
	}
	u, err := parseEndpoint("openai", base, "http://127.0.0.1:8000/v1 or http://127.0.0.1:8080/infill")
	if err != nil {
		return nil, err
	}
	kind := apiCompletions
	switch {
	case strings.HasSuffix(u.Path, "/infill"):
		kind = apiInfill
	case strings.HasSuffix(u.Path, "/completions"):
	case strings.HasSuffix(u.Path, "/v1"):
		u.Path += "/completions"
	default:
		u.Path += "/v1/completions"
	}
	tmpl, forced, err := forcedTemplate()
	if err != nil {
		return nil, err
	}
	key := cfg.APIKey
	if key == "" {
		key = os.Getenv(openaiKeyEnv)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &remoteEngine{
		name: "openai", api: kind, model: cfg.RemoteModel, shown: u.Redacted(),
		c:    newClient("openai", u.String(), u.Redacted(), cfg.RemoteModel, key, openaiKeyEnv, timeout, tune),
		tmpl: tmpl, tmplSet: forced,
	}, nil
}

// completionsRequest is the body of POST /v1/completions with a suffix.
// Temperature is always sent: 0 means greedy here as in the native engine,
// which keeps baselines reproducible (servers default to 1).
type completionsRequest struct {
	Model       string   `json:"model,omitempty"`
	Prompt      string   `json:"prompt"`
	Suffix      *string  `json:"suffix,omitempty"` // nil when a template wrote the FIM prompt
	MaxTokens   int      `json:"max_tokens"`
	N           int      `json:"n,omitempty"`
	Stream      bool     `json:"stream"`
	Temperature float32  `json:"temperature"`
	TopP        *float32 `json:"top_p,omitempty"`
	Seed        *uint32  `json:"seed,omitempty"`
	Stop        []string `json:"stop,omitempty"`
}

// completionsBody asks for n candidates, the first being candidate first,
// with the suffix field or, given a template, a FIM prompt written out.
func (e *remoteEngine) completionsBody(cv fimCanvas, o engine.Options, n, first int, stream bool, tmpl *fimTemplate) completionsRequest {
	r := completionsRequest{Model: e.model, MaxTokens: cv.maxTok,
		Stream: stream, Temperature: o.Temperature, TopP: topP(o), Seed: seed(o, first)}
	if tmpl != nil {
		r.Prompt = tmpl.format(cv.before(), cv.suffix) + cv.prefill
	} else {
		r.Prompt, r.Suffix = cv.prompt(), &cv.suffix
	}
	if n > 1 {
		r.N = n
	}
	return r
}

// postCompletions asks /v1/completions for len(cands) candidates starting
// at candidate first. When the server refuses the suffix field, it learns
// the model's FIM template (once, for later calls too) and asks again.
func (e *remoteEngine) postCompletions(ctx context.Context, cv fimCanvas, o engine.Options, first int, stream bool,
	cands []*candidate, changed func(int)) error {
	send := func(tmpl *fimTemplate) error {
		return e.c.post(ctx, e.completionsBody(cv, o, len(cands), first, stream, tmpl), stream, func(r io.Reader) error {
			return readCompletion(r, stream, cands, changed)
		})
	}
	e.tmplMu.Lock()
	tmpl, decided := e.tmpl, e.tmplSet
	e.tmplMu.Unlock()
	err := send(tmpl)
	if err == nil || decided || !suffixRefused(err) {
		return err
	}
	t := templateFor(e.model)
	if t == nil {
		return fmt.Errorf("%w; this server takes no suffix, and dfim knows no FIM tokens for model %q: pass --remote-model with the model's name (templates: %s), set %s, or use llama.cpp's /infill",
			err, e.model, templateNames(), templateEnv)
	}
	e.tmplMu.Lock()
	e.tmpl, e.tmplSet = t, true
	e.tmplMu.Unlock()
	return send(t)
}

// infillRequest is the body of llama.cpp's POST /infill.
type infillRequest struct {
	Model       string       `json:"model,omitempty"`
	InputPrefix string       `json:"input_prefix"`
	InputSuffix string       `json:"input_suffix"`
	InputExtra  []extraChunk `json:"input_extra,omitempty"`
	Prompt      string       `json:"prompt,omitempty"` // placed after the FIM middle token: the prefill
	NPredict    int          `json:"n_predict"`
	Stream      bool         `json:"stream"`
	Temperature float32      `json:"temperature"`
	TopP        *float32     `json:"top_p,omitempty"`
	Seed        *uint32      `json:"seed,omitempty"`
	CachePrompt bool         `json:"cache_prompt"` // reuse the KV cache across keystrokes
}

// An extraChunk is one cross-file context chunk of input_extra.
type extraChunk struct {
	Filename string `json:"filename,omitempty"`
	Text     string `json:"text"`
}

func (e *remoteEngine) infillBody(cv fimCanvas, o engine.Options, i int, stream bool) infillRequest {
	r := infillRequest{Model: e.model, InputPrefix: cv.prefix, InputSuffix: cv.suffix, Prompt: cv.prefill,
		NPredict: cv.maxTok, Stream: stream, Temperature: o.Temperature, TopP: topP(o), Seed: seed(o, i),
		CachePrompt: true}
	for _, x := range cv.extra {
		if x != "" {
			r.InputExtra = append(r.InputExtra, extraChunk{Text: x})
		}
	}
	return r
}
