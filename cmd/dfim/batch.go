package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/dfim/dfim/batch"
	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/infill/syntax"
)

func init() {
	register(&command{
		name:    "batch",
		usage:   "[--dry-run] [--diff] [--jobs N] [--check CMD] [--marker M | --plan FILE.jsonl | --query Q --lang L] PATH...",
		summary: "fill every hole marker (<<fill>>, <<fill:3>> for at most 3 lines), plan range or query match in the files",
		common:  true,
		run:     runBatch,
	})
}

func runBatch(fs *flag.FlagSet, common *commonFlags, args []string) error {
	dryRun := fs.Bool("dry-run", false, "write nothing; print a unified diff of what would change")
	diff := fs.Bool("diff", false, "print a unified diff of what was written")
	jobs := fs.Int("jobs", 1, "files filled at once")
	check := fs.String("check", "", "shell command run after writing (e.g. 'go build ./...'); if it fails every changed file is restored")
	marker := fs.String("marker", batch.DefaultMarker, "hole marker; a marker ending in >> also takes a size hint, <<fill:3>>")
	planFile := fs.String("plan", "", `JSONL plan of ranges to regenerate: {"path","start_line","end_line"} (1-based, inclusive)`)
	query := fs.String("query", "", "tree-sitter query; every node captured as @fill is regenerated")
	lang := fs.String("lang", "", "language of --query: "+strings.Join(syntax.Validated(), ", "))
	maxSize := fs.Int64("max-file-size", 1<<20, "skip files larger than this many bytes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	settings, err := common.resolve(fs)
	if err != nil {
		return err
	}
	if *lang != "" && syntax.Lookup(*lang) == nil {
		return usagef("unknown --lang %q; use one of: %s", *lang, strings.Join(syntax.Validated(), ", "))
	}
	paths := fs.Args()
	if len(paths) == 0 && *planFile == "" {
		return usagef("no PATH given")
	}
	if *jobs < 1 {
		return usagef("--jobs must be at least 1")
	}
	if *query != "" && *lang == "" {
		return usagef("--query needs --lang")
	}
	cfg := batch.Config{
		Marker: *marker, DryRun: *dryRun, Diff: *diff, Jobs: *jobs, Check: *check,
		Query: *query, Lang: *lang, MaxFileSize: *maxSize, Out: os.Stdout,
		Options: infill.Options{Steps: common.steps, Algorithm: engine.Algorithm(common.algorithm), MaxTokens: settings.MaxTokens},
	}
	if *marker == "" {
		return usagef("--marker must not be empty")
	}
	if _, err := batch.NewMarkerSyntax(*marker); err != nil {
		return usagef("%v", err)
	}
	if *query != "" {
		run, err := batch.SyntaxQuery(*lang, *query)
		if err != nil {
			return usagef("%v", err)
		}
		cfg.RunQuery = run
	}
	if *planFile != "" {
		// Stat first: opening a FIFO would block, and a device never ends.
		if st, err := os.Stat(*planFile); err != nil {
			return usagef("--plan: %v", err)
		} else if !st.Mode().IsRegular() {
			return usagef("--plan %s is not a regular file", *planFile)
		}
		f, err := os.Open(*planFile)
		if err != nil {
			return usagef("%v", err)
		}
		cfg.Plan, err = batch.ReadPlan(*planFile, f)
		f.Close()
		if err != nil {
			return usagef("%v", err)
		}
	}
	if isTerminal(os.Stderr) {
		cfg.Progress = os.Stderr
	}
	d, err := common.openEngine()
	if err != nil {
		return err
	}
	defer d.Close()
	cfg.Filler = infill.New(d)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := batch.Run(ctx, cfg, paths)
	if err != nil {
		return usagef("%v", err)
	}
	sum.Report(os.Stderr, *dryRun)
	if !sum.Complete() {
		return exitError{code: exitFailed, msg: fmt.Sprintf("%d of %d holes not filled", sum.HolesFound-sum.HolesFilled, sum.HolesFound)}
	}
	return nil
}
