package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/dfim/dfim/index"
	"github.com/dfim/dfim/infill"
)

// A Filler fills the holes of one document; *infill.Completer is one.
type Filler interface {
	FillHoles(ctx context.Context, doc infill.Document, holes []infill.Hole, opts infill.Options) ([]infill.Suggestion, error)
}

// QueryFunc returns the byte ranges of the nodes captured as @fill by a
// tree-sitter query of language lang in the file at path, or nothing when
// the file is in another language. infill/syntax provides it; batch does
// not parse.
type QueryFunc func(path, lang, query string, src []byte) ([][2]int, error)

// Config is one batch run.
type Config struct {
	Filler      Filler
	Options     infill.Options
	Marker      string      // "" = DefaultMarker; markers are looked for unless Plan or Query is set
	Plan        []PlanEntry // ranges to regenerate
	Query       string      // tree-sitter query with an @fill capture
	Lang        string      // language of Query
	RunQuery    QueryFunc
	DryRun      bool   // write nothing, print a unified diff
	Diff        bool   // print a unified diff of what was written
	Jobs        int    // files filled at once; 0 = 1
	Check       string // shell command run after writing; on failure every change is restored
	MaxFileSize int64
	Out         io.Writer // diffs and --check output
	Progress    io.Writer // progress bar, or nil
}

// FileResult is what happened to one file.
type FileResult struct {
	Path     string
	Holes    int
	Filled   int
	Changed  bool
	Problems []string // holes not filled and why, or why the file was skipped
}

