package infill

import "sync/atomic"

// Stats counts what the pipeline did with candidates since the Completer
// was made: how many were syntax-valid as the engine gave them, how many a
// shorter span or a repair round rescued, and how many were dropped.
type Stats struct {
	Completions   int64 // Complete calls and holes of FillHoles
	Candidates    int64 // candidate texts the engine returned
	Valid         int64 // valid (or unvalidated) as returned, after post-processing
	Invalid       int64 // added syntax errors as returned
	Truncated     int64 // invalid, rescued by cutting the span at a line end
	RepairTried   int64 // invalid candidates sent to repair
	RepairRescued int64 // ... that repair made valid
	SuffixTrimmed int64 // candidates whose tail repeated the suffix
	Empty         int64 // candidates dropped as empty or whitespace-only
	LinesCut      int64 // block fills cut to the lines the engine was sure of
	CommentOnly   int64 // dropped: only a comment where code was due
	Unsure        int64 // dropped: confidence below Options.MinConfidence
	Retyped       int64 // dropped: ends by retyping the line after the hole
	// The compile check (compile.go): how each kept candidate was checked,
	// how many would not compile and were dropped (unasked, or a hole of
	// FillHoles) or ranked last (asked), and the shape rules' drops.
	TypeChecked, ScopeChecked, Unchecked int64
	Uncompiled, RankedLast               int64
	Misshapen                            int64 // dropped: a repetition loop or several lines where one was due
	// UncompiledWhy is the last refused fill and the error it added, for
	// --explain: `"return len(s.items)": too many return values`.
	UncompiledWhy string
	// Hidden counts suggestions the show/hide filter hid (ShowThreshold);
	// ShowFilter is what it saw and decided last, for --explain.
	Hidden     int64
	ShowFilter string
}

// stats holds the live counters.
type stats struct {
	completions, candidates, valid, invalid, truncated atomic.Int64
	repairTried, repairRescued, suffixTrimmed, empty   atomic.Int64
	linesCut, commentOnly, unsure, retyped             atomic.Int64
	typeChecked, scopeChecked, unchecked               atomic.Int64
	uncompiled, rankedLast, misshapen                  atomic.Int64
	uncompiledWhy, showFilter                          atomic.Pointer[string]
	hidden                                             atomic.Int64
}

func (s *stats) snapshot() Stats {
	return Stats{
		Completions: s.completions.Load(), Candidates: s.candidates.Load(),
		Valid: s.valid.Load(), Invalid: s.invalid.Load(), Truncated: s.truncated.Load(),
		RepairTried: s.repairTried.Load(), RepairRescued: s.repairRescued.Load(),
		SuffixTrimmed: s.suffixTrimmed.Load(), Empty: s.empty.Load(),
		LinesCut: s.linesCut.Load(), CommentOnly: s.commentOnly.Load(), Unsure: s.unsure.Load(), Retyped: s.retyped.Load(),
		TypeChecked: s.typeChecked.Load(), ScopeChecked: s.scopeChecked.Load(), Unchecked: s.unchecked.Load(),
		Uncompiled: s.uncompiled.Load(), RankedLast: s.rankedLast.Load(), Misshapen: s.misshapen.Load(),
		UncompiledWhy: deref(s.uncompiledWhy.Load()),
		Hidden:        s.hidden.Load(), ShowFilter: deref(s.showFilter.Load()),
	}
}

// Stats returns the counters so far.
func (c *Completer) Stats() Stats { return c.stats.snapshot() }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
