package remote

import (
	"context"
	"errors"
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
// chooses the API it starts with: one ending in /infill is llama.cpp's
// native infill; anything else is /v1/completions with a suffix (a base
// URL with or without /v1, or the full .../completions URL). Before its
// first fill the engine looks at the server (probe.go) and moves to the
// API that carries the suffix: /infill on llama.cpp, the model's FIM
// template on servers that refuse suffix.
func newOpenAI(cfg engine.Config, tune tuning) (*remoteEngine, error) {
	base := cfg.Endpoint
	if base == "" {
		base = openaiBase
	}
	u, err := parseEndpoint("openai", base, "http://127.0.0.1:8080, http://127.0.0.1:8000/v1 or http://127.0.0.1:8080/infill")
	if err != nil {
		return nil, err
	}
	root := serverRoot(u)
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
	key, fromEnv := cfg.APIKey, false
	if key == "" {
		key, fromEnv = os.Getenv(openaiKeyEnv), true
	}
	if key != "" {
		if err := keyTransportError("openai", u, openaiKeyEnv, fromEnv); err != nil {
			return nil, err
		}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	c := newClient("openai", u.String(), u.Redacted(), cfg.RemoteModel, key, openaiKeyEnv, timeout, tune)
	return &remoteEngine{
		name: "openai", model: cfg.RemoteModel, shown: u.Redacted(), c: c,
		root: target{root.String(), root.Redacted()}, streamAlways: true, detect: tune.detect,
		rt: route{api: kind, to: c.target(), tmpl: tmpl, tmplSet: forced},
	}, nil
}

// completionsRequest is the body of POST /v1/completions with a suffix.
// Temperature is always sent: 0 means greedy here as in the native engine,
// which keeps baselines reproducible (servers default to 1, llama.cpp to
// 0.8).
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
	Logprobs    int      `json:"logprobs,omitempty"`
}

// An ask is one request's share of a fill: the candidates [first,
// first+n) of the canvas.
type ask struct {
	cv       fimCanvas
	o        engine.Options
	first, n int
	stream   bool
	rank     bool // the fill has several candidates: ask for logprobs to rank them
}

// completionsBody asks for a.n candidates with the suffix field or, given
// a template, a FIM prompt written out.
func (e *remoteEngine) completionsBody(a ask, tmpl *fimTemplate) completionsRequest {
	cv := a.cv
	r := completionsRequest{Model: e.model, MaxTokens: cv.maxTok, Stream: a.stream,
		Temperature: candidateTemperature(a.o, a.first), TopP: topP(a.o), Seed: seed(a.o, a.first), Stop: cv.stop}
	if tmpl != nil {
		r.Prompt = tmpl.format(cv.before(), cv.suffix)
	} else {
		r.Prompt, r.Suffix = cv.before(), &cv.suffix
	}
	if a.n > 1 {
		r.N = a.n
	}
	if a.rank {
		r.Logprobs = 1
	}
	return r
}

// fillCompletions fills cands through /v1/completions. With temperature 0,
// n choices of one request would be n copies of the greedy fill: the
// first candidate is asked for alone, greedy, and the others together at a
// sampling temperature (candidateTemperature).
func (e *remoteEngine) fillCompletions(ctx context.Context, a ask, cands []*candidate, observe func(int), errs []error) {
	n := len(cands)
	groups := [][2]int{{0, n}}
	if a.o.Temperature == 0 && n > 1 {
		groups = [][2]int{{0, 1}, {1, n}}
	}
	for _, g := range groups {
		e.askGroup(ctx, a, g[0], g[1], cands, observe, errs)
		if errs[g[0]] != nil {
			return // the first request of a group failed: the others would too
		}
	}
}

// askGroup asks for the candidates [lo, hi) with n where the server takes
// it, and for those it did not answer one at a time: servers that ignore
// n answer one choice; llama.cpp refuses more than it has slots ("Field
// 'n': Value must be between 1 <= value <= 1"), older ones any n > 1, and
// are then asked one candidate per request from then on.
func (e *remoteEngine) askGroup(ctx context.Context, a ask, lo, hi int, cands []*candidate, observe func(int), errs []error) {
	if hi-lo > 1 && !e.route().noN {
		g := a
		g.first, g.n = lo, hi-lo
		err := e.postCompletions(ctx, g, cands[lo:hi], func(i int) { observe(lo + i) })
		switch {
		case err == nil:
			for i := lo; i < hi; i++ {
				if cands[i].finished {
					errs[i] = nil
				}
			}
		case nRefused(err):
			e.setNoN(err)
		default:
			errs[lo] = err
			return
		}
	}
	for i := lo; i < hi; i++ {
		if errs[i] == nil {
			continue
		}
		*cands[i] = candidate{} // a choice left unfinished starts over
		one := a
		one.first, one.n = i, 1
		errs[i] = e.postCompletions(ctx, one, cands[i:i+1], func(int) { observe(i) })
		if errs[i] != nil {
			return
		}
	}
}

// postCompletions asks /v1/completions for a.n candidates. When the server
// refuses the suffix field, it learns the model's FIM template (once, for
// later calls too) and asks again.
func (e *remoteEngine) postCompletions(ctx context.Context, a ask, cands []*candidate, changed func(int)) error {
	rt := e.route()
	send := func(cv fimCanvas) error {
		b := a
		b.cv = cv
		return e.c.postTo(ctx, rt.to, e.completionsBody(b, rt.tmpl), a.stream, func(r io.Reader) error {
			return readCompletion(r, a.stream, cands, changed)
		})
	}
	err := e.fitting(a.cv, send)
	if err == nil || rt.tmplSet || !suffixRefused(err) {
		return e.explain(err)
	}
	model := e.modelName()
	t := templateFor(model)
	if t == nil {
		return fmt.Errorf("%w; this server takes no suffix, and dfim knows no FIM tokens for model %q: pass --remote-model with the model's name (templates: %s), set %s, or use llama.cpp's /infill",
			err, model, templateNames(), templateEnv)
	}
	rt = e.learnTemplate(t, "the server refused the suffix field")
	return e.explain(e.fitting(a.cv, send))
}

// infillRequest is the body of llama.cpp's POST /infill.
type infillRequest struct {
	Model       string       `json:"model,omitempty"`
	InputPrefix string       `json:"input_prefix"`
	InputSuffix string       `json:"input_suffix"`
	InputExtra  []extraChunk `json:"input_extra,omitempty"`
	NPredict    int          `json:"n_predict"`
	Stream      bool         `json:"stream"`
	Temperature float32      `json:"temperature"`
	TopP        *float32     `json:"top_p,omitempty"`
	Seed        *uint32      `json:"seed,omitempty"`
	Stop        []string     `json:"stop,omitempty"`
	NProbs      int          `json:"n_probs,omitempty"`
	CachePrompt bool         `json:"cache_prompt"` // reuse the KV cache across keystrokes
}

// An extraChunk is one cross-file context chunk of input_extra. llama.cpp
// writes each as <|file_sep|>filename, then the text ("tmp" when the
// filename is left out), and keeps at most n_ctx − n_batch − 2·n_predict
// tokens of them, the last ones.
type extraChunk struct {
	Filename string `json:"filename,omitempty"`
	Text     string `json:"text"`
}

// infillBody builds the /infill request for candidate a.first.
func (e *remoteEngine) infillBody(a ask) infillRequest {
	cv := a.cv
	r := infillRequest{Model: e.model, InputPrefix: cv.prefix, InputSuffix: cv.suffix,
		NPredict: cv.maxTok, Stream: a.stream, Temperature: candidateTemperature(a.o, a.first),
		TopP: topP(a.o), Seed: seed(a.o, a.first), Stop: cv.stop, CachePrompt: true}
	if a.rank {
		r.NProbs = 1
	}
	for _, x := range cv.extra {
		if x != "" {
			r.InputExtra = append(r.InputExtra, extraChunk{Text: x})
		}
	}
	return r
}

// fillInfill fills cands through llama.cpp's /infill, one request per
// candidate. Until /infill has answered once, the first candidate goes
// alone: a model without FIM tokens is then refused once (501), not once
// per candidate, and the fill moves to the template route or fails with
// an error that says so.
func (e *remoteEngine) fillInfill(ctx context.Context, a ask, cands []*candidate, observe func(int), errs []error) {
	one := func(i int) error {
		b := a
		b.first, b.n = i, 1
		return e.explain(e.fitting(a.cv, func(cv fimCanvas) error {
			b.cv = cv
			return e.c.postTo(ctx, e.route().to, e.infillBody(b), a.stream, func(r io.Reader) error {
				return readInfill(r, a.stream, cands[i], func() { observe(i) })
			})
		}))
	}
	first := 0
	if !e.isConfirmed() {
		errs[0] = one(0)
		var re *Error
		if errors.As(errs[0], &re) && noFIMTokens(re) {
			if rt, err := e.afterNoFIM(ctx, re); err != nil {
				errs[0] = err
			} else if rt.api == apiCompletions {
				errs[0] = errNotAsked
				e.fillCompletions(ctx, a, cands, observe, errs)
			}
			return
		}
		if errs[0] != nil {
			return
		}
		e.confirm()
		first = 1
	}
	done := make(chan struct{})
	for i := first; i < len(cands); i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			errs[i] = one(i)
		}()
	}
	for i := first; i < len(cands); i++ {
		<-done
	}
}

