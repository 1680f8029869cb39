package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/remote"
	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/lsp"
)

func init() {
	register(&command{
		name: "serve",
		summary: "run the language server: LSP over stdio, or TCP with --listen; the FIM HTTP APIs with --http\n" +
			"--http ADDR alone serves HTTP only; add --stdio (or --listen) to serve the LSP beside it",
		usage:  "[--listen ADDR [--allow-remote] [--token-file FILE | --insecure-no-token] [--idle-timeout D]] [--http ADDR [--allow-remote] [--api-key-file FILE]] [--log-file FILE]",
		common: true,
		run:    runServe,
	})
}

func runServe(fs *flag.FlagSet, common *commonFlags, args []string) error {
	listen := fs.String("listen", "", "serve LSP over TCP at `ADDR` (host:port; \":PORT\" is loopback) instead of stdio")
	allowRemote := fs.Bool("allow-remote", false, "let --listen or --http use an address other machines can reach (anyone who reaches it can read the code sent; use a token or an API key)")
	tokenFile := fs.String("token-file", "", "with --listen, require the secret in `FILE` (or $"+tokenEnv+") as initializationOptions.token; "+
		"without either, a new one is made and its file named on stderr")
	noToken := fs.Bool("insecure-no-token", false, "with --listen, require no token: any local user can then read your files through completions")
	idleTimeout := fs.Duration("idle-timeout", defaultIdleTimeout, "with --listen, close a session after `DURATION` without messages (0: never)")
	logFile := fs.String("log-file", "", "append logs to `FILE` instead of stderr")
	// Many clients' configurations add --stdio (vscode-languageclient does); it is the default anyway.
	stdioFlag := fs.Bool("stdio", false, "serve LSP over stdio (the default; accepted for clients that pass it; with --http, serve both)")
	httpf := addHTTPFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *stdioFlag && *listen != "" {
		return usagef("--stdio and --listen exclude each other")
	}
	if *listen == "" && (*allowRemote && httpf.addr == "" || *tokenFile != "" || *noToken || flagGiven(fs, "idle-timeout")) {
		return usagef("--allow-remote goes with --listen or --http; --token-file, --insecure-no-token and --idle-timeout with --listen")
	}
	if *noToken && (*tokenFile != "" || os.Getenv(tokenEnv) != "") {
		return usagef("--insecure-no-token turns the token off, but --token-file or $%s gives one; drop one of them", tokenEnv)
	}
	if *idleTimeout < 0 {
		return usagef("--idle-timeout %v: want a duration such as 30m, or 0 for none", *idleTimeout)
	}
	apiKey, err := httpf.check(fs)
	if err != nil {
		return err
	}
	token := os.Getenv(tokenEnv)
	if *tokenFile != "" {
		b, err := readSmallFile(*tokenFile, 4<<10)
		if err != nil {
			return usagef("--token-file: %v", err)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return usagef("--token-file %s is empty", *tokenFile)
		}
	}
	settings, err := common.resolve(fs)
	if err != nil {
		return err
	}
	level, err := zap.ParseAtomicLevel(common.logLevel)
	if err != nil {
		return usagef("unknown --log-level %q (want debug, info, warn or error)", common.logLevel)
	}
	logOut := io.Writer(os.Stderr)
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("opening log file: %w (check the directory exists and is writable)", err)
		}
		defer f.Close()
		logOut = f
	}
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()),
		zapcore.Lock(zapcore.AddSync(logOut)), level))
	defer log.Sync()

	var httpLn net.Listener
	if httpf.addr != "" {
		if httpLn, err = httpf.listen(*allowRemote, apiKey); err != nil {
			return err
		}
		defer httpLn.Close()
	}
	var ln net.Listener
	if *listen != "" {
		// Bind before loading anything: a refused address is a usage error.
		var public bool
		if ln, public, err = listenTCP(*listen, *allowRemote); err != nil {
			return err
		}
		defer ln.Close()
		if token == "" && !*noToken {
			// Any local user can connect to a TCP port, and a session can
			// name any folder to index: a token keeps them out.
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			var path string
			if token, path, err = serveToken(port, os.Getenv); err != nil {
				return err
			}
			if _, asked, _ := net.SplitHostPort(*listen); asked == "0" {
				// A port of the system's choosing is not seen again: its
				// token file would only pile up.
				defer os.Remove(path)
			}
			fmt.Fprintf(os.Stderr, "dfim serve: clients must send the token in %s as initializationOptions.token "+
				"(or choose one with --token-file)\n", path)
			log.Info("session token", zap.String("file", path))
		}
		if *noToken {
			fmt.Fprintln(os.Stderr, "dfim serve: WARNING: --insecure-no-token: anyone who can connect to "+ln.Addr().String()+
				" (every user of this machine, at least) can read any file you can, through the completions of a workspace they name")
			log.Warn("listening without a token", zap.String("addr", ln.Addr().String()))
		}
		if public {
			warn := "dfim serve: WARNING: listening on " + ln.Addr().String() + ", which other machines can reach"
			if token == "" {
				warn += ", with no token: anyone who connects can read the code sent and use the model (add --token-file)"
			}
			fmt.Fprintln(os.Stderr, warn)
			log.Warn("listening on a non-loopback address", zap.String("addr", ln.Addr().String()), zap.Bool("token", token != ""))
		}
	}
	// The endpoint from the flags or the config file is the user's; one a
	// client names later is not (a workspace's settings can name any URL).
	if httpf.addr != "" {
		common.batch = httpf.parallel
	}
	loader := &engineLoader{flags: *common, log: log, userEndpoint: settings.Endpoint, getenv: os.Getenv}
	defer loader.close()
	// Start opening the engine now, so the model loads while the client
	// starts; the server's own load joins this one.
	go loader.load(context.Background(), settings)

	opts := lsp.Options{Load: loader.load, Settings: settings, Engines: engine.Names(), Logger: log,
		Level: &level, Version: version}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if httpLn != nil {
		srv := httpf.server(loader, settings, common, apiKey, log)
		if ln == nil && !*stdioFlag {
			fmt.Fprintln(os.Stderr, "dfim serve: the FIM HTTP APIs are at http://"+httpLn.Addr().String()+" (Ctrl-C quits)")
			return serveHTTP(ctx, httpLn, srv, log)
		}
		httpDone := make(chan error, 1)
		go func() { httpDone <- serveHTTP(ctx, httpLn, srv, log) }()
		defer func() { stop(); <-httpDone }()
	}
	if ln != nil {
		opts.Token = token // stdio is the editor's own pipe: no token there
		return serveTCP(ctx, ln, opts, sessionLimits{Idle: *idleTimeout, Handshake: defaultHandshakeTimeout}, log)
	}
	if stdinIsTerminal() {
		// Someone typed `dfim serve` to try it: say what it waits for.
		fmt.Fprintln(os.Stderr, "dfim serve: waiting for an LSP client on stdin; editors start `dfim serve` themselves "+
			"(see editors/README.md), so there is nothing to type here: Ctrl-C quits, `dfim fill FILE:LINE:COL` tries a completion")
	}
	// Only LSP goes to stdout: anything else that prints lands in stderr.
	out := os.Stdout
	os.Stdout = os.Stderr
	// Editors show a server's stderr as errors: the log goes to the editor,
	// with its levels, as window/logMessage (a --log-file keeps it).
	opts.LogToClient = *logFile == ""
	err = lsp.NewServer(opts).Serve(ctx, stdio{in: os.Stdin, out: out})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lsp.ErrExitWithoutShutdown):
		return exitError{code: exitFailed} // the LSP specification's exit code
	case errors.Is(err, context.Canceled):
		return nil // interrupted
	}
	return err
}

