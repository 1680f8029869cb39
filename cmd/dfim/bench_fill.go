package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native"
	"github.com/dfim/dfim/engine/native/builtin"
	"github.com/dfim/dfim/engine/native/kernels"
	"github.com/dfim/dfim/eval/lspbench"
	"github.com/dfim/dfim/infill"
)

func init() {
	register(&command{
		name: "bench fill",
		summary: "time whole suggestions of the native engine on a built-in 174-line Go file\n" +
			"A one-line and a block suggestion, each cold (the first request of a fresh engine) and warm\n" +
			"(the same place after typing one character there), with the engine calls (fill and syntax\n" +
			"repairs), denoising steps, the first pass and the later steps in ms, and tokens/s.\n" +
			"--json prints {\"results\": [{\"shape\", \"request\", \"ms\", \"calls\", \"steps\", \"ms_first_pass\", \"ms_per_step\", …}]}",
		usage: "[--model PATH] [--canvas N] [--threads N] [--repeat N] [--llama-bench BIN] [--json]",
		run:   runBenchFill,
	})
}

// A benchFillCase is a place in lspbench.Sample to suggest at: the text
// before the cursor ends with at, what the user had typed there (cut) is
// removed, and a warm request types its first character.
type benchFillCase struct {
	shape string // infill.Options.Shape
	at    string // the text just before the cursor
	cut   string // the text removed after the cursor
}

var benchFillCases = []benchFillCase{
	{shape: "line", at: "\t\tc.used += ", cut: "len(value) - len(e.value)"},
	{shape: "block", at: "func (c *LRU) Delete(key string) bool {\n\t", cut: "c.mu.Lock()\n\tdefer c.mu.Unlock()"},
}

// document returns the sample with the case's text cut, and the cursor;
// typed characters of the cut text are put back before the cursor.
func (c benchFillCase) document(typed int) (string, int, error) {
	i := strings.Index(lspbench.Sample, c.at+c.cut)
	if i < 0 {
		return "", 0, fmt.Errorf("bench fill: the built-in sample has no %q; the case list is out of date", c.at+c.cut)
	}
	pos := i + len(c.at)
	text := lspbench.Sample[:pos] + c.cut[:typed] + lspbench.Sample[pos+len(c.cut):]
	return text, pos + typed, nil
}

// benchFillResult is one suggestion of `dfim bench fill --json`.
type benchFillResult struct {
	Shape   string  `json:"shape"`
	Request string  `json:"request"` // cold or warm
	Ms      float64 `json:"ms"`      // the whole suggestion
	Calls   int     `json:"calls"`   // engine calls: the fill and its repairs
	Steps   int     `json:"steps"`   // denoising steps, every call
	// MsFirstPass is the time to the first step's commit, summed over the
	// calls (each starts with a pass over its canvas); MsPerStep the mean
	// of the later steps.
	MsFirstPass     float64 `json:"ms_first_pass"`
	MsPerStep       float64 `json:"ms_per_step"`
	Tokens          int     `json:"tokens"`
	TokensPerSecond float64 `json:"tokens_per_second"`
	CanvasTokens    int     `json:"canvas_tokens"` // of the first call
	// LlamaCppRatio is Ms over llama.cpp's forward pass (0: not measured).
	LlamaCppRatio float64 `json:"llamacpp_ratio,omitempty"`
	Text          string  `json:"text"`
}

type benchFillReport struct {
	Model   string `json:"model"`
	Threads int    `json:"threads"`
	Canvas  int    `json:"canvas"` // --canvas; 0: the request's budget, -1: the whole file
	Repeat  int    `json:"repeat"` // runs of each case; each result is the fastest
	// LlamaCppMs is llama-bench's forward pass over 256 tokens of the
	// same model (--llama-bench; 0: not measured).
	LlamaCppMs float64           `json:"llamacpp_ms_256,omitempty"`
	Results    []benchFillResult `json:"results"`
}

