package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
)

// Defaults of the limits (Options).
const (
	DefaultMaxBodyBytes    = 2 << 20
	DefaultMaxCanvasTokens = 16384
	DefaultMaxFillTokens   = 512
	DefaultMaxQueue        = 32
)

// Options configure a Server.
type Options struct {
	// Load opens the completer; the server calls it at once in the
	// background, and requests wait for it (/health answers 503 until it
	// is done). It may be called again after a failure.
	Load func(ctx context.Context) (infill.Filler, error)
	// Model is the model id in /v1/models and in answers ("dfim" if "").
	// Requests may name any model: plugins send their own defaults.
	Model string
	// APIKey, when set, is required as "Authorization: Bearer KEY" on
	// every endpoint but /health.
	APIKey string
	// Defaults are the completion options of every request (steps,
	// algorithm, minimum confidence from the flags and the config file);
	// request fields override them.
	Defaults infill.Options
	// MaxBodyBytes bounds a request body (413 beyond); 0: the default.
	MaxBodyBytes int64
	// MaxCanvasTokens bounds the tokens of prompt, suffix and extra
	// context of one request (413 beyond); 0: the default. The engine
	// sees at most its context window of them, nearest the cursor.
	MaxCanvasTokens int
	// MaxFillTokens caps max_tokens (n_predict); 0: the default.
	MaxFillTokens int
	// Parallel is how many requests fill at once (the native engine
	// steps them together, sharing forward passes, when it is opened with
	// the same engine.Config.Batch); 0: 1.
	Parallel int
	// MaxQueue is how many requests may wait for a slot (429 beyond);
	// 0: the default, negative: none may wait.
	MaxQueue int
	// Logger receives the server's logs; nil: none.
	Logger *zap.Logger
	// Version is reported by /health.
	Version string
}

// A Server answers the FIM HTTP APIs. It is an http.Handler.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	queue   *queue
	metrics *metrics
	log     *zap.Logger
	started time.Time

	// mu guards the fields below: the completer once loaded, or the load's
	// error.
	mu      sync.Mutex
	loading chan struct{} // closed when the current load ends
	c       infill.Filler
	loadErr error
}

// New returns a Server and starts loading its completer.
func New(opts Options) *Server {
	if opts.Model == "" {
		opts.Model = "dfim"
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxCanvasTokens <= 0 {
		opts.MaxCanvasTokens = DefaultMaxCanvasTokens
	}
	if opts.MaxFillTokens <= 0 {
		opts.MaxFillTokens = DefaultMaxFillTokens
	}
	switch {
	case opts.MaxQueue == 0:
		opts.MaxQueue = DefaultMaxQueue
	case opts.MaxQueue < 0:
		opts.MaxQueue = 0
	}
	opts.Parallel = max1(opts.Parallel)
	s := &Server{opts: opts, queue: newQueue(opts.Parallel, opts.MaxQueue), metrics: newMetrics(),
		log: opts.Logger, started: time.Now()}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/fim/completions", s.fill(endpointFIM))
	s.mux.HandleFunc("POST /v1/completions", s.fill(endpointCompletions))
	s.mux.HandleFunc("POST /completions", s.fill(endpointCompletions))
	s.mux.HandleFunc("POST /infill", s.fill(endpointInfill))
	s.mux.HandleFunc("GET /v1/models", s.models)
	s.mux.HandleFunc("GET /models", s.models)
	s.mux.HandleFunc("GET /health", s.health)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	s.startLoad()
	return s
}

// ServeHTTP implements http.Handler: authentication, then the endpoint.
// Unknown paths get 404 and known paths with another method 405, both in
// OpenAI's error shape.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.APIKey != "" && r.URL.Path != "/health" && !s.authorized(r) {
		s.metrics.answered(endpointName(r.URL.Path), http.StatusUnauthorized)
		writeError(w, &apiError{Status: http.StatusUnauthorized, Type: typeAuth, Code: "invalid_api_key",
			Message: "missing or wrong API key: send the key of the server's --api-key-file as \"Authorization: Bearer KEY\""})
		return
	}
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		status, msg := http.StatusNotFound, "no endpoint "+r.URL.Path+"; dfim serves POST /v1/fim/completions, POST /v1/completions, POST /infill, GET /v1/models, GET /health and GET /metrics"
		typ := typeNotFound
		if _, p := s.mux.Handler(withMethod(r, http.MethodPost)); p != "" {
			status, msg, typ = http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+" is not served; use POST", typeInvalid
		} else if _, p := s.mux.Handler(withMethod(r, http.MethodGet)); p != "" {
			status, msg, typ = http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+" is not served; use GET", typeInvalid
		}
		s.metrics.answered("other", status)
		writeError(w, &apiError{Status: status, Type: typ, Message: msg})
		return
	}
	h.ServeHTTP(w, r)
}

