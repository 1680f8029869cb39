package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dfim/dfim/index"
	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/infill/syntax"
)

// QueryFunc returns the byte ranges of the nodes captured as @fill by a
// tree-sitter query of language lang in the file at path, or nothing when
// the file is in another language. infill/syntax provides it; batch does
// not parse.
type QueryFunc func(path, lang, query string, src []byte) ([][2]int, error)

// Config is one batch run.
type Config struct {
	Filler   infill.Filler // *infill.Completer; batch uses FillHoles
	Options  infill.Options
	Marker   string      // "" = infill.DefaultMarker; markers are looked for unless Plan or Query is set
	Plan     []PlanEntry // ranges to regenerate
	Query    string      // tree-sitter query with an @fill capture
	Lang     string      // language of Query
	RunQuery QueryFunc
	DryRun   bool // write nothing, print a unified diff
	Diff     bool // print a unified diff of what was written
	Jobs     int  // files filled at once; 0 = 1
	// Check is a shell command that judges the files written (see
	// check.go): with "{}" in it, it runs once per file, the file's path in
	// place of {}; without, once for the tree, and on failure the files
	// whose fills break it are found and restored. Not with DryRun.
	Check string
	// Include and Exclude are globs (see globSet) choosing the walked files:
	// by default the source files of the languages with a grammar; with
	// Include, only files one of its globs matches, of any kind. Exclude
	// wins. Files a Plan names are filled as named.
	Include, Exclude []string
	// Anywhere fills markers inside comments and string literals too; by
	// default only markers in code are holes.
	Anywhere    bool
	MaxFileSize int64
	Out         io.Writer // diffs
	Log         io.Writer // what --check runs and says; nil = Out
	Progress    io.Writer // a progress line redrawn in place (a terminal), or nil
}

// FileResult is what happened to one file.
type FileResult struct {
	Path    string
	Holes   int
	Filled  int
	Changed bool // written and kept (in a dry run: would be written)
	// Restored: the file was written, then --check rejected its fills and
	// its old content was put back.
	Restored bool
	// MarkersLeft counts the markers left alone because they sit in a
	// comment or a string literal.
	MarkersLeft int
	Problems    []string // holes not filled and why (in line order), or why the file was skipped
}

// Summary is the outcome of a run.
type Summary struct {
	Files        []FileResult
	Skipped      map[string]int // files left out by the walk, by reason
	HolesFound   int
	HolesFilled  int
	FilesChanged int // files written and kept; in a dry run, files that would change
	MarkersLeft  int // markers in comments and strings, not filled
	CheckFailed  bool
	CheckRuns    int // times the --check command ran
	Restored     int // files --check took the fills of back
	Elapsed      time.Duration
}

// Complete reports whether every hole found was filled and nothing failed.
func (s *Summary) Complete() bool {
	if s.CheckFailed || s.HolesFilled < s.HolesFound {
		return false
	}
	for _, f := range s.Files {
		if len(f.Problems) > 0 {
			return false
		}
	}
	return true
}

// job is one file to fill, with the plan entries that name it.
type job struct {
	path string
	plan []PlanEntry
}

// work is one file through the run: found, filled, written, checked.
type work struct {
	job   job
	res   FileResult
	snap  *snapshot
	holes []infill.Hole
	lang  string // the file's language, for Judge
	out   []byte // the filled text, when it differs
	diff  string
}

