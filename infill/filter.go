package infill

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dfim/dfim/index"
)

// compiles runs the compile check (compileCheck) on replacing [start,
// end) of the request's document with text, and counts how it ran.
func (r *request) compiles(start, end int, text string) compileVerdict {
	d := r.d
	var siblings siblingSource
	if r.opts.ReadPackage && d.path != "" {
		siblings = diskSiblings
	}
	var names nameSource
	if l, ok := r.opts.Context.(symbolLookup); ok {
		names = indexNames{l}
	}
	v := compileCheck(d.lang, d.path, d.text, start, end, text, r.extra, siblings, names, &d.words)
	switch v.method {
	case checkedTypes:
		r.c.stats.typeChecked.Add(1)
	case checkedScope:
		r.c.stats.scopeChecked.Add(1)
	default:
		r.c.stats.unchecked.Add(1)
	}
	return v
}

// gate puts every suggestion of out (best first) to the shape rules, the
// compile check and, where Options.ShowThreshold asks, the show/hide
// filter (showfilter.go), which hides what scores below it. A repetition loop, or several lines where the plan
// wanted one, is dropped. One that would not compile is dropped where it
// would be shown unasked (Options.MinConfidence set) or fills a hole of
// FillHoles (p.strict: batch writes it, Fill Holes applies it unseen);
// where the user asked, it is ranked after every one that compiles, and
// dropped when none does: nothing is better than code that cannot build.
func (r *request) gate(out []Suggestion, p plan) []Suggestion {
	var good, bad []Suggestion
	for _, s := range out {
		if repeatsItself(s.Text) || p.shape == shapeLine && strings.Contains(strings.TrimRight(s.Text, "\r\n"), "\n") {
			r.c.stats.misshapen.Add(1)
			continue
		}
		if CommentOnly(r.d.lang, s.Text) && r.d.codeDue(s.Start) { // fillOne dropped these already; a joint fill did not
			r.c.stats.commentOnly.Add(1)
			continue
		}
		v := r.compiles(s.Start, s.End, s.Text)
		if v.ok {
			if !p.strict {
				s.Show = r.show(s, v.method)
				if th := r.opts.ShowThreshold; th > 0 && s.Show.Score < th {
					r.c.stats.hidden.Add(1)
					continue
				}
			}
			good = append(good, s)
			continue
		}
		why := fmt.Sprintf("%q: %s (%s)", s.Text, strings.ReplaceAll(v.why, "\n\t", "; "), v.method)
		r.c.stats.uncompiledWhy.Store(&why)
		if p.strict || r.opts.MinConfidence > 0 {
			r.c.stats.uncompiled.Add(1)
			continue
		}
		bad = append(bad, s)
	}
	if len(good) == 0 {
		r.c.stats.uncompiled.Add(int64(len(bad)))
		return nil
	}
	r.c.stats.rankedLast.Add(int64(len(bad)))
	return append(good, bad...)
}

// show scores s with the show/hide filter (showfilter.go) and keeps
// what it saw for --explain.
func (r *request) show(s Suggestion, method compileMethod) *ShowVerdict {
	mean, ok := r.means[fillKey(s)]
	if !ok {
		mean = s.Confidence
	}
	f := showFeatures(showInput{lang: r.d.lang, doc: r.d.text, extra: r.extra, start: s.Start, end: s.End, text: s.Text,
		conf: s.Confidence, mean: mean, tokens: s.Tokens, method: method})
	v := &ShowVerdict{Features: f, Score: showScore(f)}
	desc := describeShow(v, r.opts.ShowThreshold)
	r.c.stats.showFilter.Store(&desc)
	return v
}

// noteMean keeps a candidate's mean token probability for the filter.
func (r *request) noteMean(s Suggestion, mean float64) {
	if r.means == nil {
		r.means = map[string]float64{}
	}
	r.means[fillKey(s)] = mean
}

func fillKey(s Suggestion) string { return fmt.Sprint(s.Start, ":", s.End, ":", s.Text) }

// keepHole is the gate for one hole of a joint fill of FillHoles.
func (r *request) keepHole(p plan, start int, text string) bool {
	return len(r.gate([]Suggestion{{Text: text, Start: start, End: start}}, p)) > 0
}

// symbolLookup is what *index.Index offers the compile check: the
// definitions of a name anywhere in the workspace.
type symbolLookup interface {
	Lookup(name string) []index.Symbol
}

// indexNames answers nameSource from an index: a Go name counts when the
// index has it in the document's directory (its package), a Python name
// when it has it anywhere (the fill may import it).
type indexNames struct{ l symbolLookup }

func (n indexNames) Defines(path, name string) bool {
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	for _, s := range n.l.Lookup(name) {
		if !strings.HasSuffix(path, ".go") || filepath.Dir(s.Path) == dir {
			return true
		}
	}
	return false
}
