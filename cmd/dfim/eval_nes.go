package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/eval"
	"github.com/dfim/dfim/infill"
)

func init() {
	register(&command{
		name:    "eval nes",
		summary: "run next-edit tasks (made with dfim eval gen --nes) and print metrics JSON, the copy-only baseline beside the model",
		usage:   "--tasks FILE.jsonl [--limit N] [--min-confidence P] [--places N] [--out FILE] [--results FILE]",
		run:     runEvalNES,
		common:  true,
	})
}

// nesReport is what dfim eval nes prints.
type nesReport struct {
	Tasks    int             `json:"tasks"`
	Engine   string          `json:"engine"`
	Model    eval.NESMetrics `json:"model"`
	CopyOnly eval.NESMetrics `json:"copy_only"`
}

func runEvalNES(fs *flag.FlagSet, common *commonFlags, args []string) error {
	tasksFile := fs.String("tasks", "", "next-edit tasks: JSONL from dfim eval gen --nes")
	limit := fs.Int("limit", 0, "run only the first N tasks (0: all)")
	minConf := fs.Float64("min-confidence", infill.DefaultNextEditConfidence, "show only predictions at least this sure")
	places := fs.Int("places", infill.DefaultNextEditPlaces, "candidate places checked per task")
	seed := fs.Uint64("seed", 1, "seed of every prediction")
	out := fs.String("out", "", "also write the metrics JSON to FILE")
	resultsFile := fs.String("results", "", "write each task's predictions (model, then copy-only) as JSON lines to FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *tasksFile == "" {
		return usagef("--tasks FILE is required (make one with dfim eval gen --nes --repo DIR)")
	}
	if _, err := common.resolve(fs); err != nil {
		return err
	}
	tasks, err := loadNESTasks(*tasksFile)
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(tasks) {
		tasks = tasks[:*limit]
	}
	if len(tasks) == 0 {
		return fmt.Errorf("no next-edit task in %s", *tasksFile)
	}
	d, err := common.openEngine()
	if err != nil {
		return err
	}
	defer d.Close()
	c := infill.New(d)
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := infill.NextEditOptions{Options: infill.Options{Steps: common.steps, Algorithm: engine.Algorithm(common.algorithm), Seed: *seed},
		MinConfidence: *minConf, Places: *places}
	rep := nesReport{Tasks: len(tasks), Engine: describeEngine(d)}
	var modelRes, copyRes []eval.NESResult
	rep.Model, modelRes = eval.RunNES(ctx, c, tasks, opts)
	opts.CopyOnly = true
	rep.CopyOnly, copyRes = eval.RunNES(ctx, c, tasks, opts)
	if *resultsFile != "" {
		if err := writeJSONLines(*resultsFile, append(modelRes, copyRes...)); err != nil {
			return err
		}
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Println(string(b))
	if *out != "" {
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing --out: %w", err)
		}
	}
	return ctx.Err()
}

func describeEngine(d engine.Denoiser) string {
	if ds, ok := d.(engine.Describer); ok {
		return ds.Describe()
	}
	return fmt.Sprintf("%T", d)
}

func loadNESTasks(file string) ([]eval.NESTask, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading --tasks: %w", err)
	}
	defer f.Close()
	var tasks []eval.NESTask
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		var t eval.NESTask
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return nil, fmt.Errorf("%s:%d: not a next-edit task (make tasks with dfim eval gen --nes): %v", file, n, err)
		}
		if t.Edit.Start < 0 || t.Edit.Start+len(t.Edit.Old) > len(t.Before) || t.Before[t.Edit.Start:t.Edit.Start+len(t.Edit.Old)] != t.Edit.Old {
			return nil, fmt.Errorf("%s:%d: task %s: its edit does not fit its text", file, n, t.ID)
		}
		tasks = append(tasks, t)
	}
	return tasks, sc.Err()
}

func writeJSONLines[T any](file string, rows []T) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("writing --results: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("writing --results: %w", err)
		}
	}
	return w.Flush()
}

// wantsNESGen reports whether dfim eval gen was asked for next-edit tasks
// (--nes), which take their own flags.
func wantsNESGen(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		return a == "--nes" || a == "-nes" || strings.HasPrefix(a, "--nes=") || strings.HasPrefix(a, "-nes=")
	})
}

// runEvalGenNES is dfim eval gen --nes: next-edit tasks from a
// repository's history.
func runEvalGenNES(fs *flag.FlagSet, args []string) error {
	fs.Bool("nes", true, "make next-edit tasks from the history of --repo")
	var cfg eval.NESGenConfig
	fs.StringVar(&cfg.Repo, "repo", "", "git repository (work tree or bare) whose history gives the tasks")
	fs.StringVar(&cfg.Lang, "lang", "", "language: go, python, or both when empty")
	fs.IntVar(&cfg.N, "n", 200, "most tasks")
	fs.IntVar(&cfg.MaxCommits, "max-commits", 2000, "most commits walked, newest first")
	fs.IntVar(&cfg.PerCommit, "per-commit", 2, "most tasks from one commit")
	out := fs.String("out", "", "write the tasks to FILE instead of stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if cfg.Repo == "" {
		return usagef("--nes needs --repo DIR, a git repository with its history")
	}
	if cfg.Lang != "" && cfg.Lang != "go" && cfg.Lang != "python" {
		return usagef("unknown --lang %q; use go, python or leave it out for both", cfg.Lang)
	}
	if cfg.N <= 0 {
		return usagef("--n must be positive")
	}
	tasks, err := eval.GenerateNES(context.Background(), cfg)
	if err != nil {
		return err
	}
	if err := writeTasks(*out, tasks); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "dfim eval gen --nes: %d tasks from %s\n", len(tasks), cfg.Repo)
	return nil
}