// Run fills the holes of every file under paths (and of the files Plan
// names, which must lie under paths, or under the current folder when
// paths is empty) and returns what it did. An error is returned only for problems
// with the run itself (bad arguments); problems with single files and
// holes are in the Summary.
func Run(ctx context.Context, cfg Config, paths []string) (*Summary, error) {
	start := time.Now()
	if cfg.Filler == nil {
		return nil, errors.New("batch: no filler")
	}
	if cfg.Marker == "" {
		cfg.Marker = infill.DefaultMarker
	}
	markers, err := infill.NewMarkerSyntax(cfg.Marker)
	if err != nil {
		return nil, err
	}
	if cfg.Query != "" && (cfg.Lang == "" || cfg.RunQuery == nil) {
		return nil, errors.New("batch: --query needs --lang")
	}
	if cfg.DryRun && cfg.Check != "" {
		return nil, errors.New("batch: --check judges the files written and a dry run writes none; drop --dry-run (--diff shows what was written) or --check")
	}
	sel, err := newSelection(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Jobs <= 0 {
		cfg.Jobs = 1
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Log == nil {
		cfg.Log = cfg.Out
	}
	if len(cfg.Plan) > 0 {
		cfg.Plan = append([]PlanEntry(nil), cfg.Plan...) // planPaths rewrites the paths
		if err := planPaths(cfg.Plan, paths); err != nil {
			return nil, err
		}
	}
	// What a killed run left first: a file cut short must get its old
	// content back before its holes are looked for.
	roots := append([]string(nil), paths...)
	for _, e := range cfg.Plan {
		roots = append(roots, e.Path)
	}
	recoverLeftovers(roots, cfg.DryRun, cfg.Log)
	sum := &Summary{Skipped: map[string]int{}}
	jobs, err := collect(cfg, sel, paths, sum)
	if err != nil {
		return nil, err
	}

	// Find every hole first, so progress can count them.
	files := make([]*work, len(jobs))
	parallel(cfg.Jobs, len(jobs), func(i int) { files[i] = findHoles(ctx, cfg, markers, jobs[i]) })
	var todo []*work
	prog := progress{w: cfg.Progress}
	for _, f := range files {
		if len(f.holes) > 0 {
			todo = append(todo, f)
			prog.files++
			prog.holes += len(f.holes)
		}
	}
	prog.draw("")
	var mu sync.Mutex // guards prog
	parallel(cfg.Jobs, len(todo), func(i int) {
		fillFile(ctx, cfg, todo[i])
		mu.Lock()
		prog.add(todo[i])
		mu.Unlock()
	})
	prog.clear()

	if cfg.Check != "" {
		var written []*work
		for _, f := range files {
			if f.res.Changed {
				written = append(written, f)
			}
		}
		checkFills(ctx, cfg, written, files, sum)
	}
	for _, f := range files {
		r := f.res
		sum.Files = append(sum.Files, r)
		sum.HolesFound += r.Holes
		sum.HolesFilled += r.Filled
		sum.MarkersLeft += r.MarkersLeft
		if r.Restored {
			sum.Restored++
		}
		if r.Changed {
			sum.FilesChanged++
			if cfg.DryRun || cfg.Diff {
				fmt.Fprint(cfg.Out, f.diff)
			}
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// parallel calls do(0), …, do(n-1) on up to jobs goroutines.
func parallel(jobs, n int, do func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(jobs, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				do(i)
			}
		}()
	}
	wg.Wait()
}

// collect lists the files to fill, in a stable order.
func collect(cfg Config, sel *selection, paths []string, sum *Summary) ([]job, error) {
	byPath := map[string]*job{}
	var order []string
	// A file reached by two names (a link inside the tree, a hard link) is
	// one job, under the first name: two would race to write it.
	byFile := map[string]*job{}
	var multi []struct {
		info fs.FileInfo
		j    *job
	}
	add := func(p string) *job {
		p = filepath.Clean(p)
		if j, ok := byPath[p]; ok {
			return j
		}
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			if real, err = filepath.Abs(real); err == nil {
				if j, ok := byFile[real]; ok {
					return j
				}
			}
		}
		info, statErr := os.Stat(p)
		if statErr == nil && hardLinks(info) > 1 {
			for _, m := range multi {
				if os.SameFile(m.info, info) {
					return m.j
				}
			}
		}
		j := &job{path: p}
		byPath[p] = j
		if err == nil {
			byFile[real] = j
		}
		if statErr == nil && hardLinks(info) > 1 {
			multi = append(multi, struct {
				info fs.FileInfo
				j    *job
			}{info, j})
		}
		order = append(order, p)
		return j
	}
	for _, e := range cfg.Plan {
		j := add(e.Path)
		j.plan = append(j.plan, e)
	}
	if len(cfg.Plan) == 0 || cfg.Query != "" {
		for _, root := range paths {
			if _, err := os.Stat(root); err != nil {
				return nil, fmt.Errorf("%s: %w", root, err)
			}
			// Walked by its absolute path: index.Walk judges links against
			// the root's real path, and a relative path there made every
			// in-tree link look like it left the tree. Paths are reported
			// under root as given.
			abs, err := filepath.Abs(root)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", root, err)
			}
			err = index.Walk(abs, index.WalkOptions{MaxFileSize: cfg.MaxFileSize},
				func(p string, _ fs.FileInfo) error {
					rel, err := filepath.Rel(abs, p)
					if err == nil {
						p = filepath.Join(root, rel)
					}
					if rel == "." || err != nil { // root is the file
						rel = p
					}
					if ok, why := sel.admit(p, rel); !ok {
						sum.Skipped[why]++
						return nil
					}
					add(p)
					return nil
				},
				func(s index.Skip) { sum.Skipped[string(s.Reason)]++ })
			if err != nil {
				return nil, fmt.Errorf("walking %s: %w", root, err)
			}
		}
	}
	sort.Strings(order)
	jobs := make([]job, 0, len(order))
	for _, p := range order {
		jobs = append(jobs, *byPath[p])
	}
	return jobs, nil
}

// findHoles reads a file and finds its holes: its plan ranges, its query
// matches, or its markers (by default only those in code).
func findHoles(ctx context.Context, cfg Config, markers *infill.MarkerSyntax, j job) *work {
	f := &work{job: j, res: FileResult{Path: j.path}}
	res := &f.res
	snap, err := readSnapshot(j.path, cfg.MaxFileSize)
	if err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("cannot read: %v", err))
		return f
	}
	text := string(snap.data)
	var holes []infill.Hole
	switch {
	case len(j.plan) > 0:
		for _, e := range j.plan {
			h, err := LineRangeHole(text, e.StartLine, e.EndLine)
			if err != nil {
				res.Problems = append(res.Problems, fmt.Sprintf("plan line %d: %v", e.line, err))
				continue
			}
			holes = append(holes, h)
		}
	case cfg.Query != "":
		ranges, err := cfg.RunQuery(j.path, cfg.Lang, cfg.Query, []byte(infill.LoneCRAsLF(text)))
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("query: %v", err))
			return f
		}
		for _, r := range ranges {
			holes = append(holes, infill.Hole{Start: r[0], End: r[1], MaxLines: strings.Count(infill.LoneCRAsLF(text[r[0]:r[1]]), "\n") + 1})
		}
	default:
		holes = markers.Holes(text)
		if !cfg.Anywhere {
			holes, res.MarkersLeft, err = infill.CodeHoles(ctx, syntax.Detect("", j.path), text, holes)
			if err != nil {
				res.Problems = append(res.Problems, fmt.Sprintf("parsing to tell code from comments and strings: %v", err))
				return f
			}
		}
	}
	holes = dropOverlaps(holes)
	res.Holes = len(holes)
	if len(holes) == 0 {
		return f
	}
	if snap.readOnly() && !cfg.DryRun {
		res.Problems = append(res.Problems, fmt.Sprintf("read-only: %d holes left unfilled (make the file writable to fill them)", len(holes)))
		return f
	}
	f.snap, f.holes, f.lang = snap, holes, syntax.Detect("", j.path)
	return f
}

