package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/lsp"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "run the language server: LSP over stdio, or TCP with --listen",
		usage:   "[--listen ADDR] [--log-file FILE]",
		common:  true,
		run:     runServe,
	})
}

func runServe(fs *flag.FlagSet, common *commonFlags, args []string) error {
	listen := fs.String("listen", "", "serve LSP over TCP at `ADDR` (host:port) instead of stdio")
	logFile := fs.String("log-file", "", "append logs to `FILE` instead of stderr")
	// Many clients' configurations add --stdio (vscode-languageclient does); it is the default anyway.
	stdioFlag := fs.Bool("stdio", false, "serve LSP over stdio (the default; accepted for clients that pass it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *stdioFlag && *listen != "" {
		return usagef("--stdio and --listen exclude each other")
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

	settings := lsp.DefaultSettings()
	settings.Engine, settings.Model, settings.Steps, settings.LogLevel = common.engine, common.model, common.steps, common.logLevel
	settings.Endpoint, settings.RemoteModel = common.endpoint, common.remoteModel
	if common.timeout > 0 {
		settings.TimeoutMs = int(common.timeout.Milliseconds())
	}
	if common.config != "" {
		raw, err := os.ReadFile(common.config)
		if err != nil {
			return fmt.Errorf("reading --config: %w", err)
		}
		if settings, err = settings.Apply(raw, engine.Names()); err != nil {
			return usagef("--config %s: %v", common.config, err)
		}
	}

	loader := &engineLoader{flags: *common, log: log}
	defer loader.close()
	// Start opening the engine now, so the model loads while the client
	// starts; the server's own load joins this one.
	go loader.load(context.Background(), settings)

	opts := lsp.Options{Load: loader.load, Settings: settings, Engines: engine.Names(), Logger: log,
		Level: &level, Version: version}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *listen != "" {
		return serveTCP(ctx, *listen, opts, log)
	}
	// Only LSP goes to stdout: anything else that prints lands in stderr.
	out := os.Stdout
	os.Stdout = os.Stderr
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

// serveTCP serves each connection to addr with its own session, sharing
// loaded engines, until ctx ends.
func serveTCP(ctx context.Context, addr string, opts lsp.Options, log *zap.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (is the port in use?)", addr, err)
	}
	log.Info("listening", zap.String("addr", ln.Addr().String()))
	go func() { <-ctx.Done(); ln.Close() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accepting on %s: %w", addr, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			err := lsp.NewServer(opts).Serve(ctx, conn)
			log.Info("session ended", zap.String("client", conn.RemoteAddr().String()), zap.Error(err))
		}()
	}
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

func (l *engineLoader) load(ctx context.Context, s lsp.Settings) (lsp.Completer, error) {
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
