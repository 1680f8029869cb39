package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dfim/dfim/engine/native"
	"github.com/dfim/dfim/engine/native/kernels"
	"github.com/dfim/dfim/eval"
	"github.com/dfim/dfim/eval/lspbench"
)

func init() {
	register(&command{
		name: "bench lsp",
		summary: "type a file into `dfim serve` with human pauses and report keystroke-to-suggestion latency\n" +
			"Also suggestions shown, accepted if typed and accepted characters per 100 keystrokes. With\n" +
			"--nes-tasks, a next-edit pass follows: those edits (from dfim eval gen --nes) replayed one by one,\n" +
			"each followed by textDocument/copilotInlineEdit, whose first edit is scored as dfim eval nes does.\n" +
			"Arguments after -- go to `dfim serve` (e.g. -- --model FILE.gguf).",
		usage: "[--file F] [--seed S] [--chars N] [--pace X] [--quiet N] [--nes-tasks FILE.jsonl [--nes-wait D]] [-- SERVE FLAGS]",
		run:   runBenchLSP,
	})
	register(&command{
		name: "bench model",
		summary: "time the native engine's denoising steps, in ms, with GFLOP/s (like llama-bench)\n" +
			"Each canvas size gets a full forward pass and a cached step over a 16-slot hole, with the\n" +
			"share of the measured FMA peak; --json prints {\"results\": [{\"canvas\", \"ms_forward\", \"ms_cached_step\", \"gflops\"}, …]}",
		usage: "[--model PATH] [--canvas 128,256] [--threads N] [--json]",
		run:   runBenchModel,
	})
}

// benchModelResult is one canvas size of `dfim bench model --json`.
type benchModelResult struct {
	Canvas          int     `json:"canvas"`
	MsForward       float64 `json:"ms_forward"`
	MsCachedStep    float64 `json:"ms_cached_step"`
	GFLOPS          float64 `json:"gflops"`
	GFLOPSCached    float64 `json:"gflops_cached_step"`
	TokensPerSecond float64 `json:"tokens_per_second"` // canvas tokens per second of full forward passes
	PeakShare       float64 `json:"peak_share"`        // gflops / peak_gflops
}

type benchModelReport struct {
	Model      string             `json:"model"`
	Threads    int                `json:"threads"`
	Kernels    string             `json:"kernels"`
	PeakGFLOPS float64            `json:"peak_gflops"`
	Results    []benchModelResult `json:"results"`
}

func runBenchModel(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	model := fs.String("model", "", "GGUF model file (default: the built-in model)")
	canvases := fs.String("canvas", "128,256", "comma-separated canvas sizes in tokens")
	threads := fs.Int("threads", 0, "CPU threads (0: all cores)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	minTime := fs.Duration("min-time", time.Second, "how long each measurement repeats (at least 3 passes)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *threads < 0 {
		return usagef("--threads must not be negative, got %d", *threads)
	}
	if *minTime < 0 {
		return usagef("--min-time must not be negative")
	}
	var sizes []int
	for _, f := range strings.Split(*canvases, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return usagef("--canvas: %q is not a canvas size; want comma-separated token counts such as 128,256", f)
		}
		sizes = append(sizes, n)
	}
	d, err := openNative(*model, *threads)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, n := range sizes {
		if n > d.ContextLength() {
			return usagef("--canvas %d is more than the model's context of %d tokens", n, d.ContextLength())
		}
		if n < native.BenchSlots+2 {
			return usagef("--canvas %d is too small for the %d-slot hole; give at least %d", n, native.BenchSlots, native.BenchSlots+2)
		}
	}
	rep := benchModelReport{Model: d.Describe(), Threads: kernels.Threads(), Kernels: kernels.Features(), PeakGFLOPS: native.PeakGFLOPS()}
	for _, n := range sizes {
		b, err := d.BenchStep(n, *minTime)
		if err != nil {
			return err
		}
		fwd, cached := b.Forward.Seconds(), b.CachedStep.Seconds()
		r := benchModelResult{Canvas: n, MsForward: fwd * 1e3, MsCachedStep: cached * 1e3,
			GFLOPS: b.ForwardFlops / fwd / 1e9, GFLOPSCached: b.CachedFlops / cached / 1e9,
			TokensPerSecond: float64(n) / fwd}
		if rep.PeakGFLOPS > 0 {
			r.PeakShare = r.GFLOPS / rep.PeakGFLOPS
		}
		rep.Results = append(rep.Results, r)
	}
	return printBenchReport(*asJSON, rep, writeBenchModelTable)
}

