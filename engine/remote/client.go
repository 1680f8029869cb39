package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tuning holds the retry and breaker knobs; tests shorten them.
type tuning struct {
	attempts      int           // tries per request, the first included
	backoff       time.Duration // wait before the first retry; doubles each retry
	maxBackoff    time.Duration // cap on one backoff wait
	maxRetryAfter time.Duration // a longer Retry-After fails the request instead of stalling typing
	threshold     int           // consecutive failures that open the breaker
	coolDown      time.Duration // how long an open breaker fails fast
	// jitter picks the actual wait for a backoff of d (full jitter in
	// [d/2, d] by default, so clients that failed together do not retry
	// together).
	jitter func(d time.Duration) time.Duration
	// sleep waits d or until ctx ends (tests record the waits instead).
	sleep func(ctx context.Context, d time.Duration) error
	// detect lets the openai engine look at what the server is (GET /props,
	// /v1/models) before its first fill; tests of one API turn it off.
	detect bool
}

var defaultTuning = tuning{
	attempts:      3,
	backoff:       200 * time.Millisecond,
	maxBackoff:    2 * time.Second,
	maxRetryAfter: 5 * time.Second,
	threshold:     3,
	coolDown:      10 * time.Second,
	detect:        true,
	jitter: func(d time.Duration) time.Duration {
		if d <= 1 {
			return d
		}
		return d/2 + rand.N(d/2+1)
	},
	sleep: func(ctx context.Context, d time.Duration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	},
}

// maxAnswerBytes bounds a non-streamed answer.
const maxAnswerBytes = 16 << 20

// errRequestTimeout is the cause of a request context that ran out of
// Config.Timeout (as opposed to one the caller cancelled).
var errRequestTimeout = errors.New("remote request timed out")

// A target is where a request goes: its URL, and the URL as messages
// show it (no userinfo).
type target struct{ url, shown string }

// A client posts JSON to a server with retries, a breaker and error
// mapping. Its url is where requests go unless a call names another path
// of the same server (the openai engine moves between /infill and
// /v1/completions as it learns what the server is).
type client struct {
	backend  string // engine name, for messages
	url      string // where requests go
	shown    string // url without userinfo, for messages
	model    string // sent model name, for messages ("" = none sent)
	key      string // never logged or put in errors
	keyEnv   string // the environment variable the key comes from
	timeout  time.Duration
	http     *http.Client
	tune     tuning
	breaker  *breaker
	endpoint string // how the user sets the URL, for messages
}

func newClient(backend, url, shown, model, key, keyEnv string, timeout time.Duration, tune tuning) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// A completion server is one host; keep a few connections warm so
	// concurrent candidates and the next keystroke skip the handshake.
	tr.MaxIdleConnsPerHost = 8
	hc := &http.Client{Transport: tr}
	if key != "" {
		hc.CheckRedirect = keyRedirects
	}
	return &client{
		backend: backend, url: url, shown: shown, model: model, key: key, keyEnv: keyEnv,
		timeout: timeout, http: hc, tune: tune,
		breaker:  newBreaker(tune.threshold, tune.coolDown),
		endpoint: "--endpoint (or the endpoint setting)",
	}
}

// decodeError marks an answer that arrived but is not what the API
// documents: retrying will not help, and the server is up.
type decodeError struct{ err error }

func (e decodeError) Error() string { return e.err.Error() }
func (e decodeError) Unwrap() error { return e.err }

// serverError is an error object the server sent inside a 200 answer
// (some servers report failures mid-stream this way).
type serverError struct{ msg string }

func (e serverError) Error() string { return e.msg }

// withTimeout bounds one Infill call by the configured timeout.
func (c *client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, c.timeout, errRequestTimeout)
}

// target is the client's own URL.
func (c *client) target() target { return target{c.url, c.shown} }

// post sends body to the client's URL (see postTo).
func (c *client) post(ctx context.Context, body any, stream bool, read func(io.Reader) error) error {
	return c.postTo(ctx, c.target(), body, stream, read)
}

