package eval

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
)

// A Result is one task's outcome: the first suggestion and how it scored.
type Result struct {
	ID, Lang, Kind string
	Suggestion     string // "" when the pipeline had nothing to show
	// edit is the suggestion as the editor applies it (it may replace
	// closers right of the cursor): what syntax validity is judged on.
	edit           *infill.Suggestion
	Err            error // the completion failed (counted as empty)
	Latency        time.Duration
	ContextBytes   int           // cross-file context the task was given
	Tokens         int           // tokens the engine filled for this task
	EngineTime     time.Duration // wall time spent inside the engine
	Exact          bool
	EditSimilarity float64
	// SyntaxValid is nil when the suggestion is empty or no grammar checked it.
	SyntaxValid *bool
	SuffixDup   bool
	Empty       bool
	// CommentOnly: the suggestion is only a comment where the answer is code.
	CommentOnly bool
	// AcceptedChars is the share of the middle a user accepting word by
	// word would take (AcceptedChars); MultiLine: the suggestion spans
	// several lines where the middle is one (MultiLineWhereSingle).
	AcceptedChars float64
	MultiLine     bool
	Confidence    float64 // the suggestion's, as infill scored it
	// ShowFeatures are the show/hide filter's features of the suggestion
	// (infill.ShowFeatureNames), what showfilter/train.py fits; nil when
	// empty or not scored.
	ShowFeatures []float64
	Middle       string // the expected text
	// Passed is HumanEval's verdict under --exec; nil when not run.
	Passed     *bool
	ExecDetail string // why a run failed (python's last lines, a timeout)
}

// A Runner runs tasks through one infill.Completer, as an editor would.
type Runner struct {
	completer *infill.Completer
	// Options are passed to every completion; Seed makes runs repeatable.
	Options infill.Options
	// Jobs is how many tasks run at once (≤ 1: one). Results stay in task order.
	Jobs int
	// Syntax counts parse errors for syntax_valid; nil leaves it unmeasured.
	Syntax SyntaxChecker
	// Exec runs HumanEval tests for pass@1; nil skips them.
	Exec *Executor
	// OracleLength sizes every hole to the expected answer: its token
	// count, and one line where it is one line (a block where not). The
	// upper bound of length planning, as Open-dCoder and DreamOn report it.
	OracleLength bool
	// Progress, when set, is called after each task with the count done.
	Progress func(done, total int)
	// Cross-file context comes from Options.Context (a Workspace), asked
	// by infill as in the editor, so its time counts in the latency.
}

// NewRunner returns a Runner over d. The engine is wrapped only to measure
// its time and tokens; the pipeline in between is infill.New(d)'s own.
func NewRunner(d engine.Denoiser) *Runner {
	return &Runner{completer: infill.New(metered(d)), Syntax: DefaultSyntax()}
}

// Stats returns what the pipeline did with the engine's candidates so far
// (how many were valid as returned, truncated, repaired, dropped).
func (r *Runner) Stats() infill.Stats { return r.completer.Stats() }

