package infill

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dfim/dfim/engine"
)

// Next edits from an engine with its own next-edit model (engine.NextEditor:
// Inception's Mercury Edit): the engine rewrites an editable region around
// the cursor, given the user's recent edits as diffs; the difference is the
// prediction, held to the same gates as the re-masked places.

// The editable region: whole lines around the cursor's.
const (
	editRegionLinesBefore = 5
	editRegionLinesAfter  = 15
)

// maxHistoryDiffs bounds the diffs of recent edits sent with a request.
const maxHistoryDiffs = 5

// engineNextEdits asks ne for the next edit of doc after ch, the user's
// last change, with the cursor at pos.
func (c *Completer) engineNextEdits(ctx context.Context, ne engine.NextEditor, doc Document, history []Edit, ch change, pos int, start time.Time) ([]NextEdit, error) {
	text := doc.Text
	rs, re := lineRegion(text, pos, editRegionLinesBefore, editRegionLinesAfter)
	req := engine.NextEditRequest{Path: doc.Path, Text: text, RegionStart: rs, RegionEnd: re, Cursor: pos,
		History: historyDiffs(doc.Path, text, history, maxHistoryDiffs)}
	region, err := ne.NextEdit(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("infill: next edit of %s from the engine: %w", doc.Path, err)
	}
	old := text[rs:re]
	p := 0
	for p < len(old) && p < len(region) && old[p] == region[p] {
		p++
	}
	s := 0
	for s < len(old)-p && s < len(region)-p && old[len(old)-1-s] == region[len(region)-1-s] {
		s++
	}
	for p > 0 && p < len(old) && !utf8.RuneStart(old[p]) {
		p-- // not inside a character
	}
	for s > 0 && !utf8.RuneStart(old[len(old)-s]) {
		s--
	}
	e := NextEdit{Start: rs + p, End: re - s, Text: region[p : len(region)-s], Confidence: 1, Kind: "engine", Source: "engine"}
	if e.Start == e.End && e.Text == "" {
		return nil, nil // the region as it was: nothing to do
	}
	if text[:e.Start]+e.Text+text[e.End:] == ch.Before {
		return nil, nil // it would undo the user's edit
	}
	d, err := c.prepare(ctx, doc, text, true)
	if err != nil {
		return nil, err
	}
	defer d.close()
	if !d.nextEditValid(ctx, e.Start, e.End, e.Text) {
		return nil, nil
	}
	e.Elapsed = time.Since(start)
	return []NextEdit{e}, nil
}

// lineRegion is the span of whole lines from before lines above pos's line
// to after lines below it (the last line's newline included).
func lineRegion(text string, pos, before, after int) (int, int) {
	s := strings.LastIndexByte(text[:pos], '\n') + 1
	for k := 0; k < before && s > 0; k++ {
		s = strings.LastIndexByte(text[:s-1], '\n') + 1
	}
	e := pos
	for k := 0; k <= after; k++ {
		i := strings.IndexByte(text[e:], '\n')
		if i < 0 {
			return s, len(text)
		}
		e += i + 1
	}
	return s, e
}

// historyDiffs is the user's recent edits of text (history, as for
// NextEdits) as unified diffs of path, oldest first, at most limit: the
// keystrokes that follow one another on neighbouring lines make one diff.
func historyDiffs(path, text string, history []Edit, limit int) []string {
	var diffs []string
	cur, groupAfter, lastLine := text, text, -1
	for k, n := len(history)-1, 0; k >= 0 && n < maxCoalescedEdits; k, n = k-1, n+1 {
		e := history[k]
		es, ee := e.Start, e.Start+len(e.New)
		if es < 0 || ee > len(cur) || cur[es:ee] != e.New {
			break // the history does not fit the text
		}
		prev := cur[:es] + e.Old + cur[ee:]
		line := strings.Count(prev[:es], "\n")
		if lastLine >= 0 && (line < lastLine-1 || line > lastLine+1) {
			if d := lineDiff(path, cur, groupAfter); d != "" {
				diffs = append(diffs, d)
			}
			groupAfter = cur
			if len(diffs) == limit {
				break
			}
		}
		cur, lastLine = prev, line
	}
	if len(diffs) < limit {
		if d := lineDiff(path, cur, groupAfter); d != "" {
			diffs = append(diffs, d)
		}
	}
	for i, j := 0, len(diffs)-1; i < j; i, j = i+1, j-1 {
		diffs[i], diffs[j] = diffs[j], diffs[i]
	}
	return diffs
}

// lineDiff is a unified diff of before and after as one hunk of the lines
// that differ, without context lines; "" when they are the same.
func lineDiff(path, before, after string) string {
	if before == after {
		return ""
	}
	a, b := strings.SplitAfter(before, "\n"), strings.SplitAfter(after, "\n")
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	var w strings.Builder
	fmt.Fprintf(&w, "--- %s\n+++ %s\n@@ -%d,%d +%d,%d @@\n", path, path, p+1, len(a)-p-s, p+1, len(b)-p-s)
	for _, l := range a[p : len(a)-s] {
		w.WriteString("-" + strings.TrimSuffix(l, "\n") + "\n")
	}
	for _, l := range b[p : len(b)-s] {
		w.WriteString("+" + strings.TrimSuffix(l, "\n") + "\n")
	}
	return w.String()
}
