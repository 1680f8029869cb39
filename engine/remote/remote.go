package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dfim/dfim/engine"
)

// defaultTimeout bounds one Infill call when Config.Timeout is zero.
const defaultTimeout = 30 * time.Second

// An api is one wire format.
type api int

const (
	apiFIM         api = iota // Inception's /v1/fim/completions
	apiCompletions            // OpenAI /v1/completions with suffix
	apiInfill                 // llama.cpp's native /infill
)

// A remoteEngine is an engine.Denoiser over HTTP.
type remoteEngine struct {
	name  string
	api   api
	model string // "" = none sent (the server's only model)
	shown string // the URL as messages show it (no userinfo)
	c     *client

	// tmplMu guards tmpl and tmplSet (openai /v1/completions only).
	tmplMu  sync.Mutex
	tmpl    *fimTemplate // nil: send the suffix field
	tmplSet bool         // decided: forced, or learned from a refusal
}

var _ engine.Denoiser = (*remoteEngine)(nil)
var _ engine.Describer = (*remoteEngine)(nil)

// Describe says which server and model the engine calls.
func (e *remoteEngine) Describe() string {
	if e.model == "" {
		return fmt.Sprintf("%s at %s", e.name, e.shown)
	}
	return fmt.Sprintf("%s %s at %s", e.name, e.model, e.shown)
}

// Close drops idle connections; requests in flight end with their contexts.
func (e *remoteEngine) Close() error {
	e.c.http.CloseIdleConnections()
	return nil
}

// Infill sends the canvas's one hole to the server, once per candidate
// (or once with n candidates where the API takes n), streaming when the
// request has an Observe callback.
func (e *remoteEngine) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	start := time.Now()
	cv, err := parseCanvas(req.Segments)
	if err != nil {
		return engine.Result{}, err
	}
	n := max(req.Opts.Candidates, 1)
	cands := make([]*candidate, n)
	for i := range cands {
		cands[i] = &candidate{}
	}
	ctx, cancel := e.c.withTimeout(ctx)
	defer cancel()

	stream := req.Observe != nil
	var obsMu sync.Mutex // serialises Observe: candidates may stream concurrently
	observe := func(i int) {
		if req.Observe == nil {
			return
		}
		obsMu.Lock()
		defer obsMu.Unlock()
		c := cands[i]
		req.Observe(engine.Step{Candidate: i, Index: c.steps - 1,
			Holes: []engine.HoleState{{Text: cv.prefill + c.text.String()}}})
	}

	// errs[i] is candidate i's failure; one good candidate is enough.
	errs := make([]error, n)
	switch e.api {
	case apiCompletions:
		// One request asks for all n; servers that ignore n answer one, and
		// the rest are asked for one at a time.
		errs[0] = e.postCompletions(ctx, cv, req.Opts, 0, stream, cands, observe)
		if errs[0] == nil {
			for i := 1; i < n; i++ {
				if cands[i].finished {
					continue
				}
				errs[i] = e.postCompletions(ctx, cv, req.Opts, i, stream, cands[i:i+1], func(int) { observe(i) })
			}
		}
	default:
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = e.post(ctx, cv, req.Opts, i, stream, cands[i], func() { observe(i) })
			})
		}
		wg.Wait()
	}

	if e.api == apiCompletions && errs[0] != nil {
		return engine.Result{}, errs[0]
	}
	var res engine.Result
	var firstErr error
	for i, c := range cands {
		if errs[i] != nil {
			firstErr = cmpErr(firstErr, errs[i])
			continue
		}
		res.Candidates = append(res.Candidates, c.fill(cv.prefill))
		res.Tokens += c.fillTokens()
		res.Steps = max(res.Steps, c.steps, 1)
	}
	if len(res.Candidates) == 0 {
		return engine.Result{}, firstErr
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// cmpErr keeps the first error, preferring a caller cancellation so that
// callers see context.Canceled when they cancelled.
func cmpErr(first, next error) error {
	if first == nil {
		return next
	}
	if errors.Is(next, context.Canceled) && !errors.Is(first, context.Canceled) {
		return next
	}
	return first
}

// post makes the request for candidate i of a one-candidate-per-request API.
func (e *remoteEngine) post(ctx context.Context, cv fimCanvas, o engine.Options, i int, stream bool, c *candidate, changed func()) error {
	switch e.api {
	case apiInfill:
		return e.c.post(ctx, e.infillBody(cv, o, i, stream), stream, func(r io.Reader) error {
			return readInfill(r, stream, c, changed)
		})
	default:
		return e.c.post(ctx, e.fimBody(cv, o, stream), stream, func(r io.Reader) error {
			return readCompletion(r, stream, []*candidate{c}, func(int) { changed() })
		})
	}
}

// fill is the candidate as an engine.Fill. Without logprobs from the
// server, LogProb is NaN and Confidence 0 (unknown).
func (c *candidate) fill(prefill string) engine.Fill {
	f := engine.Fill{Holes: []string{prefill + c.text.String()}, Tokens: []int{c.fillTokens()}, LogProb: math.NaN()}
	if c.logprobs > 0 {
		f.LogProb = c.logprob
		f.Confidence = math.Exp(c.logprob / float64(c.logprobs))
	}
	return f
}

// fillTokens is the server's token count, or the number of logprobs, or an
// estimate of four bytes a token when the server said neither.
func (c *candidate) fillTokens() int {
	switch {
	case c.tokens > 0:
		return c.tokens
	case c.logprobs > 0:
		return c.logprobs
	}
	return (c.text.Len() + 3) / 4
}

// seed is the seed for candidate i: distinct per candidate, in the range
// every server accepts (llama.cpp takes 32 bits). Zero means "not set".
func seed(o engine.Options, i int) *uint32 {
	if o.Seed == 0 {
		return nil
	}
	s := uint32((o.Seed + uint64(i)) & 0x7fffffff)
	return &s
}

// topP is Options.TopP when it restricts sampling, else nil.
func topP(o engine.Options) *float32 {
	if o.TopP <= 0 || o.TopP >= 1 {
		return nil
	}
	p := o.TopP
	return &p
}

// parseEndpoint checks that endpoint is an http(s) URL and returns it with
// the path's trailing slashes removed.
func parseEndpoint(name, endpoint, example string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("engine %s: --endpoint %q is not an http(s) URL; pass one such as %s", name, endpoint, example)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}