// tokenEnv holds the shared token of `serve --listen` when no
// --token-file is given.
const tokenEnv = "DFIM_SERVE_TOKEN"

// listenTCP listens on --listen's addr: on loopback when addr names no
// host (":7777"), and on an address other machines can reach only with
// allowRemote. public reports the latter.
func listenTCP(addr string, allowRemote bool) (ln net.Listener, public bool, err error) {
	return listenFlag("--listen", addr, allowRemote, "--token-file")
}

// listenFlag is listenTCP for the address of any flag (flagName);
// secretFlag names the flag of the secret that should go with
// --allow-remote, for messages.
func listenFlag(flagName, addr string, allowRemote bool, secretFlag string) (ln net.Listener, public bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, false, usagef("%s %q: want host:port or :port (%v)", flagName, addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	public = !remote.IsLoopback(host)
	if public && !allowRemote {
		return nil, false, usagef("%s %s would accept connections from other machines; "+
			"use 127.0.0.1:%s, or add --allow-remote (and %s) if you mean it", flagName, addr, port, secretFlag)
	}
	ln, err = net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, false, fmt.Errorf("%s: listening on %s: %w (is the port in use?)", flagName, addr, err)
	}
	// A name like "localhost" may resolve anywhere: judge by the bound address.
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		if !allowRemote {
			ln.Close()
			return nil, false, usagef("%s %s resolves to %s, which other machines can reach; add --allow-remote if you mean it", flagName, addr, tcp.IP)
		}
		public = true
	}
	return ln, public, nil
}

// stdio is the stdin/stdout connection of an editor that started dfim.
type stdio struct {
	in  *os.File
	out *os.File
}

func (s stdio) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s stdio) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s stdio) Close() error                { return s.in.Close() }

// engineLoader opens each engine configuration (engine, model, endpoint,
// remote model, timeout) once and shares it between sessions and settings
// changes; it closes them all at the end.
type engineLoader struct {
	flags commonFlags
	log   *zap.Logger
	// userEndpoint is the endpoint configured outside the LSP session
	// (--endpoint, --config); getenv reads the environment.
	userEndpoint string
	getenv       func(string) string

	// mu guards loads.
	mu    sync.Mutex
	loads map[lsp.EngineSettings]*engineLoad
}

