package batch

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/dfim/dfim/infill"
)

// A PlanEntry asks for lines StartLine..EndLine (1-based, inclusive) of Path
// to be regenerated.
type PlanEntry struct {
	Path      string `json:"path"`
	StartLine int    `json:"start_line"`
	EndLine   int    `json:"end_line"`
	line      int    // line of the plan file, for messages
}

// ReadPlan reads a JSONL plan. Malformed lines are errors naming the line.
func ReadPlan(name string, r io.Reader) ([]PlanEntry, error) {
	var entries []PlanEntry
	var errs []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var e PlanEntry
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			errs = append(errs, fmt.Sprintf("%s:%d: %v (want {\"path\",\"start_line\",\"end_line\"})", name, n, err))
			continue
		}
		if e.Path == "" || e.StartLine < 1 || e.EndLine < e.StartLine {
			errs = append(errs, fmt.Sprintf("%s:%d: need a path and 1 <= start_line <= end_line, got %q %d..%d", name, n, e.Path, e.StartLine, e.EndLine))
			continue
		}
		e.line = n
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading plan %s: %w", name, err)
	}
	if len(errs) > 0 {
		return entries, fmt.Errorf("plan %s has bad lines:\n  %s", name, strings.Join(errs, "\n  "))
	}
	return entries, nil
}

// LineRangeHole returns the hole covering lines start..end (1-based,
// inclusive) of text: from the first line's content (its indentation stays,
// so the model sees where the code sits) to the end of the last line's
// content (its line break stays).
func LineRangeHole(text string, start, end int) (infill.Hole, error) {
	text = infill.LoneCRAsLF(text) // a lone "\r" ends a line too; offsets stay the same
	lineStarts := []int{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' && i+1 < len(text) {
			lineStarts = append(lineStarts, i+1)
		}
	}
	if text == "" || start < 1 || end < start || end > len(lineStarts) {
		return infill.Hole{}, fmt.Errorf("lines %d..%d are past the end of the file (%d lines)", start, end, len(lineStarts))
	}
	from := lineStarts[start-1]
	to := len(text)
	if end < len(lineStarts) {
		to = lineStarts[end] - 1 // the '\n' ending line end
	} else if strings.HasSuffix(text, "\n") {
		to--
	}
	if to > from && text[to-1] == '\r' {
		to--
	}
	for from < to && (text[from] == ' ' || text[from] == '\t') {
		from++
	}
	return infill.Hole{Start: from, End: to, MaxLines: end - start + 1}, nil
}
