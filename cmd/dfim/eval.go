package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/eval"
	"github.com/dfim/dfim/infill"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "run fill-in-the-middle tasks through the completion pipeline and print metrics JSON",
		usage:   "--tasks FILE.jsonl [--workspace DIR [--no-context] [--context-bytes N]] [--limit N] [--jobs N] [--repair N] [--oracle-length] [--show-threshold P] [--out FILE] [--results FILE] [--exec]",
		run:     runEval,
		common:  true,
	})
	register(&command{
		name:    "eval gen",
		summary: "make fill-in-the-middle tasks (JSONL) from a source tree",
		usage:   "--root DIR --lang go|python --kind single-line|multi-line|random-span --n N [--seed S] [--exclude DIR]... [--root-paths] [--cross-file], or --nes --repo DIR [--lang go|python] [--n N]",
		run:     runEvalGen,
	})
}

func runEval(fs *flag.FlagSet, common *commonFlags, args []string) error {
	tasksFile := fs.String("tasks", "", "tasks: dfim JSONL or HumanEval-Infilling (.jsonl or .jsonl.gz)")
	limit := fs.Int("limit", 0, "run only the first N tasks (0: all)")
	jobs := fs.Int("jobs", 1, "tasks run at once (results stay in task order)")
	out := fs.String("out", "", "also write the metrics JSON to FILE")
	resultsFile := fs.String("results", "", "write each task's suggestion and scores as JSON lines to FILE")
	execTests := fs.Bool("exec", false, "run HumanEval tests in python3 (no network, timeout) and report pass_at_1")
	execTimeout := fs.Duration("exec-timeout", 10*time.Second, "time limit of one --exec test run")
	seed := fs.Uint64("seed", 1, "seed of every completion: the same seed gives the same numbers")
	maxTokens := fs.Int("max-tokens", 0, "most tokens a suggestion may take (0: the pipeline's default)")
	workspace := fs.String("workspace", "", "index `DIR` and give each task whose path is a file under DIR cross-file context, as the editor would")
	noContext := fs.Bool("no-context", false, "with --workspace: give no cross-file context (the baseline to compare with)")
	contextBytes := fs.Int("context-bytes", infill.DefaultContextBytes, "with --workspace: most bytes of cross-file context per task")
	repair := fs.Int("repair", 2, "syntax repair rounds (0: off), to measure what repair adds")
	block := fs.Int("block", 0, "left-to-right block length in tokens (0: planned from the cursor)")
	experts := fs.String("experts", "", "decoding experts: copy, ident (comma-separated) or none (default: all the engine has)")
	minConf := fs.Float64("min-confidence", infill.DefaultMinConfidence, "show only suggestions whose least sure token is at least this probable, as the editor does (0: show every fill)")
	lineConf := fs.Float64("line-confidence", 0, "confidence the second and later lines of a block need (0: default, -1: keep all)")
	showThreshold := fs.Float64("show-threshold", infill.DefaultShowThreshold, "hide suggestions the learned show/hide filter scores below this, as the editor does (0: off; the default was chosen on dev)")
	oracleLength := fs.Bool("oracle-length", false, "size every hole to the expected answer (its token count, one line or a block): the upper bound of length planning")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	settings, err := common.resolve(fs)
	if err != nil {
		return err
	}
	if !flagGiven(fs, "max-tokens") {
		*maxTokens = settings.MaxTokens
	}
	if !flagGiven(fs, "min-confidence") {
		*minConf = settings.MinConfidence
	}
	if !flagGiven(fs, "show-threshold") {
		*showThreshold = settings.ShowThreshold
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *tasksFile == "" {
		return usagef("--tasks FILE is required (e.g. testdata/eval/dev.jsonl)")
	}
	if err := regularFileArg("--tasks", *tasksFile, "a JSONL file of tasks (make one with dfim eval gen)"); err != nil {
		return err
	}
	if *limit < 0 || *jobs < 0 || *contextBytes < 0 || *repair < 0 {
		return usagef("--limit, --jobs and --context-bytes take numbers ≥ 0")
	}
	if *noContext && *workspace == "" {
		return usagef("--no-context only makes sense with --workspace DIR")
	}
	tasks, bad, err := eval.LoadTasks(*tasksFile)
	for _, b := range bad {
		fmt.Fprintf(os.Stderr, "dfim eval: %v (line skipped)\n", b)
	}
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(tasks) {
		tasks = tasks[:*limit]
	}
	if len(tasks) == 0 {
		return fmt.Errorf("no task could be read from %s", *tasksFile)
	}
	d, err := common.openEngine()
	if err != nil {
		return err
	}
	defer d.Close()

	r := eval.NewRunner(d)
	r.Jobs = *jobs
	r.OracleLength = *oracleLength
	r.Options = infill.Options{Steps: common.steps, Algorithm: engine.Algorithm(common.algorithm), Seed: *seed, MaxTokens: *maxTokens,
		RepairRounds: *repair, Block: *block, Experts: *experts, MinConfidence: *minConf, LineConfidence: *lineConf, ShowThreshold: *showThreshold}
	if err := engine.ValidExperts(*experts); err != nil {
		return usagef("--experts: %v", err)
	}
	if *repair == 0 {
		r.Options.RepairRounds = -1 // infill: 0 means its default, -1 off
	}
	if *execTests {
		r.Exec = &eval.Executor{Timeout: *execTimeout}
	}
	if isTerminal(os.Stderr) {
		r.Progress = eval.ProgressBar(os.Stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *workspace != "" {
		ws, err := eval.OpenWorkspace(ctx, *workspace)
		if err != nil {
			return err
		}
		defer ws.Close()
		inside := 0
		for i := range tasks {
			if ws.File(&tasks[i]) != "" {
				inside++
			}
		}
		st := ws.Stats()
		fmt.Fprintf(os.Stderr, "dfim eval: workspace %s: %d files, %d symbols; %d of %d tasks name a file in it",
			*workspace, st.Files, st.Symbols, inside, len(tasks))
		if *noContext {
			fmt.Fprintln(os.Stderr, " (cross-file context off: --no-context)")
		} else {
			fmt.Fprintf(os.Stderr, " and get up to %d bytes of cross-file context\n", *contextBytes)
			r.Options.Context, r.Options.ContextBytes = ws, *contextBytes
			if *contextBytes == 0 {
				r.Options.ContextBytes = -1 // infill: 0 is its default, negative none
			}
		}
		if inside == 0 {
			fmt.Fprintf(os.Stderr, "dfim eval: warning: no task path is a file under %s; make tasks with `dfim eval gen --root %s --root-paths`\n",
				*workspace, *workspace)
		}
	}
	results, runErr := r.Run(ctx, tasks)
	if *resultsFile != "" {
		if err := writeResults(*resultsFile, results); err != nil {
			return err
		}
	}
	rep := eval.Summarize(results)
	st := r.Stats()
	rep.Pipeline = &st
	fmt.Fprintf(os.Stderr, "pipeline: %d candidates, %d syntax-valid as returned, %d invalid (%d rescued by truncation, %d of %d by repair), %d suffix-trimmed, %d empty\n",
		st.Candidates, st.Valid, st.Invalid, st.Truncated, st.RepairRescued, st.RepairTried, st.SuffixTrimmed, st.Empty)
	metrics, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding metrics: %w", err)
	}
	metrics = append(metrics, '\n')
	if _, err := os.Stdout.Write(metrics); err != nil {
		return fmt.Errorf("writing metrics: %w", err)
	}
	if *out != "" {
		if err := os.WriteFile(*out, metrics, 0o644); err != nil {
			return fmt.Errorf("writing --out: %w", err)
		}
	}
	eval.WriteTable(os.Stderr, rep)
	if r.Exec != nil && !r.Exec.Isolated() && rep.PassAt1 != nil {
		fmt.Fprintln(os.Stderr, "dfim eval: note: tests ran without network isolation (unshare -n unavailable); proxies were disabled")
	}
	for i, res := range results {
		if res.Err != nil {
			fmt.Fprintf(os.Stderr, "dfim eval: %v\n", res.Err)
			if i >= 5 {
				fmt.Fprintf(os.Stderr, "dfim eval: (%d failures in all; see --results for each)\n", rep.Errors)
				break
			}
		}
	}
	if runErr != nil {
		return runErr
	}
	if rep.Errors == rep.N {
		return fmt.Errorf("every completion failed (first: %v); check --engine and --model", results[0].Err)
	}
	return nil
}

// resultLine is one task's outcome in --results.
type resultLine struct {
	ID             string    `json:"id"`
	Lang           string    `json:"lang"`
	Kind           string    `json:"kind"`
	Suggestion     string    `json:"suggestion"`
	Expected       string    `json:"expected"`
	Confidence     float64   `json:"confidence"`
	ShowFeatures   []float64 `json:"show_features,omitempty"`
	CommentOnly    bool      `json:"comment_only,omitempty"`
	AcceptedChars  float64   `json:"accepted_chars"`
	MultiLine      bool      `json:"multi_line_where_single,omitempty"`
	Exact          bool      `json:"exact_match"`
	EditSimilarity float64   `json:"edit_similarity"`
	SyntaxValid    *bool     `json:"syntax_valid"`
	SuffixDup      bool      `json:"suffix_duplication"`
	Empty          bool      `json:"empty"`
	LatencyMS      float64   `json:"latency_ms"`
	Tokens         int       `json:"tokens"`
	ContextBytes   int       `json:"context_bytes,omitempty"`
	Passed         *bool     `json:"passed,omitempty"`
	ExecDetail     string    `json:"exec_detail,omitempty"`
	Error          string    `json:"error,omitempty"`
}

func writeResults(path string, results []eval.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing --results: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range results {
		l := resultLine{ID: r.ID, Lang: r.Lang, Kind: r.Kind, Suggestion: r.Suggestion, Expected: r.Middle, Confidence: r.Confidence, ShowFeatures: r.ShowFeatures, CommentOnly: r.CommentOnly, AcceptedChars: r.AcceptedChars, MultiLine: r.MultiLine, Exact: r.Exact,
			EditSimilarity: r.EditSimilarity, SyntaxValid: r.SyntaxValid, SuffixDup: r.SuffixDup, Empty: r.Empty,
			LatencyMS: float64(r.Latency.Microseconds()) / 1000, Tokens: r.Tokens, ContextBytes: r.ContextBytes,
			Passed: r.Passed, ExecDetail: r.ExecDetail}
		if r.Err != nil {
			l.Error = r.Err.Error()
		}
		if err := enc.Encode(l); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runEvalGen(fs *flag.FlagSet, _ *commonFlags, args []string) error {
	if wantsNESGen(args) { // next-edit tasks: eval_nes.go
		return runEvalGenNES(fs, args)
	}
	var cfg eval.GenConfig
	fs.StringVar(&cfg.Root, "root", "", "source tree to draw tasks from")
	fs.StringVar(&cfg.Lang, "lang", "", "language: go or python")
	fs.StringVar(&cfg.Kind, "kind", eval.KindSingleLine, "kind: single-line, multi-line or random-span")
	fs.IntVar(&cfg.N, "n", 100, "number of tasks")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed: the same seed and tree give the same tasks")
	fs.Var((*stringList)(&cfg.Exclude), "exclude", "folder or file to leave out (relative to --root or absolute); repeatable")
	fs.BoolVar(&cfg.RootPaths, "root-paths", false, "task paths relative to --root (for dfim eval --workspace ROOT) instead of LANG/PATH")
	fs.BoolVar(&cfg.CrossFile, "cross-file", false, "only spans that use a name defined in another file under --root (bare, or qualified by a package of the tree)")
	out := fs.String("out", "", "write the tasks to FILE instead of stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if cfg.Root == "" || cfg.Lang == "" {
		return usagef("--root and --lang are required")
	}
	switch cfg.Lang {
	case "go", "python":
	default:
		return usagef("unknown --lang %q; use go or python", cfg.Lang)
	}
	switch cfg.Kind {
	case eval.KindSingleLine, eval.KindMultiLine, eval.KindRandomSpan:
	default:
		return usagef("--kind must be single-line, multi-line or random-span, not %q", cfg.Kind)
	}
	if cfg.N <= 0 {
		return usagef("--n must be positive")
	}
	tasks, err := eval.Generate(cfg)
	if err != nil {
		return err
	}
	if err := writeTasks(*out, tasks); err != nil {
		return err
	}
	if len(tasks) < cfg.N {
		fmt.Fprintf(os.Stderr, "dfim eval gen: only %d distinct %s tasks under %s (asked for %d)\n", len(tasks), cfg.Kind, cfg.Root, cfg.N)
	}
	return nil
}

// writeTasks writes generated tasks as JSON lines to the file out, or to
// stdout when out is empty; HTML is not escaped, so code reads as written.
func writeTasks[T any](out string, tasks []T) error {
	w := os.Stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return fmt.Errorf("writing --out: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, t := range tasks {
		if err := enc.Encode(t); err != nil {
			return fmt.Errorf("writing tasks: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing tasks: %w", err)
	}
	return nil
}