// postTo sends body to t and hands a 2xx answer's body to read, retrying
// 429, 5xx and broken connections with backoff (honouring Retry-After)
// while the breaker allows. A 5xx that refuses the request's shape (see
// refusal) is not retried and does not count against the server. A
// failure inside read is not retried: read may already have streamed text
// to the caller.
func (c *client) postTo(ctx context.Context, t target, body any, stream bool, read func(io.Reader) error) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: encoding the request: %w", c.backend, err)
	}
	var last error
	for attempt := 0; ; attempt++ {
		ok, wait, why := c.breaker.allow()
		if !ok {
			if last != nil {
				return last // this request's own failures opened the circuit
			}
			return &circuitError{backend: c.backend, url: t.shown, left: wait, last: why}
		}
		retryAfter, retry, err := c.attempt(ctx, t, payload, stream, read)
		if err == nil {
			return nil
		}
		last = err
		if !retry || attempt+1 >= c.tune.attempts {
			return last
		}
		d := c.tune.backoff << attempt
		if d > c.tune.maxBackoff || d <= 0 {
			d = c.tune.maxBackoff
		}
		d = c.tune.jitter(d)
		if retryAfter > 0 {
			if retryAfter > c.tune.maxRetryAfter {
				return fmt.Errorf("%w; the server asks to wait %s before retrying", last, retryAfter.Round(time.Second))
			}
			d = max(d, retryAfter)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return last // waiting would outlive the request
		}
		if c.tune.sleep(ctx, d) != nil {
			_, err := c.contextError(ctx, last)
			return err
		}
	}
}

// attempt makes one HTTP request. It returns whether to retry and, for a
// retry, how long the server asked to wait.
func (c *client) attempt(ctx context.Context, t target, payload []byte, stream bool, read func(io.Reader) error) (retryAfter time.Duration, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(payload))
	if err != nil {
		c.breaker.done(succeeded, nil)
		return 0, false, &Error{Backend: c.backend, URL: t.shown, Err: err, Hint: "the URL is not valid: check " + c.endpoint}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dfim")
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, false, c.abandon(ctx, err)
		}
		e := &Error{Backend: c.backend, URL: t.shown, Err: err}
		var dns *net.DNSError
		switch {
		case errors.Is(err, errKeyRedirect):
			e.Hint = "the server sent the request on to plain http, and the API key goes over http only to loopback: " +
				"put the server's https address in " + c.endpoint
		case errors.Is(err, syscall.ECONNREFUSED):
			e.Hint = "no server is running at this URL: start it, or fix " + c.endpoint
		case errors.As(err, &dns):
			e.Hint = "the host name does not resolve: check " + c.endpoint
		default:
			e.Hint = "the connection failed: check the network and " + c.endpoint
			retry = true // resets and dropped connections are often passing
		}
		c.breaker.done(failed, e)
		return 0, retry, e
	}
	defer resp.Body.Close()

	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		se := parseServerError(msg)
		e := &Error{Backend: c.backend, URL: t.shown, Status: resp.StatusCode,
			Server: redact(se.message, c.key), Type: se.typ,
			promptTokens: se.promptTokens, contextTokens: se.contextTokens}
		e.Hint = hintFor(e, c.keyEnv, c.key != "", c.model, c.endpoint)
		switch {
		case resp.StatusCode >= 500 && refusal(e):
			c.breaker.done(succeeded, nil) // the server is up and said no
			return 0, false, e
		case resp.StatusCode >= 500:
			c.breaker.done(failed, e)
			return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), true, e
		case resp.StatusCode == http.StatusTooManyRequests:
			c.breaker.done(succeeded, nil) // the server is up, only busy
			return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), true, e
		default:
			c.breaker.done(succeeded, nil)
			return 0, false, e
		}
	}

	body := io.Reader(resp.Body)
	if !stream {
		body = io.LimitReader(resp.Body, maxAnswerBytes)
	}
	err = read(body)
	if err == nil {
		c.breaker.done(succeeded, nil)
		return 0, false, nil
	}
	if ctx.Err() != nil {
		return 0, false, c.abandon(ctx, err)
	}
	var de decodeError
	var se serverError
	switch {
	case errors.As(err, &se):
		c.breaker.done(failed, err)
		return 0, false, &Error{Backend: c.backend, URL: t.shown, Status: resp.StatusCode,
			Server: redact(se.msg, c.key), Hint: "the server reported a failure while answering: try again later"}
	case errors.As(err, &de):
		c.breaker.done(succeeded, nil)
		return 0, false, &Error{Backend: c.backend, URL: t.shown, Status: resp.StatusCode, Err: err,
			Hint: "the answer is not an OpenAI-style completion: check that " + c.endpoint + " points at the right API"}
	default:
		c.breaker.done(failed, err)
		return 0, false, &Error{Backend: c.backend, URL: t.shown, Status: resp.StatusCode, Err: err,
			Hint: "the connection broke while the answer arrived: try again"}
	}
}

