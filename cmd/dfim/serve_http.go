package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native"
	"github.com/dfim/dfim/engine/remote"
	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/lsp"
	"github.com/dfim/dfim/lsp/httpapi"
)

// httpFlags are `dfim serve`'s flags for the FIM HTTP APIs (--http).
type httpFlags struct {
	addr        string
	apiKeyFile  string
	maxBody     int64
	maxCanvas   int
	maxQueue    int
	clientQueue int
	parallel    int
	cors        []string
	allowRemote bool // --allow-remote, as listen was told
}

func addHTTPFlags(fs *flag.FlagSet) *httpFlags {
	h := &httpFlags{}
	fs.StringVar(&h.addr, "http", "", "serve the FIM HTTP APIs (Inception /v1/fim/completions, OpenAI /v1/completions, llama.cpp /infill) at `ADDR` "+
		"(host:port; \":PORT\" is loopback); alone it serves HTTP only, with --stdio or --listen beside the LSP")
	fs.StringVar(&h.apiKeyFile, "api-key-file", "", "with --http, require the key in `FILE` as \"Authorization: Bearer KEY\" (needed with --allow-remote)")
	fs.Int64Var(&h.maxBody, "http-max-body", httpapi.DefaultMaxBodyBytes, "with --http, the largest request body in `BYTES` (413 beyond)")
	fs.IntVar(&h.maxCanvas, "http-max-canvas", httpapi.DefaultMaxCanvasTokens, "with --http, the most `TOKENS` of prompt, suffix and extra context a request may send (413 beyond)")
	fs.IntVar(&h.maxQueue, "http-queue", httpapi.DefaultMaxQueue, "with --http, how many requests may wait for the engine (429 beyond)")
	fs.IntVar(&h.clientQueue, "http-client-queue", 0, "with --http, how many requests one client (address and bearer key) may have waiting (429 beyond, "+
		"so that a client flooding the server is refused before the others); 0: a quarter of --http-queue")
	fs.Func("cors", "with --http, let web pages from `ORIGIN` (scheme://host[:port], or * for any) call the APIs: repeat it or separate origins by commas "+
		"(without it, requests a browser sends for a page are refused)", func(v string) error {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimSpace(o)
			if !httpapi.ValidOrigin(o) {
				return fmt.Errorf("%q is not a web origin: want scheme://host[:port] as a browser's Origin header names it (such as http://localhost:3000), or *", o)
			}
			h.cors = append(h.cors, o)
		}
		return nil
	})
	fs.IntVar(&h.parallel, "http-parallel", native.DefaultBatch, "with --http, requests filled at once: the native engine steps them together, sharing each forward pass (1: one request at a time, each to its end)")
	return h
}

// check rejects --http flags that make no sense together, and reads the
// API key.
func (h *httpFlags) check(fs *flag.FlagSet) (key string, err error) {
	if h.addr == "" {
		for _, name := range []string{"api-key-file", "http-max-body", "http-max-canvas", "http-queue", "http-client-queue", "http-parallel", "cors"} {
			if flagGiven(fs, name) {
				return "", usagef("--%s goes with --http", name)
			}
		}
		return "", nil
	}
	if h.maxBody < 1 || h.maxCanvas < 1 || h.maxQueue < 0 || h.clientQueue < 0 || h.parallel < 1 {
		return "", usagef("--http-max-body, --http-max-canvas and --http-parallel take numbers from 1, --http-queue and --http-client-queue from 0")
	}
	if h.apiKeyFile == "" {
		return "", nil
	}
	b, err := readSmallFile(h.apiKeyFile, 4<<10)
	if err != nil {
		return "", usagef("--api-key-file: %v", err)
	}
	if key = strings.TrimSpace(string(b)); key == "" {
		return "", usagef("--api-key-file %s is empty", h.apiKeyFile)
	}
	return key, nil
}

// listen binds --http's address: loopback unless allowRemote, and a
// reachable address only with an API key. It refuses what it can before
// binding: a refused address must not be bound, even for a moment.
func (h *httpFlags) listen(allowRemote bool, key string) (net.Listener, error) {
	h.allowRemote = allowRemote
	if host, _, err := net.SplitHostPort(h.addr); err == nil && host != "" && !remote.IsLoopback(host) && allowRemote && key == "" {
		return nil, h.needKey()
	}
	ln, public, err := listenFlag("--http", h.addr, allowRemote, "--api-key-file")
	if err != nil {
		return nil, err
	}
	if public && key == "" { // a name that resolved to a reachable address
		ln.Close()
		return nil, h.needKey()
	}
	if public {
		fmt.Fprintln(os.Stderr, "dfim serve: WARNING: the HTTP APIs listen on "+ln.Addr().String()+", which other machines can reach (with the API key)")
	}
	return ln, nil
}

func (h *httpFlags) needKey() error {
	return usagef("--http %s can be reached from other machines: add --api-key-file FILE, whose key every request must send as \"Authorization: Bearer KEY\"", h.addr)
}

// server is the FIM HTTP APIs over the completer the loader opens for
// settings: the same engine an LSP session with those settings uses.
func (h *httpFlags) server(loader *engineLoader, settings lsp.Settings, common *commonFlags, key string, log *zap.Logger) *httpapi.Server {
	return httpapi.New(httpapi.Options{
		Load: func(ctx context.Context) (infill.Filler, error) {
			return loader.load(ctx, settings)
		},
		APIKey: key,
		Defaults: infill.Options{Steps: settings.Steps, Algorithm: engine.Algorithm(common.algorithm),
			MinConfidence: settings.MinConfidence, ContextTokens: settings.CanvasTokens},
		MaxBodyBytes: h.maxBody, MaxCanvasTokens: h.maxCanvas, MaxQueue: queueOption(h.maxQueue),
		MaxClientQueue: h.clientQueue, Parallel: h.parallel, AllowAnyHost: h.allowRemote, CORSOrigins: h.cors,
		Logger: log.Named("http"), Version: version,
	})
}

// queueOption maps --http-queue to httpapi.Options.MaxQueue (0 there
// means the default, negative none).
func queueOption(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// Timeouts of the HTTP server: for a request's headers, for the whole
// request with its body (the handler also bounds the body by
// httpapi.Options.BodyTimeout, and lifts the deadline once it has read it,
// so that a long fill is not cut), and for an idle keep-alive connection.
// A slow or idle client must not hold a connection and its buffers.
const (
	httpHeaderTimeout = 10 * time.Second
	httpReadTimeout   = 60 * time.Second
	httpIdleTimeout   = 90 * time.Second
)

// serveHTTP serves srv on ln until ctx ends, then lets requests in flight
// finish for a few seconds.
func serveHTTP(ctx context.Context, ln net.Listener, srv http.Handler, log *zap.Logger) error {
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: httpHeaderTimeout, ReadTimeout: httpReadTimeout, IdleTimeout: httpIdleTimeout,
		MaxHeaderBytes: 64 << 10,
		BaseContext:    func(net.Listener) context.Context { return ctx },
		ErrorLog:       zap.NewStdLog(log.Named("http"))}
	log.Info("serving the FIM HTTP APIs", zap.String("addr", "http://"+ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving HTTP on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