func runBenchFill(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	model := fs.String("model", "", "GGUF model file (default: the built-in model)")
	canvas := fs.Int("canvas", 0, "most tokens of canvas around the cursor (0: an explicit request's budget, as dfim fill; -1: the whole file)")
	threads := fs.Int("threads", 0, "CPU threads (0: all cores)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	llamaBench := fs.String("llama-bench", "", "a llama.cpp llama-bench binary: time its forward pass over 256 tokens of the same model, and each suggestion as a ratio of it")
	repeat := fs.Int("repeat", 1, "runs of each case, each with a fresh engine; the fastest is shown (a loaded machine's noise only adds)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *threads < 0 || *canvas < -1 || *repeat < 1 {
		return usagef("--threads must not be negative, --canvas must be -1 (the whole file) or more, and --repeat must be at least 1")
	}
	rep := benchFillReport{Canvas: *canvas, Repeat: *repeat}
	if *llamaBench != "" {
		ms, err := llamaForward(*llamaBench, *model, *threads, *repeat)
		if err != nil {
			return err
		}
		rep.LlamaCppMs = ms
	}
	best := map[[2]string]int{} // (shape, request) → index in rep.Results
	for i := range *repeat * len(benchFillCases) {
		c := benchFillCases[i%len(benchFillCases)]
		// A fresh engine per case: its first request is cold.
		d, err := openNative(*model, *threads)
		if err != nil {
			return err
		}
		rep.Model, rep.Threads = d.Describe(), kernels.Threads()
		rec := &callTimer{inner: d}
		comp := infill.New(rec)
		for typed, name := range []string{"cold", "warm"} {
			text, pos, err := c.document(typed)
			if err != nil {
				comp.Close()
				d.Close()
				return err
			}
			rec.reset()
			start := time.Now()
			sugs, err := comp.Complete(context.Background(), infill.Document{Path: lspbench.SampleName, LanguageID: "go", Text: text}, pos,
				infill.Options{Shape: c.shape, ContextTokens: *canvas, Candidates: 1})
			elapsed := time.Since(start)
			if err != nil {
				comp.Close()
				d.Close()
				return fmt.Errorf("bench fill: the %s %s suggestion failed: %w", name, c.shape, err)
			}
			r := rec.result(c.shape, name, elapsed, sugs)
			if j, ok := best[[2]string{c.shape, name}]; !ok {
				best[[2]string{c.shape, name}] = len(rep.Results)
				rep.Results = append(rep.Results, r)
			} else if r.Ms < rep.Results[j].Ms {
				rep.Results[j] = r
			}
		}
		comp.Close()
		d.Close()
	}
	if rep.LlamaCppMs > 0 {
		for i := range rep.Results {
			rep.Results[i].LlamaCppRatio = rep.Results[i].Ms / rep.LlamaCppMs
		}
	}
	return printBenchReport(*asJSON, rep, writeBenchFillTable)
}

func writeBenchFillTable(w io.Writer, rep benchFillReport) {
	canvas := "an explicit request's budget"
	if rep.Canvas < 0 {
		canvas = "whole file"
	}
	if rep.Canvas > 0 {
		canvas = fmt.Sprintf("at most %d tokens", rep.Canvas)
	}
	fmt.Fprintf(w, "model  %s\ncanvas %s; the fastest of %d runs\n\n", rep.Model, canvas, rep.Repeat)
	if rep.LlamaCppMs > 0 {
		fmt.Fprintf(w, "llama.cpp: %.1f ms for a forward pass over 256 tokens (llama-bench -p 256)\n\n", rep.LlamaCppMs)
	}
	fmt.Fprintf(w, "%-6s %-5s %9s %5s %5s %10s %9s %7s %9s %7s %8s  %s\n", "shape", "req", "ms", "calls", "steps", "ms/first", "ms/step", "tokens", "tokens/s", "canvas", "×llama", "text")
	for _, r := range rep.Results {
		ratio := "-"
		if r.LlamaCppRatio > 0 {
			ratio = fmt.Sprintf("%.2f", r.LlamaCppRatio)
		}
		fmt.Fprintf(w, "%-6s %-5s %9.1f %5d %5d %10.1f %9.1f %7d %9.1f %7d %8s  %q\n", r.Shape, r.Request, r.Ms, r.Calls, r.Steps, r.MsFirstPass, r.MsPerStep, r.Tokens, r.TokensPerSecond, r.CanvasTokens, ratio, r.Text)
	}
}

// callTimer is an engine that times the calls it passes on: how long to
// each call's first step (its full pass) and between its later steps.
type callTimer struct {
	inner        engine.Denoiser
	calls, steps int
	first, rest  time.Duration
	restSteps    int
	canvas       int
}

func (t *callTimer) reset() { *t = callTimer{inner: t.inner} }

func (t *callTimer) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	start, last, seen := time.Now(), time.Time{}, -1
	observe := req.Observe
	req.Observe = func(st engine.Step) {
		if st.Candidate == 0 && st.Index != seen {
			now := time.Now()
			if seen < 0 {
				t.first += now.Sub(start)
			} else {
				t.rest += now.Sub(last)
				t.restSteps++
			}
			seen, last = st.Index, now
		}
		if observe != nil {
			observe(st)
		}
	}
	if t.calls == 0 {
		if tc, ok := t.inner.(engine.TokenCounter); ok {
			for _, s := range req.Segments {
				if s.Hole {
					t.canvas += s.MaxTok
				} else {
					t.canvas += tc.CountTokens(s.Text)
				}
			}
		}
	}
	res, err := t.inner.Infill(ctx, req)
	t.calls++
	t.steps += res.Steps
	return res, err
}