// maxProbeBytes bounds the answer to a look at the server (/props holds
// the model's chat template).
const maxProbeBytes = 4 << 20

// ask makes one request to u (GET when body is nil) and decodes a 2xx JSON
// answer into v, without retries and without the breaker: it looks at what
// the server is or has (/props, /v1/models, /tokenize), it never fills a
// hole. A non-2xx answer returns its status and a nil error; status 0 means
// no answer came.
func (c *client) ask(ctx context.Context, u string, body, v any) (status int, header http.Header, err error) {
	method, rd := http.MethodGet, io.Reader(nil)
	if body != nil {
		payload, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		method, rd = http.MethodPost, bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dfim")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return resp.StatusCode, resp.Header, nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxProbeBytes)).Decode(v); err != nil {
		return resp.StatusCode, resp.Header, decodeError{err}
	}
	return resp.StatusCode, resp.Header, nil
}

// contextError maps a finished request context to the error to return: a
// timeout counts against the server; a caller's cancellation does not.
func (c *client) contextError(ctx context.Context, cause error) (outcome, error) {
	if errors.Is(context.Cause(ctx), errRequestTimeout) {
		return failed, &Error{Backend: c.backend, URL: c.shown, Err: context.DeadlineExceeded,
			Hint: fmt.Sprintf("no full answer within %s: raise --timeout, or check that the server is not overloaded", c.timeout)}
	}
	if err := ctx.Err(); err != nil {
		return abandoned, err
	}
	return abandoned, cause
}

// abandon records a request context that finished mid-attempt.
func (c *client) abandon(ctx context.Context, cause error) error {
	o, err := c.contextError(ctx, cause)
	c.breaker.done(o, err)
	return err
}

// A serverErr is what an error body says: the human part (OpenAI's
// {"error":{"message"}}, vLLM's {"message"}, FastAPI's {"detail"}, or the
// text itself, shortened), the error's type where it has one
// ("invalid_request_error", llama.cpp's "not_supported_error" and
// "exceed_context_size_error"), and for the last, llama.cpp's token counts.
type serverErr struct {
	message, typ  string
	promptTokens  int // llama.cpp's n_prompt_tokens
	contextTokens int // llama.cpp's n_ctx (per slot)
}

func parseServerError(body []byte) serverErr {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &v) == nil {
		var inner struct {
			Message       string `json:"message"`
			Type          string `json:"type"`
			PromptTokens  int    `json:"n_prompt_tokens"`
			ContextTokens int    `json:"n_ctx"`
		}
		var s string
		switch {
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &inner) == nil && inner.Message != "":
			return serverErr{shorten(inner.Message), inner.Type, inner.PromptTokens, inner.ContextTokens}
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &s) == nil && s != "":
			return serverErr{message: shorten(s), typ: v.Type}
		case v.Message != "":
			return serverErr{message: shorten(v.Message), typ: v.Type}
		case len(v.Detail) > 0:
			if json.Unmarshal(v.Detail, &s) == nil {
				return serverErr{message: shorten(s)}
			}
			return serverErr{message: shorten(string(v.Detail))}
		}
	}
	return serverErr{message: shorten(string(body))}
}

// serverMessage is the human part of an error body (see parseServerError).
func serverMessage(body []byte) string { return parseServerError(body).message }

// refusal reports whether an error answer refuses the request's shape (a
// parameter, a value out of range, a capability the model lacks) rather
// than reporting an outage: asking again the same way cannot help, and the
// server is up. Older llama.cpp servers send such refusals as 500 with
// type "server_error" ("Unsupported param: suffix", "Only one completion
// choice is allowed"); llama.cpp answers a model without FIM tokens 501.
func refusal(e *Error) bool {
	switch {
	case e.Status == http.StatusNotImplemented:
		return true
	case e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests:
		return false
	case e.Status >= 400 && e.Status < 500:
		return true
	}
	switch e.Type {
	case "invalid_request_error", "not_supported_error", "exceed_context_size_error":
		return true
	}
	m := strings.ToLower(e.Server)
	for _, s := range []string{"unsupported param", "not supported", "only one completion choice",
		"must be between", "is required", "illegal param", "only no echo"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const limit = 300
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. It returns 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