// fillFile fills a file's holes and writes it unless the run is dry. A
// hole not filled keeps its marker (or its old text); the others are
// written.
func fillFile(ctx context.Context, cfg Config, f *work) {
	res, holes, text := &f.res, f.holes, string(f.snap.data)
	sugs, err := cfg.Filler.FillHoles(ctx, infill.Document{Path: f.job.path, Text: text}, holes, cfg.Options)
	if err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("filling %d holes failed: %v", len(holes), err))
		return
	}
	fills, refused := Judge(f.lang, text, holes, sugs)
	// Apply from the end so earlier offsets stay valid.
	out := text
	for i := len(fills) - 1; i >= 0; i-- {
		fl := fills[i]
		out = out[:fl.Start] + fl.Text + out[fl.End:]
		res.Filled++
	}
	var unfilled []holeProblem
	for _, r := range refused {
		unfilled = append(unfilled, holeProblem{line: 1 + strings.Count(text[:holes[r.Hole].Start], "\n"), why: r.Why})
	}
	// In line order, as numbers (line 63 before line 103).
	sort.SliceStable(unfilled, func(a, b int) bool { return unfilled[a].line < unfilled[b].line })
	for _, u := range unfilled {
		res.Problems = append(res.Problems, fmt.Sprintf("line %d: hole not filled: %s", u.line, u.why))
	}
	if out == text {
		return
	}
	f.diff = unifiedDiff("a/"+filepath.ToSlash(f.job.path), "b/"+filepath.ToSlash(f.job.path), text, out)
	if !cfg.DryRun {
		if err := replaceIfUnchanged(f.snap, []byte(out)); err != nil {
			res.Problems = append(res.Problems, err.Error())
			res.Filled = 0
			f.diff = ""
			return
		}
	}
	f.out = []byte(out)
	res.Changed = true
}

