package eval

import (
	"context"
	"path"
	"time"

	"github.com/dfim/dfim/infill"
)

// NESMetrics score next-edit predictions, the first prediction of each
// task (an editor shows one): over all tasks, location accuracy (it
// overlaps an expected hunk) and exact match (applying it gives the text
// the hunk gives); shown share (a prediction came at all), precision (the
// shown ones at a right location) and exact precision; p50 latency.
type NESMetrics struct {
	Tasks            int     `json:"tasks"`
	Shown            int     `json:"shown"`
	LocationHits     int     `json:"location_hits"`
	ExactMatches     int     `json:"exact_matches"`
	ShownShare       float64 `json:"shown_share"`
	LocationAccuracy float64 `json:"location_accuracy"`
	ExactMatch       float64 `json:"exact_match"`
	Precision        float64 `json:"precision"`
	ExactPrecision   float64 `json:"exact_precision"`
	P50LatencyMS     float64 `json:"p50_latency_ms"`
	// P50ShownMS is the p50 latency of the tasks with a prediction shown:
	// the ones the engine was asked about.
	P50ShownMS float64 `json:"p50_latency_shown_ms"`
	Errors     int     `json:"errors"`
}

// A NESResult is one task's outcome.
type NESResult struct {
	ID       string        `json:"id"`
	Shown    bool          `json:"shown"`
	Location bool          `json:"location"`
	Exact    bool          `json:"exact"`
	Kind     string        `json:"kind,omitempty"`
	Source   string        `json:"source,omitempty"`
	Start    int           `json:"start,omitempty"`
	End      int           `json:"end,omitempty"`
	Text     string        `json:"text,omitempty"`
	Latency  time.Duration `json:"latency_ns"`
	Err      string        `json:"error,omitempty"`
}

// RunNES asks c for the next edits of every task with opts and scores the
// first of each.
func RunNES(ctx context.Context, c *infill.Completer, tasks []NESTask, opts infill.NextEditOptions) (NESMetrics, []NESResult) {
	results := make([]NESResult, 0, len(tasks))
	for _, t := range tasks {
		if ctx.Err() != nil {
			break
		}
		results = append(results, runNESTask(ctx, c, t, opts))
	}
	return ScoreNES(results), results
}

func runNESTask(ctx context.Context, c *infill.Completer, t NESTask, opts infill.NextEditOptions) NESResult {
	r := NESResult{ID: t.ID}
	text := t.Text()
	doc := infill.Document{Path: path.Base(t.Path), LanguageID: t.Lang, Text: text}
	history := []infill.Edit{{Start: t.Edit.Start, Old: t.Edit.Old, New: t.Edit.New}}
	start := time.Now()
	edits, err := c.NextEdits(ctx, doc, history, t.Cursor(), opts)
	r.Latency = time.Since(start)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	if len(edits) == 0 {
		return r
	}
	e := edits[0]
	r.Shown, r.Kind, r.Source, r.Start, r.End, r.Text = true, e.Kind, e.Source, e.Start, e.End, e.Text
	r.Location, r.Exact = t.Judge(e.Start, e.End, e.Text)
	return r
}

// Judge scores a predicted edit of the text after the user's edit (bytes
// [start, end) of t.Text() become text): location when it overlaps an
// expected hunk, exact when applying it gives the text that hunk gives.
// The LSP benchmark's next-edit pass scores the server's edits with it.
func (t NESTask) Judge(start, end int, text string) (location, exact bool) {
	doc := t.Text()
	if start < 0 || end > len(doc) || start > end {
		return false, false
	}
	predicted := doc[:start] + text + doc[end:]
	for _, h := range t.Expected {
		if !overlaps(start, end, h.Start, h.End) {
			continue
		}
		location = true
		if h.Start >= 0 && h.End <= len(doc) && h.Start <= h.End && predicted == doc[:h.Start]+h.Text+doc[h.End:] {
			exact = true
		}
	}
	return location, exact
}

// overlaps reports whether [s, e) and [hs, he) overlap; an empty range
// (an insertion) overlaps a range it touches.
func overlaps(s, e, hs, he int) bool {
	if s == e || hs == he {
		return s <= he && e >= hs
	}
	return s < he && e > hs
}

// ScoreNES sums results into metrics.
func ScoreNES(results []NESResult) NESMetrics {
	m := NESMetrics{Tasks: len(results)}
	var lat, shownLat []float64
	for _, r := range results {
		ms := float64(r.Latency.Microseconds()) / 1000
		lat = append(lat, ms)
		if r.Shown {
			shownLat = append(shownLat, ms)
		}
		if r.Err != "" {
			m.Errors++
		}
		if r.Shown {
			m.Shown++
		}
		if r.Location {
			m.LocationHits++
		}
		if r.Exact {
			m.ExactMatches++
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	m.ShownShare = ratio(m.Shown, m.Tasks)
	m.LocationAccuracy = ratio(m.LocationHits, m.Tasks)
	m.ExactMatch = ratio(m.ExactMatches, m.Tasks)
	m.Precision = ratio(m.LocationHits, m.Shown)
	m.ExactPrecision = ratio(m.ExactMatches, m.Shown)
	m.P50LatencyMS = Percentile(lat, 50)
	m.P50ShownMS = Percentile(shownLat, 50)
	return m
}