func withMethod(r *http.Request, method string) *http.Request {
	c := *r
	c.Method = method
	return &c
}

// endpointName is the metrics label of a path.
func endpointName(path string) string {
	switch path {
	case "/v1/fim/completions", "/v1/completions", "/infill", "/v1/models", "/health", "/metrics":
		return path
	case "/completions":
		return "/v1/completions"
	case "/models":
		return "/v1/models"
	}
	return "other"
}

func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.opts.APIKey)) == 1
}

// startLoad begins loading the completer unless a load is under way.
// s.mu must not be held.
func (s *Server) startLoad() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startLoadLocked()
}

func (s *Server) startLoadLocked() {
	if s.loading != nil || s.c != nil {
		return
	}
	done := make(chan struct{})
	s.loading = done
	s.loadErr = nil
	go func() {
		c, err := s.opts.Load(context.Background())
		if err == nil && c == nil {
			err = errors.New("httpapi: the loader returned no completer")
		}
		s.mu.Lock()
		s.c, s.loadErr, s.loading = c, err, nil
		s.mu.Unlock()
		close(done)
		if err != nil {
			s.log.Error("loading the engine", zap.Error(err))
		}
	}()
}

// completer waits for the completer to load, or ctx to end. A failed load
// is retried by the next request.
func (s *Server) completer(ctx context.Context) (infill.Filler, error) {
	s.mu.Lock()
	if s.c == nil && s.loading == nil && s.loadErr != nil {
		s.startLoadLocked() // the last load failed: try again
	}
	c, done := s.c, s.loading
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c, s.loadErr
}

// state reports whether the completer is loaded, and the last load's error.
func (s *Server) state() (loaded bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c != nil, s.loadErr
}

// health answers GET /health as llama.cpp does: 200 {"status": "ok"} once
// the engine is loaded, 503 while it loads, 500 when loading failed.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	loaded, err := s.state()
	switch {
	case loaded:
		s.metrics.answered("/health", http.StatusOK)
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "model": s.opts.Model, "version": s.opts.Version,
			"uptime_s": int(time.Since(s.started).Seconds())})
	case err != nil:
		s.metrics.answered("/health", http.StatusInternalServerError)
		writeError(w, &apiError{Status: http.StatusInternalServerError, Type: typeServer, Code: "engine_failed",
			Message: "the engine failed to load: " + err.Error()})
	default:
		s.metrics.answered("/health", http.StatusServiceUnavailable)
		writeError(w, &apiError{Status: http.StatusServiceUnavailable, Type: typeLoading, Code: "loading_model", Message: "Loading model"})
	}
}

// modelJSON is one entry of GET /v1/models.
type modelJSON struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Created int64          `json:"created"`
	OwnedBy string         `json:"owned_by"`
	Meta    map[string]any `json:"meta,omitempty"`
}

// models answers GET /v1/models with the one model served.
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	m := modelJSON{ID: s.opts.Model, Object: "model", Created: s.started.Unix(), OwnedBy: "dfim"}
	if loaded, _ := s.state(); loaded {
		c, _ := s.completer(r.Context())
		// n_ctx is what a request may send (clients size their context by
		// it): more than the model's window, which infill cuts nearest the
		// cursor, since the decoding experts read the text beyond it too.
		meta := map[string]any{"n_ctx": s.opts.MaxCanvasTokens}
		if d := engineOf(c); d != nil {
			if cs, ok := d.(engine.ContextSizer); ok && cs.ContextLength() > 0 {
				meta["n_ctx_model"] = cs.ContextLength()
			}
			if ds, ok := d.(engine.Describer); ok {
				meta["description"] = ds.Describe()
			}
		}
		m.Meta = meta
	}
	s.metrics.answered("/v1/models", http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []modelJSON{m}})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics.answered("/metrics", http.StatusOK)
	loaded, _ := s.state()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w, s.queue.depth(), s.queue.busy(s.opts.Parallel), s.opts.Parallel, loaded)
}

// engineOf is the denoiser behind c, when c says (infill's Completer does).
func engineOf(c infill.Filler) engine.Denoiser {
	if e, ok := c.(interface{ Engine() engine.Denoiser }); ok {
		return e.Engine()
	}
	return nil
}

// tokenCounter counts tokens as c's engine does, or estimates them from
// bytes (the estimate infill uses for engines without a tokenizer).
func tokenCounter(c infill.Filler) func(string) int {
	if tc, ok := engineOf(c).(engine.TokenCounter); ok {
		return tc.CountTokens
	}
	return func(t string) int {
		if t == "" {
			return 0
		}
		return int(float64(len(t))/3.5) + 1
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// clientKey names the client a request comes from, for fair queueing:
// its "user" field, else its IP address.
func clientKey(r *http.Request, user string) string {
	if user != "" {
		return "user:" + user
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host
}