// Run runs every task and returns their results in task order. It stops
// early only when ctx is done, returning the results so far and ctx's error.
func (r *Runner) Run(ctx context.Context, tasks []Task) ([]Result, error) {
	results := make([]Result, len(tasks))
	jobs := min(max(r.Jobs, 1), max(len(tasks), 1))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex // guards done
	done := 0
	for range jobs {
		wg.Go(func() {
			for i := range next {
				results[i] = r.runOne(ctx, &tasks[i])
				if r.Progress != nil {
					mu.Lock()
					done++
					r.Progress(done, len(tasks))
					mu.Unlock()
				}
			}
		})
	}
	n := 0
feed:
	for ; n < len(tasks); n++ {
		select {
		case next <- n:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return results[:n], fmt.Errorf("evaluation stopped after %d of %d tasks: %w", n, len(tasks), err)
	}
	return results, nil
}

func (r *Runner) runOne(ctx context.Context, t *Task) Result {
	res := Result{ID: t.ID, Lang: t.Lang, Kind: t.Kind}
	u := &usage{}
	doc := infill.Document{Path: t.Path, Text: t.Prefix + t.Suffix}
	start := time.Now()
	opts := r.Options
	if r.OracleLength {
		opts.MaxTokens, opts.Shape = oracleLength(r.completer.Engine(), t.Middle)
	}
	sugs, err := r.completer.Complete(context.WithValue(ctx, usageKey{}, u), doc, len(t.Prefix), opts)
	res.Latency = time.Since(start)
	res.Tokens, res.EngineTime = u.tokens, u.engineTime
	if err != nil {
		res.Err = fmt.Errorf("task %s: %w", t.ID, err)
	} else if len(sugs) > 0 {
		res.Suggestion = insertedText(doc.Text, len(t.Prefix), sugs[0])
		res.edit = &sugs[0]
		res.Confidence = sugs[0].Confidence
		if v := sugs[0].Show; v != nil {
			res.ShowFeatures = v.Features
		}
		res.ContextBytes = sugs[0].ContextBytes
	}
	if res.EngineTime == 0 && len(sugs) > 0 {
		// An engine that bypassed the context: fall back to what the suggestion says.
		res.Tokens, res.EngineTime = sugs[0].Tokens, sugs[0].Elapsed
	}
	score(&res, t, r.Syntax)
	if r.Exec != nil && t.Test != nil {
		pass, detail := r.Exec.Check(ctx, t, res.Suggestion)
		res.Passed, res.ExecDetail = &pass, detail
	}
	return res
}

// insertedText is the text a suggestion puts between the task's prefix and
// suffix. A suggestion normally inserts at the cursor; one that replaces a
// range around it (Start < pos or End > pos) usually retypes the text it
// replaces, which is trimmed off so the comparison with the middle stays
// between the same prefix and suffix.
func insertedText(text string, pos int, s infill.Suggestion) string {
	out := s.Text
	if s.Start >= 0 && s.Start < pos {
		out = strings.TrimPrefix(out, text[s.Start:pos])
	}
	if s.End > pos && s.End <= len(text) {
		out = strings.TrimSuffix(out, text[pos:s.End])
	}
	return out
}

// score fills in the metrics of res from its suggestion.
func score(res *Result, t *Task, syntax SyntaxChecker) {
	s := res.Suggestion
	res.Empty = strings.TrimSpace(s) == ""
	res.Exact = ExactMatch(s, t.Middle)
	res.EditSimilarity = EditSimilarity(s, t.Middle)
	res.SuffixDup = !res.Empty && SuffixDuplication(s, t.Middle, t.Suffix)
	res.Middle = t.Middle
	res.CommentOnly = !res.Empty && infill.CommentOnly(t.Lang, s) && !infill.CommentOnly(t.Lang, t.Middle)
	res.AcceptedChars = AcceptedChars(s, t.Middle)
	res.MultiLine = !res.Empty && MultiLineWhereSingle(s, t.Middle)
	if !res.Empty && syntax != nil {
		var ok, checked bool
		if e := res.edit; e != nil {
			ok, checked = syntax(t.Lang, t.Path, t.Prefix+t.Suffix, e.Start, e.End, e.Text)
		} else {
			ok, checked = SyntaxValid(syntax, t, s)
		}
		if checked {
			res.SyntaxValid = &ok
		}
	}
}

// oracleLength is the hole size --oracle-length gives a task: the middle's
// token count (as the engine counts, else about 3.5 bytes a token) and
// its shape.
func oracleLength(d engine.Denoiser, middle string) (tokens int, shape string) {
	middle = strings.TrimSpace(middle)
	tokens = int(float64(len(middle))/3.5) + 1
	if tc, ok := d.(engine.TokenCounter); ok {
		tokens = tc.CountTokens(middle)
	}
	shape = "line"
	if strings.Contains(middle, "\n") {
		shape = "block"
	}
	return max(tokens, 1), shape
}