// afterNoFIM decides what follows llama.cpp's refusal to infill with a
// model that has no FIM tokens: /v1/completions with a FIM template, when
// one is forced or known for the model and its vocabulary has the
// template's tokens (llama.cpp finds the usual ones by name itself, so
// this is for models such as Codestral whose tokens it does not know);
// otherwise the refusal, with a hint that names what is missing and what
// to do.
func (e *remoteEngine) afterNoFIM(ctx context.Context, refused *Error) (route, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rt.api != apiInfill {
		return e.rt, nil // another fill moved already
	}
	t := e.rt.tmpl
	if t == nil && !e.rt.tmplSet {
		t = templateFor(e.modelNameLocked())
	}
	if !e.rt.noFIMChecked && t != nil && e.vocabHas(ctx, t) {
		to := target{e.root.url + "/v1/completions", e.root.shown + "/v1/completions"}
		e.rt = route{api: apiCompletions, to: to, tmpl: t, tmplSet: true, noN: e.rt.noN}
		e.logRouteLocked("the model has no FIM tokens for /infill; writing its FIM template to /v1/completions")
		return e.rt, nil
	}
	e.rt.noFIMChecked = true
	refused.Hint = noFIMHint
	if t != nil {
		refused.Hint = fmt.Sprintf("%s (the model's vocabulary lacks the %s template's tokens too)", noFIMHint, t.name)
	}
	return e.rt, refused
}

