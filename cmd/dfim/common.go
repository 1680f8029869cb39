package main

import (
	"flag"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/dfim/dfim/engine"
	_ "github.com/dfim/dfim/engine/native" // registers "native"
	_ "github.com/dfim/dfim/engine/remote" // registers "inception", "openai"
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
}

func addCommonFlags(fs *flag.FlagSet) *commonFlags {
	c := &commonFlags{}
	fs.StringVar(&c.engine, "engine", "native", "engine: native, copy (the no-model baseline), inception or openai")
	fs.StringVar(&c.model, "model", "", "GGUF model file for the native engine (default: the built-in model)")
	fs.StringVar(&c.endpoint, "endpoint", "", "base URL of a remote engine")
	fs.StringVar(&c.remoteModel, "remote-model", "", "model name sent to a remote engine")
	fs.IntVar(&c.steps, "steps", 0, "denoising steps (0: engine default)")
	fs.StringVar(&c.algorithm, "algorithm", "", "denoising order: low-confidence, maskgit_plus, topk_margin, entropy, origin, threshold")
	fs.IntVar(&c.threads, "threads", 0, "CPU threads for the native engine (0: all cores)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.config, "config", "", "JSON config file with the same settings as the LSP's initializationOptions")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "per-request timeout for remote engines")
	return c
}

// openEngine opens the engine the flags name.
func (c *commonFlags) openEngine() (engine.Denoiser, error) {
	threads := c.threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	switch c.algorithm {
	case "", string(engine.LowConfidence), string(engine.MaskGITPlus), string(engine.TopKMargin),
		string(engine.Entropy), string(engine.Origin), string(engine.Threshold):
	default:
		return nil, usagef("unknown --algorithm %q", c.algorithm)
	}
	// The remote engines log through log/slog (to stderr): their level
	// follows --log-level, so debug shows the route and template chosen.
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	if lv, ok := levels[c.logLevel]; ok {
		slog.SetLogLoggerLevel(lv)
	}
	d, err := engine.Open(c.engine, engine.Config{Model: c.model, Threads: threads, Endpoint: c.endpoint,
		RemoteModel: c.remoteModel, Timeout: c.timeout})
	if err != nil {
		return nil, fmt.Errorf("opening engine %q: %w", c.engine, err)
	}
	return d, nil
}
