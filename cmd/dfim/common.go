package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/dfim/dfim/engine"
	_ "github.com/dfim/dfim/engine/native" // registers "native"
	_ "github.com/dfim/dfim/engine/remote" // registers "inception", "openai"
	"github.com/dfim/dfim/lsp"
)

// commonFlags are the flags every model-using command takes (DESIGN.md).
type commonFlags struct {
	engine      string
	model       string
	endpoint    string
	remoteModel string
	steps       int
	algorithm   string
	threads     int
	logLevel    string
	config      string
	timeout     time.Duration
	batch       int // engine.Config.Batch: set by serve from --http-parallel
}

func addCommonFlags(fs *flag.FlagSet) *commonFlags {
	c := &commonFlags{}
	fs.StringVar(&c.engine, "engine", "native", "engine: native, copy (the no-model baseline), inception or openai")
	fs.StringVar(&c.model, "model", "", "GGUF model file, or a name pulled with dfim model pull, for the native engine (default: the built-in model)")
	fs.StringVar(&c.endpoint, "endpoint", "", "base URL of a remote engine")
	fs.StringVar(&c.remoteModel, "remote-model", "", "model name sent to a remote engine")
	fs.IntVar(&c.steps, "steps", 0, "denoising steps (0: engine default)")
	fs.StringVar(&c.algorithm, "algorithm", "", "denoising order: "+strings.Join(algorithms, ", ")+" (default: the engine's)")
	fs.IntVar(&c.threads, "threads", 0, "CPU threads for the native engine (0: all cores)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.config, "config", "", "JSON config file with the same settings as the LSP's initializationOptions")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "per-request timeout for remote engines")
	return c
}

// algorithms are the values --algorithm takes.
var algorithms = []string{string(engine.LowConfidence), string(engine.MaskGITPlus), string(engine.TopKMargin),
	string(engine.Entropy), string(engine.Origin), string(engine.Threshold)}

// logLevels are the values --log-level takes.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

// maxConfigBytes bounds a --config file: settings, not data.
const maxConfigBytes = 1 << 20

// resolve reads --config (the JSON of the LSP's initializationOptions,
// parsed by lsp.Settings.Apply) under the flags given explicitly on the
// command line, which win, then checks every common flag's value. It
// returns the settings in force: the config file's, with the common flags
// written over them. Commands call it right after parsing their flags; a
// missing or invalid file and a value out of range are usage errors.
func (c *commonFlags) resolve(fs *flag.FlagSet) (lsp.Settings, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	s := lsp.DefaultSettings()
	if c.config != "" {
		raw, err := readSmallFile(c.config, maxConfigBytes)
		if err != nil {
			return s, usagef("--config: %v; give a JSON file of settings, e.g. {\"steps\": 8, \"maxTokens\": 64}", err)
		}
		if s, err = s.Apply(raw, engine.Names()); err != nil {
			return s, usagef("--config %s: %v", c.config, err)
		}
		// The file fills in what the command line did not say.
		if !given["engine"] {
			c.engine = s.Engine
		}
		if !given["model"] {
			c.model = s.Model
		}
		if !given["endpoint"] {
			c.endpoint = s.Endpoint
		}
		if !given["remote-model"] {
			c.remoteModel = s.RemoteModel
		}
		if !given["steps"] {
			c.steps = s.Steps
		}
		if !given["log-level"] {
			c.logLevel = s.LogLevel
		}
		if !given["timeout"] && s.TimeoutMs > 0 {
			c.timeout = time.Duration(s.TimeoutMs) * time.Millisecond
		}
	}
	if err := c.check(); err != nil {
		return s, err
	}
	s.Engine, s.Model, s.Steps, s.LogLevel = c.engine, c.model, c.steps, c.logLevel
	s.Endpoint, s.RemoteModel = c.endpoint, c.remoteModel
	if c.timeout > 0 {
		s.TimeoutMs = int(c.timeout.Milliseconds())
	}
	return s, nil
}

// check rejects common flag values no engine could use, naming the valid
// ones.
func (c *commonFlags) check() error {
	if names := engine.Names(); !slices.Contains(names, c.engine) {
		return usagef("unknown --engine %q; use one of: %s", c.engine, strings.Join(names, ", "))
	}
	if c.algorithm != "" && !slices.Contains(algorithms, c.algorithm) {
		return usagef("unknown --algorithm %q; use one of: %s", c.algorithm, strings.Join(algorithms, ", "))
	}
	if _, ok := logLevels[c.logLevel]; !ok {
		return usagef("unknown --log-level %q; use debug, info, warn or error", c.logLevel)
	}
	if c.steps < 0 || c.steps > 1024 {
		return usagef("--steps %d: want a number from 1 to 1024, or 0 for the engine's default", c.steps)
	}
	if c.threads < 0 {
		return usagef("--threads %d: want a number of threads from 1, or 0 for all %d cores", c.threads, runtime.NumCPU())
	}
	if c.timeout < 0 {
		return usagef("--timeout %v: want a positive duration, e.g. 30s", c.timeout)
	}
	if c.model != "" {
		if err := regularFileArg("--model", c.model, "the path of a .gguf model file"); err != nil {
			return err
		}
	}
	return nil
}

// regularFileArg is a usage error when path exists but is not a regular
// file (a folder named where a file was wanted); a missing file is left to
// the command, which says so when it reads it.
func regularFileArg(flagName, path, want string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return usagef("%s %s: %v", flagName, path, err)
	}
	if st.IsDir() {
		return usagef("%s %s is a folder, not a file; give %s", flagName, path, want)
	}
	if !st.Mode().IsRegular() {
		return usagef("%s %s is not a regular file; give %s", flagName, path, want)
	}
	return nil
}

// openEngine opens the engine the flags name.
func (c *commonFlags) openEngine() (engine.Denoiser, error) {
	threads := c.threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if c.algorithm != "" && !slices.Contains(algorithms, c.algorithm) {
		return nil, usagef("unknown --algorithm %q; use one of: %s", c.algorithm, strings.Join(algorithms, ", "))
	}
	// The remote engines log through log/slog (to stderr): their level
	// follows --log-level, so debug shows the route and template chosen.
	if lv, ok := logLevels[c.logLevel]; ok {
		slog.SetLogLoggerLevel(lv)
	}
	model := c.model
	if c.engine == "native" {
		// A pulled name (dfim model pull) becomes its GGUF path here, in
		// the command line: the engine, lsp and infill see paths only.
		// It is looked up in the local registry alone, never downloaded:
		// an LSP client's model setting must not reach the network.
		var err error
		if model, err = resolveModel(c.model); err != nil {
			return nil, err
		}
	}
	d, err := engine.Open(c.engine, engine.Config{Model: model, Threads: threads, Endpoint: c.endpoint,
		RemoteModel: c.remoteModel, Timeout: c.timeout, Batch: c.batch})
	if err != nil {
		return nil, fmt.Errorf("opening engine %q: %w", c.engine, err)
	}
	return d, nil
}