// Summary is the outcome of a run.
type Summary struct {
	Files        []FileResult
	Skipped      map[string]int // files left out by the walk, by reason
	HolesFound   int
	HolesFilled  int
	FilesChanged int
	CheckFailed  bool
	Restored     int
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
		cfg.Marker = DefaultMarker
	}
	markers, err := NewMarkerSyntax(cfg.Marker)
	if err != nil {
		return nil, err
	}
	if cfg.Query != "" && (cfg.Lang == "" || cfg.RunQuery == nil) {
		return nil, errors.New("batch: --query needs --lang")
	}
	if cfg.Jobs <= 0 {
		cfg.Jobs = 1
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if len(cfg.Plan) > 0 {
		cfg.Plan = append([]PlanEntry(nil), cfg.Plan...) // planPaths rewrites the paths
		if err := planPaths(cfg.Plan, paths); err != nil {
			return nil, err
		}
	}
	sum := &Summary{Skipped: map[string]int{}}
	jobs, err := collect(cfg, paths, sum)
	if err != nil {
		return nil, err
	}

	results := make([]FileResult, len(jobs))
	written := make([]*snapshot, len(jobs))
	newData := make([][]byte, len(jobs))
	var diffs = make([]string, len(jobs))
	var next int
	var mu sync.Mutex // guards next and the progress count
	done := 0
	var wg sync.WaitGroup
	for w := 0; w < cfg.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(jobs) {
					return
				}
				snap, data, diff, res := fillFile(ctx, cfg, markers, jobs[i])
				results[i], diffs[i] = res, diff
				if res.Changed {
					written[i], newData[i] = snap, data
				}
				mu.Lock()
				done++
				progress(cfg.Progress, done, len(jobs), jobs[i].path)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if cfg.Progress != nil && len(jobs) > 0 {
		fmt.Fprint(cfg.Progress, "\r\033[K")
	}
	for i, r := range results {
		sum.Files = append(sum.Files, r)
		sum.HolesFound += r.Holes
		sum.HolesFilled += r.Filled
		if r.Changed {
			sum.FilesChanged++
		}
		if diffs[i] != "" && (cfg.DryRun || cfg.Diff) {
			fmt.Fprint(cfg.Out, diffs[i])
		}
	}
	if cfg.Check != "" && !cfg.DryRun && sum.FilesChanged > 0 {
		cmd := exec.CommandContext(ctx, "sh", "-c", cfg.Check)
		out, err := cmd.CombinedOutput()
		if err != nil {
			sum.CheckFailed = true
			fmt.Fprintf(cfg.Out, "--check %q failed (%v); restoring the %d changed files:\n%s", cfg.Check, err, sum.FilesChanged, out)
			for i, s := range written {
				if s == nil {
					continue
				}
				if err := restore(s, newData[i]); err != nil {
					sum.Files[i].Problems = append(sum.Files[i].Problems, "not restored: "+err.Error())
					continue
				}
				sum.Restored++
			}
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// collect lists the files to fill, in a stable order.
func collect(cfg Config, paths []string, sum *Summary) ([]job, error) {
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
					if rel, err := filepath.Rel(abs, p); err == nil {
						p = filepath.Join(root, rel)
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

// fillFile finds and fills the holes of one file and writes it unless the
// run is dry. It returns the snapshot and the data written, for --check.
func fillFile(ctx context.Context, cfg Config, markers *MarkerSyntax, j job) (*snapshot, []byte, string, FileResult) {
	res := FileResult{Path: j.path}
	snap, err := readSnapshot(j.path, cfg.MaxFileSize)
	if err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("cannot read: %v", err))
		return nil, nil, "", res
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
		ranges, err := cfg.RunQuery(j.path, cfg.Lang, cfg.Query, snap.data)
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("query: %v", err))
			return nil, nil, "", res
		}
		for _, r := range ranges {
			holes = append(holes, infill.Hole{Start: r[0], End: r[1], MaxLines: strings.Count(text[r[0]:r[1]], "\n") + 1})
		}
	default:
		holes = markers.Holes(text)
	}
	holes = dropOverlaps(holes)
	res.Holes = len(holes)
	if len(holes) == 0 {
		return nil, nil, "", res
	}
	if snap.readOnly() && !cfg.DryRun {
		res.Problems = append(res.Problems, fmt.Sprintf("read-only: %d holes left unfilled (make the file writable to fill them)", len(holes)))
		return nil, nil, "", res
	}
	sugs, err := cfg.Filler.FillHoles(ctx, infill.Document{Path: j.path, Text: text}, holes, cfg.Options)
	if err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("filling %d holes failed: %v", len(holes), err))
		return nil, nil, "", res
	}
	// Apply from the end so earlier offsets stay valid.
	out := text
	for i := len(holes) - 1; i >= 0; i-- {
		h := holes[i]
		if i >= len(sugs) || sugs[i].Text == "" {
			line := 1 + strings.Count(text[:h.Start], "\n")
			why := "no syntactically valid fill found"
			if i < len(sugs) && sugs[i].Reason != "" {
				why = sugs[i].Reason
			}
			res.Problems = append(res.Problems, fmt.Sprintf("line %d: hole not filled: %s", line, why))
			continue
		}
		s := sugs[i]
		start, end := h.Start, h.End
		if s.End > s.Start || s.Start != h.Start {
			start, end = s.Start, s.End
		}
		out = out[:start] + s.Text + out[end:]
		res.Filled++
	}
	sort.Strings(res.Problems)
	if out == text {
		return nil, nil, "", res
	}
	diff := udiff.Unified("a/"+filepath.ToSlash(j.path), "b/"+filepath.ToSlash(j.path), text, out)
	if cfg.DryRun {
		return nil, nil, diff, res
	}
	if err := replaceIfUnchanged(snap, []byte(out)); err != nil {
		res.Problems = append(res.Problems, err.Error())
		res.Filled = 0
		return nil, nil, "", res
	}
	res.Changed = true
	return snap, []byte(out), diff, res
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

func progress(w io.Writer, done, total int, path string) {
	if w == nil {
		return
	}
	const width = 30
	n := width * done / max(total, 1)
	fmt.Fprintf(w, "\r\033[K[%s%s] %d/%d %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total, filepath.Base(path))
}

// Report writes a human summary of s.
func (s *Summary) Report(w io.Writer, dryRun bool) {
	verb := "changed"
	if dryRun {
		verb = "would change"
	}
	fmt.Fprintf(w, "dfim batch: %d files, %d holes found, %d filled, %d not filled; %d files %s", len(s.Files), s.HolesFound, s.HolesFilled, s.HolesFound-s.HolesFilled, s.FilesChanged, verb)
	if dryRun {
		n := 0
		for _, f := range s.Files {
			if f.Filled > 0 {
				n++
			}
		}
		fmt.Fprintf(w, " (%d)", n)
	}
	fmt.Fprintf(w, " in %s\n", s.Elapsed.Round(time.Millisecond))
	var reasons []string
	for r := range s.Skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "  skipped %d files: %s\n", s.Skipped[r], r)
	}
	for _, f := range s.Files {
		for _, p := range f.Problems {
			fmt.Fprintf(w, "  %s: %s\n", f.Path, p)
		}
	}
	if s.CheckFailed {
		fmt.Fprintf(w, "  --check failed: restored %d files\n", s.Restored)
	}
}
