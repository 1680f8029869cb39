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
}

// stats holds the live counters.
type stats struct {
	completions, candidates, valid, invalid, truncated atomic.Int64
	repairTried, repairRescued, suffixTrimmed, empty   atomic.Int64
	linesCut, commentOnly, unsure, retyped             atomic.Int64
}

func (s *stats) snapshot() Stats {
	return Stats{
		Completions: s.completions.Load(), Candidates: s.candidates.Load(),
		Valid: s.valid.Load(), Invalid: s.invalid.Load(), Truncated: s.truncated.Load(),
		RepairTried: s.repairTried.Load(), RepairRescued: s.repairRescued.Load(),
		SuffixTrimmed: s.suffixTrimmed.Load(), Empty: s.empty.Load(),
		LinesCut: s.linesCut.Load(), CommentOnly: s.commentOnly.Load(), Unsure: s.unsure.Load(), Retyped: s.retyped.Load(),
	}
}

// Stats returns the counters so far.
func (c *Completer) Stats() Stats { return c.stats.snapshot() }