// printBenchReport prints a bench report to stdout: indented JSON with
// --json, else the command's table.
func printBenchReport[R any](asJSON bool, rep R, table func(io.Writer, R)) error {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	table(os.Stdout, rep)
	return nil
}

func writeBenchModelTable(w io.Writer, rep benchModelReport) {
	fmt.Fprintf(w, "model   %s\nkernels %s; measured FMA peak %.0f GFLOP/s on %d threads\n\n", rep.Model, rep.Kernels, rep.PeakGFLOPS, rep.Threads)
	fmt.Fprintf(w, "%7s %12s %10s %9s %7s %16s %9s\n", "canvas", "ms/forward", "tokens/s", "GFLOP/s", "peak", "ms/cached step", "GFLOP/s")
	for _, r := range rep.Results {
		fmt.Fprintf(w, "%7d %12.2f %10.0f %9.1f %6.0f%% %16.2f %9.1f\n", r.Canvas, r.MsForward, r.TokensPerSecond, r.GFLOPS, 100*r.PeakShare, r.MsCachedStep, r.GFLOPSCached)
	}
}

func runBenchLSP(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	file := fs.String("file", "", "file to type (default: a Go file built into dfim, unseen by its model)")
	seed := fs.Uint64("seed", 1, "seed of where typing starts and of the pauses")
	chars := fs.Int("chars", 400, "characters to type (0: the whole file)")
	pace := fs.Float64("pace", 1, "multiplies every pause: 1 types like a person (30–200 ms a key), 0.1 is a fast CI run")
	finalWait := fs.Duration("final-wait", 5*time.Second, "how long to wait for the answer to the last keystroke, and to each quiet request")
	quiet := fs.Int("quiet", 5, "requests sent after the typing, one at a time and each awaited; any that fails makes the exit status 1")
	nesTasks := fs.String("nes-tasks", "", "after the typing, replay these next-edit tasks (JSONL from dfim eval gen --nes) in a second server, nextEdit on")
	nesWait := fs.Duration("nes-wait", 30*time.Second, "how long to wait for each next-edit answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *chars < 0 || *pace < 0 || *quiet < 0 || *nesWait < 0 {
		return usagef("--chars, --pace, --quiet and --nes-wait must not be negative")
	}
	var tasks []eval.NESTask
	if *nesTasks != "" {
		if err := regularFileArg("--nes-tasks", *nesTasks, "a JSONL file of next-edit tasks (dfim eval gen --nes)"); err != nil {
			return err
		}
		if _, err := os.Stat(*nesTasks); err != nil {
			return usagef("--nes-tasks %s: %v; make one with dfim eval gen --nes --repo DIR --out FILE", *nesTasks, err)
		}
		var err error
		if tasks, err = loadNESTasks(*nesTasks); err != nil {
			return fmt.Errorf("--nes-tasks: %w", err)
		}
		if len(tasks) == 0 {
			return usagef("--nes-tasks %s has no task; make some with dfim eval gen --nes --repo DIR", *nesTasks)
		}
	}
	serveArgs := append([]string{"serve"}, fs.Args()...)

	path, text := *file, lspbench.Sample
	if path == "" {
		// The built-in sample goes in a folder of its own: the server's workspace.
		dir, err := os.MkdirTemp("", "dfim-bench-lsp-")
		if err != nil {
			return fmt.Errorf("making a workspace for the sample file: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, lspbench.SampleName)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return fmt.Errorf("writing the sample file: %w", err)
		}
	} else {
		if err := regularFileArg("--file", path, "a source file to type"); err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading --file: %w", err)
		}
		text = string(data)
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the dfim binary to run `dfim serve`: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	srv, err := lspbench.StartServer(context.WithoutCancel(ctx), exe, serveArgs...)
	if err != nil {
		return err
	}
	pacing := lspbench.HumanPacing()
	pacing.Scale = *pace
	cfg := lspbench.Config{Path: path, Text: text, Chars: *chars, Seed: *seed, Pacing: pacing, FinalWait: *finalWait, Quiet: *quiet}
	if isTerminal(os.Stderr) {
		cfg.Progress = eval.ProgressBar(os.Stderr)
	}
	rep, runErr := lspbench.Run(ctx, srv.Client, cfg)
	closeErr := srv.Close(context.WithoutCancel(ctx))
	if runErr != nil {
		if tail := srv.Stderr(); tail != "" {
			return fmt.Errorf("%w\nthe server's last words on stderr:\n%s", runErr, tail)
		}
		return runErr
	}
	if path != *file {
		rep.File = lspbench.SampleName + " (built in)"
	}
	if runErr == nil && len(tasks) > 0 {
		nes, err := benchNextEdits(ctx, exe, serveArgs, tasks, *nesWait)
		if err != nil {
			return err
		}
		rep.NextEdit = &nes
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	writeBenchTable(os.Stderr, rep)
	if closeErr != nil {
		fmt.Fprintf(os.Stderr, "dfim bench lsp: %v\n", closeErr)
	}
	if rep.Answered == 0 && rep.Errors > 0 {
		return fmt.Errorf("every inline completion failed (first: %s)", rep.FirstError)
	}
	// Once typing stops, every request must work: a failure here is the
	// server broken by what came before, not a keystroke overtaking it.
	if rep.QuietFailed > 0 {
		return fmt.Errorf("%d of %d quiet requests after the typing failed (first error: %s)", rep.QuietFailed, rep.QuietSent, rep.FirstError)
	}
	if n := rep.NextEdit; n != nil && n.Errors == n.Tasks {
		return fmt.Errorf("every next-edit request failed (first: %s)", n.FirstError)
	}
	return nil
}

// benchNextEdits is the next-edit pass: tasks replayed into a server of
// their own (started with serveArgs), whose workspace is a temporary
// folder holding each task's file.
func benchNextEdits(ctx context.Context, exe string, serveArgs []string, tasks []eval.NESTask, wait time.Duration) (lspbench.NESReport, error) {
	dir, err := os.MkdirTemp("", "dfim-bench-nes-")
	if err != nil {
		return lspbench.NESReport{}, fmt.Errorf("making a workspace for the next-edit tasks: %w", err)
	}
	defer os.RemoveAll(dir)
	srv, err := lspbench.StartServer(context.WithoutCancel(ctx), exe, serveArgs...)
	if err != nil {
		return lspbench.NESReport{}, err
	}
	cfg := lspbench.NESConfig{Dir: dir, Tasks: tasks, Wait: wait}
	if isTerminal(os.Stderr) {
		cfg.Progress = eval.ProgressBar(os.Stderr)
	}
	rep, runErr := lspbench.RunNES(ctx, srv.Client, cfg)
	closeErr := srv.Close(context.WithoutCancel(ctx))
	if runErr != nil {
		if tail := srv.Stderr(); tail != "" {
			return rep, fmt.Errorf("next-edit pass: %w\nthe server's last words on stderr:\n%s", runErr, tail)
		}
		return rep, fmt.Errorf("next-edit pass: %w", runErr)
	}
	if closeErr != nil {
		fmt.Fprintf(os.Stderr, "dfim bench lsp: next-edit pass: %v\n", closeErr)
	}
	return rep, nil
}

// writeBenchTable is lspbench.WriteTable with "n/a" for a latency row that
// has no samples: a table saying 0.0 ms when no suggestion was shown reads
// as an instant one.
func writeBenchTable(w io.Writer, rep lspbench.Report) {
	var buf bytes.Buffer
	lspbench.WriteTable(&buf, rep)
	empty := map[string]bool{
		"keystroke to answer":           rep.Latency == eval.Latency{},
		"keystroke to shown suggestion": rep.SuggestionsShown == 0 || rep.SuggestionLatency == eval.Latency{},
	}
	if n := rep.NextEdit; n != nil {
		empty["edit to answer"] = n.Latency == eval.Latency{}
		empty["edit to shown next edit"] = n.Shown == 0 || n.ShownLatency == eval.Latency{}
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, l := range lines {
		for label, none := range empty {
			if none && strings.HasPrefix(l, label+" ") {
				lines[i] = fmt.Sprintf("%-34s %8s %8s %8s\n", label, "n/a", "n/a", "n/a")
			}
		}
	}
	io.WriteString(w, strings.Join(lines, ""))
}