// fitting sends cv; when llama.cpp answers that the prompt exceeds a
// slot's context (400 exceed_context_size_error, with its n_prompt_tokens
// and n_ctx), it learns the context size, so that ContextLength says it
// from then on, and sends once more with the canvas cut to fit.
func (e *remoteEngine) fitting(cv fimCanvas, send func(fimCanvas) error) error {
	err := send(cv)
	var re *Error
	if err == nil || !errors.As(err, &re) || !contextExceeded(re) {
		return err
	}
	if re.contextTokens > 0 {
		e.learnContext(re.contextTokens)
	}
	small, ok := cv.fit(re.promptTokens, re.contextTokens)
	if !ok {
		return err
	}
	e.logger().Debug("remote: prompt longer than the server's context; cutting the canvas and asking again",
		"engine", e.name, "prompt_tokens", re.promptTokens, "n_ctx", re.contextTokens,
		"prefix_bytes", len(small.prefix), "suffix_bytes", len(small.suffix))
	return send(small)
}

// candidateTemperature is candidate i's sampling temperature. With
// Options.Temperature 0 the first candidate is greedy and the others are
// sampled, warmer the later they come: greedy fills are all the same, and
// other seeds do not change that.
func candidateTemperature(o engine.Options, i int) float32 {
	if o.Temperature > 0 || i == 0 {
		return o.Temperature
	}
	return min(0.2+0.2*float32(i), 1)
}
