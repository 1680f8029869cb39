package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
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
	DefaultBodyTimeout     = 30 * time.Second
	DefaultMaxBodiesBytes  = 32 << 20
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
	// MaxBodiesBytes bounds the bytes of request bodies the server holds
	// at once, from admission to answer, counted by Content-Length (a body
	// of unknown length as MaxBodyBytes): 429 beyond, so that many large
	// bodies cannot exhaust memory; 0: DefaultMaxBodiesBytes, or four
	// largest bodies if more.
	MaxBodiesBytes int64
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
	// MaxClientQueue is how many requests one client (clientKey) may have
	// waiting (429 beyond), so that one client flooding the server is
	// refused before the others are; 0: a quarter of MaxQueue (at least
	// 1), negative: none.
	MaxClientQueue int
	// MaxClientParallel is how many slots one client may hold at once;
	// 0: all (a lone client uses the whole engine; when others wait, a
	// freed slot goes to the client holding the fewest).
	MaxClientParallel int
	// BodyTimeout bounds the time to receive a request body (408
	// beyond): a slow client must not hold its place in the queue; 0:
	// DefaultBodyTimeout.
	BodyTimeout time.Duration
	// AllowAnyHost accepts requests whatever their Host header names
	// (dfim serve's --allow-remote). Otherwise only loopback names are
	// answered (localhost, 127.0.0.0/8, [::1]): a web page that rebinds
	// its own name to 127.0.0.1 (DNS rebinding) is refused.
	AllowAnyHost bool
	// CORSOrigins are the web origins ("https://example.com", or "*" for
	// any) whose pages may call the APIs (dfim serve's --cors). A request
	// a browser sends for any other page (an Origin header, or
	// Sec-Fetch-Site cross-site or same-site) is refused with 403.
	CORSOrigins []string
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
	origins origins
	bodies  budget // bytes of bodies held (MaxBodiesBytes)

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
	switch {
	case opts.MaxClientQueue == 0:
		opts.MaxClientQueue = max1(opts.MaxQueue / 4)
	case opts.MaxClientQueue < 0:
		opts.MaxClientQueue = 0
	}
	if opts.MaxBodiesBytes <= 0 {
		opts.MaxBodiesBytes = max(DefaultMaxBodiesBytes, 4*opts.MaxBodyBytes)
	}
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = DefaultBodyTimeout
	}
	opts.Parallel = max1(opts.Parallel)
	s := &Server{opts: opts, queue: newQueue(opts.Parallel, opts.MaxQueue, opts.MaxClientQueue, opts.MaxClientParallel),
		metrics: newMetrics(), log: opts.Logger, started: time.Now(), origins: newOrigins(opts.CORSOrigins),
		bodies: budget{max: opts.MaxBodiesBytes}}
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

// ServeHTTP implements http.Handler: the Host and Origin checks (and
// CORS), authentication, then the endpoint, and one log line. Unknown
// paths get 404 and known paths with another method 405, all errors in
// OpenAI's error shape.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lw := &logWriter{ResponseWriter: w, start: time.Now()}
	defer s.logRequest(lw, r)
	if e, answered := s.guard(lw, r); e != nil {
		s.metrics.answered(endpointName(r.URL.Path), e.Status)
		s.metrics.reject(e.Code.(string))
		lw.note = e.Code.(string)
		writeError(lw, e)
		return
	} else if answered { // a CORS preflight
		s.metrics.answered(endpointName(r.URL.Path), lw.status)
		return
	}
	if s.opts.APIKey != "" && r.URL.Path != "/health" && !s.authorized(r) {
		s.metrics.answered(endpointName(r.URL.Path), http.StatusUnauthorized)
		lw.note = "invalid_api_key"
		writeError(lw, &apiError{Status: http.StatusUnauthorized, Type: typeAuth, Code: "invalid_api_key",
			Message: "missing or wrong API key: send the key of the server's --api-key-file as \"Authorization: Bearer KEY\""})
		return
	}
	s.route(lw, r)
}

// route hands r to its endpoint.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
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

// clientKey names the client a request comes from, for the queue's
// per-client lines and caps and for the log: its IP address, the bearer
// key it sends, if any (hashed: the log must not show it), and its
// User-Agent, which tells apart the tools of one machine (an editor's
// plugin and a script) when they send no key. It reads only headers: a
// request is admitted before its body is read.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	key := host
	if k, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && strings.TrimSpace(k) != "" {
		sum := sha256.Sum256([]byte(strings.TrimSpace(k)))
		key += " key:" + hex.EncodeToString(sum[:4])
	}
	if ua := r.Header.Get("User-Agent"); ua != "" {
		key += " " + quoteHeader(ua[:min(len(ua), 48)])
	}
	return key
}
