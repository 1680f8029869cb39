package eval

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

// scripted is a test Denoiser: it answers by the last non-blank line of the fixed
// text before the first hole, and counts its calls.
type scripted struct {
	answers map[string]string // last prefix line → fill
	calls   atomic.Int32
}

func (s *scripted) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	s.calls.Add(1)
	var before strings.Builder
	holes := 0
	for _, seg := range req.Segments {
		if seg.Hole {
			holes++
			continue
		}
		if holes == 0 {
			before.WriteString(seg.Text)
		}
	}
	b := strings.TrimRight(before.String(), " \t\n")
	lastLine := b[strings.LastIndexByte(b, '\n')+1:]
	fill := s.answers[strings.TrimSpace(lastLine)]
	time.Sleep(time.Millisecond) // the engine takes time, so tokens/s is finite
	var res engine.Result
	for range max(req.Opts.Candidates, 1) {
		f := engine.Fill{Confidence: 0.9}
		for range holes {
			f.Holes = append(f.Holes, fill)
			f.Tokens = append(f.Tokens, len(strings.Fields(fill)))
		}
		res.Candidates = append(res.Candidates, f)
		res.Tokens += len(strings.Fields(fill)) * holes
	}
	res.Steps = 4
	return res, nil
}

func (s *scripted) Close() error { return nil }

var runTasks = []Task{
	{ID: "go/exact", Lang: "go", Kind: "single-line", Path: "go/a.go",
		Prefix: "package p\n\nfunc f(x int) int {\n\tx++\n\t", Middle: "return x", Suffix: "\n}\n"},
	{ID: "py/wrong", Lang: "python", Kind: "single-line", Path: "python/b.py",
		Prefix: "def g(y):\n    y += 1\n    ", Middle: "return y", Suffix: "\n"},
	{ID: "go/empty", Lang: "go", Kind: "multi-line", Path: "go/c.go",
		Prefix: "package p\n\nfunc h() {\n\tprintln(1)\n\t", Middle: "println(2)\n\tprintln(3)", Suffix: "\n}\n"},
}

func newScripted() *scripted {
	return &scripted{answers: map[string]string{
		"x++":        "return x",
		"y += 1":     "return 2",
		"println(1)": "",
	}}
}

func TestRunScoresThroughThePipeline(t *testing.T) {
	d := newScripted()
	r := NewRunner(d)
	r.Options.Seed = 1
	var progress []int
	r.Progress = func(done, total int) {
		if total != len(runTasks) {
			t.Errorf("progress total %d, want %d", total, len(runTasks))
		}
		progress = append(progress, done)
	}
	results, err := r.Run(context.Background(), runTasks)
	if err != nil {
		t.Fatal(err)
	}
	if d.calls.Load() == 0 {
		t.Fatal("the engine was never called")
	}
	if !reflect.DeepEqual(progress, []int{1, 2, 3}) {
		t.Errorf("progress calls %v, want [1 2 3]", progress)
	}
	for i, res := range results {
		if res.ID != runTasks[i].ID {
			t.Fatalf("result %d is for %s, want %s (task order)", i, res.ID, runTasks[i].ID)
		}
	}
	if got := results[0].Suggestion; got != "return x" {
		t.Errorf("first suggestion %q, want %q", got, "return x")
	}

	rep := Summarize(results)
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"accepted_chars", "by_kind", "by_lang", "comment_only", "edit_similarity", "empty", "exact_match", "latency_ms",
		"multi_line_where_single", "n", "precision", "shown", "suffix_duplication", "syntax_valid", "tokens_per_second"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("metrics JSON keys %v, want %v", keys, want)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if rep.N != 3 {
		t.Errorf("n = %d, want 3", rep.N)
	}
	near("exact_match", rep.ExactMatch, 1.0/3)
	near("empty", rep.Empty, 1.0/3)
	near("edit_similarity", rep.EditSimilarity, (1+(1-1.0/8)+0)/3)
	near("suffix_duplication", rep.SuffixDuplication, 0)
	near("accepted_chars", rep.AcceptedChars, (1+6.0/8+0)/3) // "return" of "return y"
	near("multi_line_where_single", rep.MultiLineWhereSingle, 0)
	if rep.SyntaxValid == nil {
		t.Error("syntax_valid is null, want 1 (both non-empty suggestions parse)")
	} else {
		near("syntax_valid", *rep.SyntaxValid, 1)
	}
	near("by_kind single-line exact_match", rep.ByKind["single-line"].ExactMatch, 0.5)
	near("by_lang python edit_similarity", rep.ByLang["python"].EditSimilarity, 1-1.0/8)
	if rep.ByKind["multi-line"].N != 1 || rep.ByLang["go"].N != 2 {
		t.Errorf("groups: by_kind %v, by_lang %v", rep.ByKind, rep.ByLang)
	}
	if rep.TokensPerSecond <= 0 || rep.Latency.P50 <= 0 || rep.Latency.Max < rep.Latency.P95 || rep.Latency.P95 < rep.Latency.P50 {
		t.Errorf("tokens/s %v, latency %+v: want positive and ordered", rep.TokensPerSecond, rep.Latency)
	}
	if rep.Errors != 0 {
		t.Errorf("errors = %d, want 0", rep.Errors)
	}
}