func (t *callTimer) Close() error { return nil } // the caller closes inner

// ContextLength passes the engine's on, so that infill sizes canvases as
// it would without the timer.
func (t *callTimer) ContextLength() int {
	if cs, ok := t.inner.(engine.ContextSizer); ok {
		return cs.ContextLength()
	}
	return 0
}

// CountTokens passes the engine's on (infill budgets canvases with it).
func (t *callTimer) CountTokens(text string) int {
	return t.inner.(engine.TokenCounter).CountTokens(text)
}

func (t *callTimer) result(shape, name string, elapsed time.Duration, sugs []infill.Suggestion) benchFillResult {
	r := benchFillResult{Shape: shape, Request: name, Ms: ms(elapsed), Calls: t.calls, Steps: t.steps,
		MsFirstPass: ms(t.first), CanvasTokens: t.canvas}
	if t.restSteps > 0 {
		r.MsPerStep = ms(t.rest) / float64(t.restSteps)
	}
	if len(sugs) > 0 {
		r.Text, r.Tokens = sugs[0].Text, sugs[0].Tokens
	}
	if elapsed > 0 {
		r.TokensPerSecond = float64(r.Tokens) / elapsed.Seconds()
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// llamaForward runs llama-bench (bin) on the model (the built-in one
// written to a temporary file when model is "") for one forward pass over
// 256 tokens, reps times, and returns its mean in ms.
func llamaForward(bin, model string, threads, reps int) (float64, error) {
	if model == "" {
		data, ok := builtin.Model()
		if !ok {
			return 0, native.ErrNoBuiltinModel
		}
		f, err := os.CreateTemp("", "dfim-builtin-*.gguf")
		if err != nil {
			return 0, fmt.Errorf("writing the built-in model for llama-bench: %w", err)
		}
		defer os.Remove(f.Name())
		if _, err := f.Write(data); err != nil {
			f.Close()
			return 0, fmt.Errorf("writing the built-in model for llama-bench: %w", err)
		}
		if err := f.Close(); err != nil {
			return 0, fmt.Errorf("writing the built-in model for llama-bench: %w", err)
		}
		model = f.Name()
	} else if resolved, err := resolveModel(model); err == nil {
		model = resolved
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	args := []string{"-m", model, "-p", "256", "-n", "0", "-t", strconv.Itoa(threads), "-r", strconv.Itoa(max(reps, 2)), "-o", "json"}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	if os.Getenv("OMP_WAIT_POLICY") == "" {
		// llama.cpp's threads spin while they wait for each other: on a
		// machine with other work, that makes it several times slower.
		cmd.Env = append(os.Environ(), "OMP_WAIT_POLICY=passive")
	}
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("running %s %s: %w\n%s", bin, strings.Join(args, " "), err, lastLines(stderr.String(), 10))
	}
	var runs []struct {
		NPrompt int     `json:"n_prompt"`
		AvgNs   float64 `json:"avg_ns"`
	}
	if err := json.Unmarshal(out, &runs); err != nil || len(runs) == 0 || runs[0].AvgNs <= 0 {
		return 0, fmt.Errorf("%s printed no timing of a 256-token pass (want llama-bench's -o json): %q", bin, lastLines(string(out), 10))
	}
	return runs[0].AvgNs / 1e6, nil
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