type engineLoad struct {
	done chan struct{}
	d    engine.Denoiser
	c    *infill.Completer
	err  error
}

func (l *engineLoader) load(ctx context.Context, s lsp.Settings) (infill.Filler, error) {
	key := s.EngineSettings()
	l.mu.Lock()
	if l.loads == nil {
		l.loads = map[lsp.EngineSettings]*engineLoad{}
	}
	e, ok := l.loads[key]
	if !ok {
		e = &engineLoad{done: make(chan struct{})}
		l.loads[key] = e
		go func() {
			defer close(e.done)
			if e.err = l.keyGuard(key); e.err != nil {
				return
			}
			f := l.flags
			f.engine, f.model, f.endpoint, f.remoteModel = key.Engine, key.Model, key.Endpoint, key.RemoteModel
			if key.TimeoutMs > 0 {
				f.timeout = time.Duration(key.TimeoutMs) * time.Millisecond
			}
			e.d, e.err = f.openEngine()
			if e.err == nil {
				e.c = infill.New(e.d)
			}
		}()
	}
	l.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.c, nil
}

// keyEnv names the environment variable each remote engine of
// engine/remote reads its API key from.
var keyEnv = map[string]string{"inception": "INCEPTION_API_KEY", "openai": "OPENAI_API_KEY"}

// keyHostsEnv lists, comma-separated, the hosts (host or host:port) an
// editor's settings may name as the endpoint: the code goes there, and
// the API key too when one is set.
const keyHostsEnv = "DFIM_KEY_HOSTS"

// keyGuard refuses to open a remote engine whose endpoint would receive
// what DESIGN.md's "Secrets" keeps from it. The user's code: an endpoint
// set by the LSP client (a workspace's settings, or whoever holds the
// session, can name any server) gets it only when it is the one given with
// --endpoint or --config, on this machine (loopback), or on a host the user
// listed in DFIM_KEY_HOSTS. The API key from the environment: a client's
// endpoint gets it only when listed there (loopback is no exception: any
// local user can listen there), and never over plain http to another
// machine. The remote engines read the key themselves, so refusing is the
// one way to keep it from going there.
func (l *engineLoader) keyGuard(s lsp.EngineSettings) error {
	env, isRemote := keyEnv[s.Engine]
	getenv := l.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if !isRemote || s.Endpoint == "" {
		return nil // not a remote engine, or the backend's default host
	}
	u, err := url.Parse(strings.TrimSpace(s.Endpoint))
	if err != nil || u.Host == "" {
		return nil // the engine rejects it without sending anything
	}
	shown := u.Redacted()
	byClient := s.Endpoint != l.userEndpoint && !hostListed(u, getenv(keyHostsEnv))
	if getenv(env) == "" {
		if byClient && !remote.IsLoopback(u.Hostname()) {
			return fmt.Errorf("the endpoint %s was set by the editor's settings, and dfim sends your code only to an endpoint "+
				"given with --endpoint or --config, to this machine, or to a host listed in %s; set it there, or list its host",
				shown, keyHostsEnv)
		}
		return nil
	}
	if byClient {
		return fmt.Errorf("the endpoint %s was set by the editor's settings, and dfim sends %s only to an endpoint "+
			"given with --endpoint or --config, or to a host listed in %s; set it there, list its host, or unset %s to use it without a key",
			shown, env, keyHostsEnv, env)
	}
	if u.Scheme == "http" && !remote.IsLoopback(u.Hostname()) {
		return fmt.Errorf("the endpoint %s is plain http to another machine, and dfim sends %s over http only to loopback; "+
			"use https, or unset %s to use it without a key", shown, env, env)
	}
	return nil
}

// hostListed reports whether u's host (or host:port) is in the
// comma-separated list.
func hostListed(u *url.URL, list string) bool {
	for _, h := range strings.Split(list, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h != "" && (h == strings.ToLower(u.Host) || h == strings.ToLower(u.Hostname())) {
			return true
		}
	}
	return false
}

func (l *engineLoader) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, e := range l.loads {
		select {
		case <-e.done:
			if e.d != nil {
				if err := e.d.Close(); err != nil {
					l.log.Warn("closing engine", zap.Stringer("engine", key), zap.Error(err))
				}
			}
		default: // still loading; the process is ending anyway
		}
	}
}

// readSmallFile reads path if it is a regular file of at most limit bytes:
// a device, FIFO or huge file named by mistake must not hang the command
// or fill its memory.
func readSmallFile(path string, limit int64) ([]byte, error) {
	// Stat before opening: opening a FIFO blocks until a writer comes.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", path, st.Size(), limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew past the %d bytes allowed", path, limit)
	}
	return b, nil
}