func TestRunInParallelKeepsTaskOrder(t *testing.T) {
	many := make([]Task, 0, 4*len(runTasks))
	for range 4 {
		many = append(many, runTasks...)
	}
	one := NewRunner(newScripted())
	want, err := one.Run(context.Background(), many)
	if err != nil {
		t.Fatal(err)
	}
	par := NewRunner(newScripted())
	par.Jobs = 3
	got, err := par.Run(context.Background(), many)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Suggestion != want[i].Suggestion || got[i].Exact != want[i].Exact {
			t.Fatalf("task %d with --jobs 3: %s %q, with one job: %s %q", i, got[i].ID, got[i].Suggestion, want[i].ID, want[i].Suggestion)
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results, err := NewRunner(newScripted()).Run(ctx, runTasks)
	if err == nil {
		t.Fatal("Run on a cancelled context returned no error")
	}
	if len(results) == len(runTasks) {
		t.Errorf("Run on a cancelled context ran all %d tasks", len(results))
	}
}

// countOnly is a Denoiser that also counts tokens, to check the meter keeps
// optional interfaces visible to the pipeline.
type countOnly struct{ scripted }

func (*countOnly) CountTokens(s string) int { return len(s) }

func TestMeterKeepsOptionalInterfaces(t *testing.T) {
	if _, ok := metered(&countOnly{}).(engine.TokenCounter); !ok {
		t.Error("metered engine hides TokenCounter")
	}
	if _, ok := metered(&countOnly{}).(engine.Describer); ok {
		t.Error("metered engine claims Describer its engine lacks")
	}
	if _, ok := metered(newScripted()).(engine.TokenCounter); ok {
		t.Error("metered engine claims TokenCounter its engine lacks")
	}
}

// holeSizes is a test Denoiser that records each request's hole sizes.
type holeSizes struct {
	scripted
	maxTok, maxLines []int
}

func (h *holeSizes) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	for _, seg := range req.Segments {
		if seg.Hole {
			h.maxTok, h.maxLines = append(h.maxTok, seg.MaxTok), append(h.maxLines, seg.MaxLines)
		}
	}
	return h.scripted.Infill(ctx, req)
}

// TestOracleLength: --oracle-length sizes each hole to the expected
// answer, one line for a one-line answer and a block for several.
func TestOracleLength(t *testing.T) {
	d := &holeSizes{scripted: *newScripted()}
	r := NewRunner(d)
	r.OracleLength = true
	if _, err := r.Run(context.Background(), []Task{runTasks[0], runTasks[2]}); err != nil {
		t.Fatal(err)
	}
	// "return x": 8 bytes → 3 tokens; "println(2)\n\tprintln(3)": 22 bytes → 7.
	if !reflect.DeepEqual(d.maxTok[:2], []int{3, 7}) || !reflect.DeepEqual(d.maxLines[:2], []int{1, 0}) {
		t.Errorf("holes of %v tokens, %v lines; want [3 7] and [1 0]", d.maxTok, d.maxLines)
	}
}
