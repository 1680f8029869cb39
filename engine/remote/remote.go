package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	apiCompletions            // OpenAI /v1/completions with suffix (or a FIM template)
	apiInfill                 // llama.cpp's native /infill
)

func (a api) String() string {
	switch a {
	case apiFIM:
		return "/v1/fim/completions"
	case apiInfill:
		return "/infill"
	}
	return "/v1/completions"
}

// A route is how holes reach the server: which API at which URL, and for
// /v1/completions whether the suffix field or a FIM template carries the
// suffix. The openai engine starts with the one its endpoint names and
// moves as it learns what the server is.
type route struct {
	api          api
	to           target
	tmpl         *fimTemplate // apiCompletions: nil = the suffix field
	tmplSet      bool         // tmpl is decided: forced, learned from a refusal, or chosen for the server
	noN          bool         // the server refused n > 1: one candidate per request
	noFIMChecked bool         // /infill refused the model (no FIM tokens) and no template fits it
}

// A remoteEngine is an engine.Denoiser over HTTP.
type remoteEngine struct {
	name  string
	model string // "" = none sent (the server's only model)
	shown string // the URL as messages show it (no userinfo)
	c     *client

	// root is the server's base URL, for looking at it and for moving
	// between its APIs (openai only; "" for inception).
	root target
	// streamAlways streams every request, not only observed ones: a
	// cancelled context then closes the connection, and the server stops
	// generating for a client that left (llama.cpp may not, for a whole
	// answer, and queues the next keystroke behind it).
	streamAlways bool
	detect       bool         // look at the server before the first fill
	log          *slog.Logger // nil = slog.Default()

	// mu guards the fields below.
	mu        sync.Mutex
	rt        route
	info      serverInfo
	probed    bool      // a look at the server got an answer
	probeAt   time.Time // when the last look went
	confirmed bool      // a fill went through on rt (apiInfill)
}

var _ engine.Denoiser = (*remoteEngine)(nil)
var _ engine.Describer = (*remoteEngine)(nil)
var _ engine.ContextSizer = (*remoteEngine)(nil)

// Describe says which server and model the engine calls, and once it has
// looked, what the server is and which API carries the suffix.
func (e *remoteEngine) Describe() string {
	d := fmt.Sprintf("%s at %s", e.name, e.shown)
	if e.model != "" {
		d = fmt.Sprintf("%s %s at %s", e.name, e.model, e.shown)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.info.name != "" {
		d += fmt.Sprintf(" (%s, %s)", e.info.name, e.routeNameLocked())
	}
	return d
}

// ContextLength implements engine.ContextSizer: the tokens one request
// may hold, as the server says (llama.cpp's per-slot n_ctx from /props,
// vLLM's max_model_len) or as a refused prompt taught; 0 when unknown. It
// looks at the server first if the engine has not yet.
func (e *remoteEngine) ContextLength() int {
	if e.root.url == "" {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	e.routeFor(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.info.nCtx
}

// Close drops idle connections; requests in flight end with their contexts.
func (e *remoteEngine) Close() error {
	e.c.http.CloseIdleConnections()
	return nil
}

// errNotAsked marks a candidate no request was made for (an earlier one
// failed first).
var errNotAsked = errors.New("remote: candidate not asked for")

// Infill sends the canvas's one hole to the server, once per candidate
// (or once with n candidates where the API takes n). The openai engine
// always streams; inception streams when the request has an Observe
// callback.
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
	rt := e.routeFor(ctx)

	var obsMu sync.Mutex // serialises Observe: candidates may stream concurrently
	observe := func(i int) {
		if req.Observe == nil {
			return
		}
		obsMu.Lock()
		defer obsMu.Unlock()
		c := cands[i]
		req.Observe(engine.Step{Candidate: i, Index: c.steps - 1,
			Holes: []engine.HoleState{{Text: c.text.String()}}})
	}

	// errs[i] is candidate i's failure; one good candidate is enough.
	errs := make([]error, n)
	for i := range errs {
		errs[i] = errNotAsked
	}
	// Logprobs rank several candidates, and give a fill its Confidence;
	// llama.cpp computes them for the sampled token cheaply (a partial sort
	// of one), so it is always asked, other servers only for ranking.
	a := ask{cv: cv, o: req.Opts, n: 1, stream: req.Observe != nil || e.streamAlways,
		rank: n > 1 || rt.api == apiInfill || e.llamaCpp()}
	switch rt.api {
	case apiCompletions:
		e.fillCompletions(ctx, a, cands, observe, errs)
	case apiInfill:
		e.fillInfill(ctx, a, cands, observe, errs)
	default:
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = e.c.post(ctx, e.fimBody(cv, req.Opts, a.stream), a.stream, func(r io.Reader) error {
					return readCompletion(r, a.stream, cands[i:i+1], func(int) { observe(i) })
				})
			})
		}
		wg.Wait()
	}

	var res engine.Result
	var firstErr error
	for i, c := range cands {
		if errs[i] != nil {
			firstErr = cmpErr(firstErr, errs[i])
			continue
		}
		res.Candidates = append(res.Candidates, c.fill())
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
// callers see context.Canceled when they cancelled, and any real failure
// over a candidate that was not asked for.
func cmpErr(first, next error) error {
	switch {
	case first == nil || first == errNotAsked:
		return next
	case next == errNotAsked:
		return first
	case errors.Is(next, context.Canceled) && !errors.Is(first, context.Canceled):
		return next
	}
	return first
}

// fill is the candidate as an engine.Fill. Without logprobs from the
// server, LogProb is NaN and Confidence 0 (unknown).
func (c *candidate) fill() engine.Fill {
	f := engine.Fill{Holes: []string{c.text.String()}, Tokens: []int{c.fillTokens()}, LogProb: math.NaN()}
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