type holeProblem struct {
	line int
	why  string
}

// dropOverlaps keeps holes in order and drops any that overlaps an earlier one.
func dropOverlaps(holes []infill.Hole) []infill.Hole {
	sort.SliceStable(holes, func(i, j int) bool { return holes[i].Start < holes[j].Start })
	var out []infill.Hole
	for _, h := range holes {
		if len(out) > 0 && h.Start < out[len(out)-1].End {
			continue
		}
		out = append(out, h)
	}
	return out
}

// progress is the line redrawn on a terminal while holes are filled:
// "dfim batch: filled 3/19 holes in 2/7 files (list.go)".
type progress struct {
	w               io.Writer // nil: none
	holes, files    int       // to fill
	filled, fileNum int       // so far: holes filled, files done
	drawn           bool
}

func (p *progress) add(f *work) {
	p.filled += f.res.Filled
	p.fileNum++
	p.draw(f.job.path)
}

// draw redraws the line after the file at path (none: at the start).
func (p *progress) draw(path string) {
	if p.w == nil || p.files == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r\033[Kdfim batch: filled %d/%d holes in %d/%d files", p.filled, p.holes, p.fileNum, p.files)
	if path != "" {
		fmt.Fprintf(p.w, " (%s)", filepath.Base(path))
	}
	p.drawn = true
}

// clear removes the line, so the summary starts on a clean one.
func (p *progress) clear() {
	if p.w != nil && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// plural is "1 file", "2 files".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Report writes a human summary of s.
func (s *Summary) Report(w io.Writer, dryRun bool) {
	verb := "changed"
	if dryRun {
		verb = "would change"
	}
	fmt.Fprintf(w, "dfim batch: %s, %s found, %d filled, %d not filled; %s %s in %s\n",
		plural(len(s.Files), "file", "files"), plural(s.HolesFound, "hole", "holes"), s.HolesFilled, s.HolesFound-s.HolesFilled,
		plural(s.FilesChanged, "file", "files"), verb, s.Elapsed.Round(time.Millisecond))
	var reasons []string
	for r := range s.Skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "  skipped %s: %s\n", plural(s.Skipped[r], "file", "files"), r)
	}
	if s.MarkersLeft > 0 {
		fmt.Fprintf(w, "  left %s in comments or string literals alone (--anywhere fills them too)\n", plural(s.MarkersLeft, "marker", "markers"))
	}
	for _, f := range s.Files {
		for _, p := range f.Problems {
			fmt.Fprintf(w, "  %s: %s\n", f.Path, p)
		}
	}
	if s.CheckRuns > 0 {
		kept := 0
		var back []string
		for _, f := range s.Files {
			if f.Restored {
				back = append(back, f.Path)
			} else if f.Changed {
				kept++
			}
		}
		fmt.Fprintf(w, "  --check ran %s: kept the fills of %s", plural(s.CheckRuns, "time", "times"), plural(kept, "file", "files"))
		if len(back) > 0 {
			fmt.Fprintf(w, ", restored %s: %s", plural(len(back), "file", "files"), strings.Join(back, ", "))
		}
		fmt.Fprintln(w)
	}
}
