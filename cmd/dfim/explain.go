package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill"
)

// recorder keeps every canvas fill an engine returns, for `dfim fill
// --explain`: the raw candidates, before infill validates, repairs, trims
// and drops them.
type recorder struct {
	// mu guards calls.
	mu    sync.Mutex
	calls []recordedCall
}

// recordedCall is one Infill call: its candidates' hole texts, or its error.
type recordedCall struct {
	fills []engine.Fill
	err   error
}

// wrap returns d with every Infill recorded. The optional interfaces infill
// looks for (engine.ContextSizer, engine.TokenCounter) stay visible when d
// has them, so the canvas is planned as without --explain.
func (r *recorder) wrap(d engine.Denoiser) engine.Denoiser {
	base := recording{d: d, r: r}
	cs, isCS := d.(engine.ContextSizer)
	tc, isTC := d.(engine.TokenCounter)
	switch {
	case isCS && isTC:
		return struct {
			recording
			engine.ContextSizer
			engine.TokenCounter
		}{base, cs, tc}
	case isCS:
		return struct {
			recording
			engine.ContextSizer
		}{base, cs}
	case isTC:
		return struct {
			recording
			engine.TokenCounter
		}{base, tc}
	}
	return base
}

type recording struct {
	d engine.Denoiser
	r *recorder
}

func (w recording) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	res, err := w.d.Infill(ctx, req)
	w.r.mu.Lock()
	w.r.calls = append(w.r.calls, recordedCall{fills: res.Candidates, err: err})
	w.r.mu.Unlock()
	return res, err
}

func (w recording) Close() error { return w.d.Close() }

// explain writes what the engine returned, what the pipeline did with it
// (st, the counters of this one completion) and what was kept.
func (r *recorder) explain(w io.Writer, st infill.Stats, kept []infill.Suggestion) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := func(format string, args ...any) { fmt.Fprintf(w, "dfim fill: explain: "+format+"\n", args...) }
	p("%d engine call(s); the first fills the hole, later ones re-mask a candidate to repair its syntax", len(r.calls))
	for i, c := range r.calls {
		if c.err != nil {
			p("  call %d failed: %v", i+1, c.err)
			continue
		}
		if len(c.fills) == 0 {
			p("  call %d returned no candidate", i+1)
		}
		for j, f := range c.fills {
			p("  call %d, candidate %d (confidence %.2f): %s", i+1, j+1, f.Confidence, quoteHoles(f.Holes))
		}
	}
	p("pipeline: %d candidate(s); %d syntax-valid as returned, %d broke the syntax (%d rescued by cutting at a line end, %d of %d by repair)",
		st.Candidates, st.Valid, st.Invalid, st.Truncated, st.RepairRescued, st.RepairTried)
	var dropped []string
	for _, d := range []struct {
		n   int64
		why string
	}{
		{st.Empty, "empty or only whitespace"},
		{st.CommentOnly, "only a comment where code was due"},
		{st.Unsure, "confidence below the gate"},
		{st.Retyped, "retyped the line after the hole"},
		{st.Invalid - st.Truncated - st.RepairRescued, "still broke the syntax"},
		{st.Misshapen, "a repetition loop or several lines where one was due"},
		{st.Uncompiled, "would not compile here (an undefined name or a new type error)"},
		{st.Hidden, "hidden by the show/hide filter"},
	} {
		if d.n > 0 {
			dropped = append(dropped, fmt.Sprintf("%d %s", d.n, d.why))
		}
	}
	accounted := int64(len(kept))
	for _, n := range []int64{st.Empty, st.CommentOnly, st.Unsure, st.Retyped, st.Invalid - st.Truncated - st.RepairRescued, st.Misshapen, st.Uncompiled, st.Hidden} {
		accounted += n
	}
	if n := st.Candidates - accounted; n > 0 {
		dropped = append(dropped, fmt.Sprintf("%d the same text as a candidate kept before", n))
	}
	if len(dropped) == 0 {
		dropped = []string{"none"}
	}
	p("dropped: %s", strings.Join(dropped, "; "))
	if st.SuffixTrimmed > 0 || st.LinesCut > 0 {
		p("trimmed: %d repeated the text after the cursor (cut there), %d block fill(s) cut to the lines the model was sure of", st.SuffixTrimmed, st.LinesCut)
	}
	switch {
	case st.TypeChecked+st.ScopeChecked+st.Unchecked == 0:
	case st.Unchecked > 0:
		p("compile check: not run for this language (%d); the syntax judge alone decided", st.Unchecked)
	default:
		p("compile check: %d by go/types, %d by the scope check (the file does not parse as a whole, or is not Go); %d ranked last for not compiling",
			st.TypeChecked, st.ScopeChecked, st.RankedLast)
	}
	if st.ShowFilter != "" {
		p("show/hide filter: %s", st.ShowFilter)
	}
	if st.UncompiledWhy != "" && st.Uncompiled+st.RankedLast > 0 {
		p("would not compile: %s", st.UncompiledWhy)
	}
	if len(kept) == 0 {
		p("kept: none")
	}
	for i, s := range kept {
		p("kept %d (confidence %.2f, syntax %s): %q", i+1, s.Confidence, s.Syntax, s.Text)
	}
}

func quoteHoles(holes []string) string {
	q := make([]string, len(holes))
	for i, h := range holes {
		q[i] = fmt.Sprintf("%q", h)
	}
	return strings.Join(q, ", ")
}

// statsDelta is what the counters counted between two snapshots.
func statsDelta(a, b infill.Stats) infill.Stats {
	return infill.Stats{
		Completions: b.Completions - a.Completions, Candidates: b.Candidates - a.Candidates,
		Valid: b.Valid - a.Valid, Invalid: b.Invalid - a.Invalid, Truncated: b.Truncated - a.Truncated,
		RepairTried: b.RepairTried - a.RepairTried, RepairRescued: b.RepairRescued - a.RepairRescued,
		SuffixTrimmed: b.SuffixTrimmed - a.SuffixTrimmed, Empty: b.Empty - a.Empty, LinesCut: b.LinesCut - a.LinesCut,
		CommentOnly: b.CommentOnly - a.CommentOnly, Unsure: b.Unsure - a.Unsure, Retyped: b.Retyped - a.Retyped,
		TypeChecked: b.TypeChecked - a.TypeChecked, ScopeChecked: b.ScopeChecked - a.ScopeChecked, Unchecked: b.Unchecked - a.Unchecked,
		Uncompiled: b.Uncompiled - a.Uncompiled, RankedLast: b.RankedLast - a.RankedLast, Misshapen: b.Misshapen - a.Misshapen,
		UncompiledWhy: b.UncompiledWhy, Hidden: b.Hidden - a.Hidden, ShowFilter: b.ShowFilter,
	}
}
