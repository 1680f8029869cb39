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
		name:  "batch",
		usage: "[--dry-run] [--diff] [--jobs N] [--check CMD] [--include GLOB] [--exclude GLOB] [--marker M | --plan FILE.jsonl | --query Q --lang L] PATH...",
		summary: "fill every hole marker (<<fill>>, <<fill:3>> for at most 3 lines), plan range or query match in the files\n\n" +
			"Which files: under each PATH, the source files of the languages with a grammar here\n" +
			"(" + strings.Join(syntax.Validated(), ", ") + "),\n" +
			"and in them only the markers in code: a marker inside a comment or a string literal is\n" +
			"left alone (--anywhere fills those too).\n" +
			"--include GLOB fills only the files a glob matches, of any kind (Markdown, text, ...: every\n" +
			"marker in them counts); --exclude GLOB leaves files out, and wins. Globs (repeat the flag or\n" +
			"separate them with commas) match the path from the PATH down: one without a slash matches\n" +
			"the file's name or any folder's (*.go, testdata), one with a slash the path or its leading\n" +
			"folders (cmd/dfim, internal/*/x.go), ** any number of folders (**/gen/*.go). Files a --plan\n" +
			"names are filled as named.\n\n" +
			"--check CMD judges each file's fills after they are written, and the fills it rejects are\n" +
			"taken back (the file gets its old content) and named on stderr; the others stay. With {} in\n" +
			"CMD it runs once per file written, the file's path in place of {} ('gofmt -e {} >/dev/null',\n" +
			"'python3 -m py_compile {}'). Without {} it checks the tree ('go build ./...'): when it fails,\n" +
			"the files are bisected, the fills of a group of files put back and kept while it passes,\n" +
			"down to single files, whose fills are dropped. If it fails with no fills at all (markers\n" +
			"left unfilled often break a build) it cannot judge them and every file is restored: use a\n" +
			"check with {}. A hole left unfilled keeps its marker; the file's other fills are written\n" +
			"and judged. --check needs files written: with --dry-run it is a usage error.",
		common: true,
		run:    runBatch,
	})
}

// globList is a repeatable flag of comma-separated globs.
type globList []string

func (g *globList) String() string { return strings.Join(*g, ",") }

func (g *globList) Set(v string) error {
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			*g = append(*g, x)
		}
	}
	return nil
}

func runBatch(fs *flag.FlagSet, common *commonFlags, args []string) error {
	dryRun := fs.Bool("dry-run", false, "write nothing; print a unified diff of what would change")
	diff := fs.Bool("diff", false, "print a unified diff of what was written (and kept by --check)")
	jobs := fs.Int("jobs", 1, "files filled at once")
	check := fs.String("check", "", "shell command that judges the files written: with {} once per file ('gofmt -e {} >/dev/null'), else once for the tree ('go build ./...'); rejected fills are taken back, see above")
	var include, exclude globList
	fs.Var(&include, "include", "fill only files matching the glob, of any kind (repeatable, or comma-separated); default: source files with a grammar")
	fs.Var(&exclude, "exclude", "leave out files matching the glob (repeatable, or comma-separated)")
	anywhere := fs.Bool("anywhere", false, "fill markers inside comments and string literals too (default: only markers in code)")
	marker := fs.String("marker", infill.DefaultMarker, "hole marker; a marker ending in >> also takes a size hint, <<fill:3>>")
	planFile := fs.String("plan", "", `JSONL plan of ranges to regenerate: {"path","start_line","end_line"} (1-based, inclusive)`)
	query := fs.String("query", "", "tree-sitter query; every node captured as @fill is regenerated")
	lang := fs.String("lang", "", "language of --query: "+strings.Join(syntax.Validated(), ", "))
	maxSize := fs.Int64("max-file-size", 1<<20, "skip files larger than this many bytes")
	cf := addContextFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cf.check(); err != nil {
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
	if err := batch.CheckGlobs("--include", include); err != nil {
		return usagef("%v", err)
	}
	if err := batch.CheckGlobs("--exclude", exclude); err != nil {
		return usagef("%v", err)
	}
	if *dryRun && *check != "" {
		return usagef("--check judges the files written and --dry-run writes none; drop one (--diff shows what a real run wrote)")
	}
	cfg := batch.Config{
		Marker: *marker, DryRun: *dryRun, Diff: *diff, Jobs: *jobs, Check: *check,
		Include: include, Exclude: exclude, Anywhere: *anywhere,
		Query: *query, Lang: *lang, MaxFileSize: *maxSize, Out: os.Stdout, Log: os.Stderr,
		Options: infill.Options{Steps: common.steps, Algorithm: engine.Algorithm(common.algorithm), MaxTokens: settings.MaxTokens, ReadPackage: true},
	}
	if *marker == "" {
		return usagef("--marker must not be empty")
	}
	if _, err := infill.NewMarkerSyntax(*marker); err != nil {
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
	// Cross-file context from the workspace of the first PATH (or plan
	// entry), indexed as it was before the run: fills never see each other.
	first := ""
	if len(paths) > 0 {
		first = paths[0]
	} else if len(cfg.Plan) > 0 {
		first = cfg.Plan[0].Path
	}
	ix, err := cf.open(ctx, first, &cfg.Options, false)
	if err != nil {
		return err
	}
	if ix != nil {
		defer ix.Close()
	}
	sum, err := batch.Run(ctx, cfg, paths)
	if err != nil {
		return usagef("%v", err)
	}
	sum.Report(os.Stderr, *dryRun)
	if !sum.Complete() {
		var why []string
		if n := sum.HolesFound - sum.HolesFilled; n > 0 {
			why = append(why, fmt.Sprintf("%d of %d holes not filled", n, sum.HolesFound))
		}
		if sum.Restored > 0 {
			files := "files"
			if sum.Restored == 1 {
				files = "file"
			}
			why = append(why, fmt.Sprintf("--check took back the fills of %d %s", sum.Restored, files))
		}
		if len(why) == 0 {
			why = append(why, "some files could not be filled (listed above)")
		}
		return exitError{code: exitFailed, msg: strings.Join(why, "; ")}
	}
	return nil
}
