package eval

import (
	"fmt"
	"github.com/dfim/dfim/infill"
	"io"
	"sort"
	"strings"
)

// Metrics are one group's scores, as DESIGN.md's metrics JSON has them:
// shares in [0,1], latencies in milliseconds.
type Metrics struct {
	N              int     `json:"n"`
	ExactMatch     float64 `json:"exact_match"`
	EditSimilarity float64 `json:"edit_similarity"`
	// SyntaxValid is the share of non-empty suggestions that add no parse
	// error; null when none was checked (all empty, or no grammar).
	SyntaxValid       *float64 `json:"syntax_valid"`
	SuffixDuplication float64  `json:"suffix_duplication"`
	Empty             float64  `json:"empty"`
	// Shown is the share of tasks with a suggestion; Precision the share
	// of those that match exactly; CommentOnly the share of those that are
	// only a comment where the answer is code.
	Shown       float64 `json:"shown"`
	Precision   float64 `json:"precision"`
	CommentOnly float64 `json:"comment_only"`
	// AcceptedChars is the mean share of the expected text a user
	// accepting word by word would keep (0 for a task with nothing
	// shown); MultiLineWhereSingle the share of what is shown where one
	// line was due (the middle is one line) that spans several lines.
	AcceptedChars        float64 `json:"accepted_chars"`
	MultiLineWhereSingle float64 `json:"multi_line_where_single"`
	Latency              Latency `json:"latency_ms"`
	TokensPerSecond      float64 `json:"tokens_per_second"`
	// PassAt1 is HumanEval's share of passed tests, only under --exec.
	PassAt1 *float64 `json:"pass_at_1,omitempty"`
	// Errors counts completions that failed (they also count as empty).
	Errors int `json:"errors,omitempty"`
}

// Latency is the spread of keystroke-free completion latencies, in ms.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

// A Report is the metrics JSON of `dfim eval`: overall, by kind, by language.
type Report struct {
	Metrics
	ByKind map[string]Metrics `json:"by_kind"`
	ByLang map[string]Metrics `json:"by_lang"`
	// Pipeline counts what infill did with the candidates (syntax-valid as
	// returned, rescued by truncation or repair, suffix trimmed, dropped).
	Pipeline *infill.Stats `json:"pipeline,omitempty"`
}

// Summarize scores results overall and by kind and language.
func Summarize(results []Result) Report {
	rep := Report{Metrics: summarize(results), ByKind: map[string]Metrics{}, ByLang: map[string]Metrics{}}
	byKind, byLang := map[string][]Result{}, map[string][]Result{}
	for _, r := range results {
		byKind[r.Kind] = append(byKind[r.Kind], r)
		byLang[r.Lang] = append(byLang[r.Lang], r)
	}
	for k, rs := range byKind {
		rep.ByKind[k] = summarize(rs)
	}
	for l, rs := range byLang {
		rep.ByLang[l] = summarize(rs)
	}
	return rep
}

func summarize(results []Result) Metrics {
	m := Metrics{N: len(results)}
	if m.N == 0 {
		return m
	}
	var exact, empty, dup, checked, valid, ran, passed, tokens, shownExact, comments int
	var sim, engineSec, accepted float64
	var singleShown, multiWhereSingle int
	lat := make([]float64, 0, len(results))
	for _, r := range results {
		sim += r.EditSimilarity
		accepted += r.AcceptedChars
		if !r.Empty && !strings.Contains(strings.TrimSpace(r.Middle), "\n") {
			singleShown++
			multiWhereSingle += b2i(r.MultiLine)
		}
		exact += b2i(r.Exact)
		empty += b2i(r.Empty)
		dup += b2i(r.SuffixDup)
		comments += b2i(r.CommentOnly)
		shownExact += b2i(r.Exact && !r.Empty)
		if r.SyntaxValid != nil {
			checked++
			valid += b2i(*r.SyntaxValid)
		}
		if r.Passed != nil {
			ran++
			passed += b2i(*r.Passed)
		}
		if r.Err != nil {
			m.Errors++
		}
		tokens += r.Tokens
		engineSec += r.EngineTime.Seconds()
		lat = append(lat, float64(r.Latency.Microseconds())/1000)
	}
	n := float64(m.N)
	m.ExactMatch = float64(exact) / n
	m.EditSimilarity = sim / n
	m.AcceptedChars = accepted / n
	if singleShown > 0 {
		m.MultiLineWhereSingle = float64(multiWhereSingle) / float64(singleShown)
	}
	m.Empty = float64(empty) / n
	m.SuffixDuplication = float64(dup) / n
	if shown := m.N - empty; shown > 0 {
		m.Shown = float64(shown) / n
		m.Precision = float64(shownExact) / float64(shown)
		m.CommentOnly = float64(comments) / float64(shown)
	}
	if checked > 0 {
		v := float64(valid) / float64(checked)
		m.SyntaxValid = &v
	}
	if ran > 0 {
		p := float64(passed) / float64(ran)
		m.PassAt1 = &p
	}
	if engineSec > 0 {
		m.TokensPerSecond = float64(tokens) / engineSec
	}
	m.Latency = Latency{P50: Percentile(lat, 50), P95: Percentile(lat, 95), Max: Percentile(lat, 100)}
	return m
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// WriteTable writes rep as a table for people: one row overall, then one
// per kind and per language.
func WriteTable(w io.Writer, rep Report) {
	withPass := rep.PassAt1 != nil
	head := fmt.Sprintf("%-16s %5s %6s %6s %6s %6s %6s %6s %6s %6s %8s %8s %8s %9s", "group", "n", "exact", "editsim", "syntax", "dupsuf", "empty",
		"prec", "accch", "ml1", "p50 ms", "p95 ms", "max ms", "tok/s")
	if withPass {
		head += fmt.Sprintf(" %6s", "pass@1")
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, strings.Repeat("-", len(head)))
	row := func(name string, m Metrics) {
		line := fmt.Sprintf("%-16s %5d %6.3f %7.3f %6s %6.3f %6.3f %6.3f %6.3f %6.3f %8.1f %8.1f %8.1f %9.1f", name, m.N, m.ExactMatch, m.EditSimilarity,
			optShare(m.SyntaxValid), m.SuffixDuplication, m.Empty, m.Precision, m.AcceptedChars, m.MultiLineWhereSingle,
			m.Latency.P50, m.Latency.P95, m.Latency.Max, m.TokensPerSecond)
		if withPass {
			line += fmt.Sprintf(" %6s", optShare(m.PassAt1))
		}
		fmt.Fprintln(w, line)
	}
	row("all", rep.Metrics)
	for _, k := range sortedKeys(rep.ByKind) {
		row("kind "+k, rep.ByKind[k])
	}
	for _, l := range sortedKeys(rep.ByLang) {
		row("lang "+l, rep.ByLang[l])
	}
	if rep.Errors > 0 {
		fmt.Fprintf(w, "%d completions failed (counted as empty)\n", rep.Errors)
	}
}

func optShare(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *p)
}

func sortedKeys(m map[string]Metrics) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ProgressBar returns a Runner.Progress that redraws one line on w (a
// terminal) and ends it when the last task is done.
func ProgressBar(w io.Writer) func(done, total int) {
	return func(done, total int) {
		const width = 30
		filled := width * done / max(total, 1)
		fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}
