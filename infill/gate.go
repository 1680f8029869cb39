package infill

import (
	"strings"

	"github.com/dfim/dfim/engine"
)

// What is worth showing. A wrong suggestion costs the user more than none:
// they read it, reject it, and trust the next one less. So a fill is cut
// to the lines the engine is sure of, a comment where code is due is
// dropped, and the rest is shown only above a confidence threshold.

// Defaults of the gate, chosen on ../shared/eval/dev.jsonl with the
// built-in model (README, "Quality and speed"): DefaultLineConfidence is
// what the second and later lines of a block need (mean token
// probability); DefaultMinConfidence what a whole suggestion needs.
const (
	DefaultLineConfidence = 0.6
	DefaultMinConfidence  = 0.0
)

// sureLines cuts a block fill after its last line whose tokens' mean
// probability reaches min, keeping at least the first line, and returns
// the kept text with the mean probability of its tokens. spans are the
// fill's tokens (engine.Fill.Spans); without them the fill is kept whole.
func sureLines(raw string, spans []engine.TokenSpan, min float64, conf float64) (string, float64) {
	if len(spans) == 0 {
		return raw, conf
	}
	// Mean probability per line of the fill, and the tokens it holds.
	type line struct {
		sum float64
		n   int
	}
	lines := []line{{}}
	for _, s := range spans {
		l := &lines[len(lines)-1]
		l.sum += float64(s.Prob)
		l.n++
		for range strings.Count(s.Text, "\n") {
			lines = append(lines, line{})
		}
	}
	keep := 1 // lines of the fill kept
	for keep < len(lines) && lines[keep].n > 0 && lines[keep].sum/float64(lines[keep].n) >= min {
		keep++
	}
	var sum float64
	var n int
	for _, l := range lines[:keep] {
		sum, n = sum+l.sum, n+l.n
	}
	if n > 0 {
		conf = sum / float64(n)
	}
	if keep >= len(lines) {
		return raw, conf
	}
	cut := 0
	for range keep {
		i := strings.IndexByte(raw[cut:], '\n')
		if i < 0 {
			return raw, conf
		}
		cut += i + 1
	}
	return strings.TrimRight(raw[:cut], "\n"), conf
}

// commentMarkers are the line-comment and block-comment starts of the
// languages infill/syntax knows, by language name.
var commentMarkers = map[string][]string{
	"go": {"//", "/*"}, "c": {"//", "/*"}, "cpp": {"//", "/*"}, "java": {"//", "/*"},
	"javascript": {"//", "/*"}, "typescript": {"//", "/*"}, "tsx": {"//", "/*"},
	"rust": {"//", "/*"}, "python": {"#"}, "ruby": {"#"}, "bash": {"#"},
}

// CommentOnly reports whether every non-blank line of text is a comment
// in lang (a continuation line of a block comment counts); false for a
// language whose comments infill does not know.
func CommentOnly(lang, text string) bool {
	marks := commentMarkers[lang]
	if len(marks) == 0 || strings.TrimSpace(text) == "" {
		return false
	}
	inBlock := false
	for l := range strings.Lines(text) {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		if inBlock {
			inBlock = !strings.Contains(t, "*/")
			continue
		}
		isComment := false
		for _, m := range marks {
			if strings.HasPrefix(t, m) {
				isComment = true
				inBlock = m == "/*" && !strings.Contains(t[2:], "*/")
			}
		}
		if !isComment {
			return false
		}
	}
	return true
}

// codeDue reports whether code, not a comment, is due at pos of d: the
// cursor is not in a comment, its line so far has no comment marker, and
// the line above is not a comment the user may be continuing.
func (d *docState) codeDue(pos int) bool {
	marks := commentMarkers[d.lang]
	if len(marks) == 0 {
		return false
	}
	if d.tree != nil && d.tree.NodeAt(pos).Has("comment", "line_comment", "block_comment") {
		return false
	}
	ls := strings.LastIndexByte(d.text[:pos], '\n') + 1
	for _, m := range marks {
		if strings.Contains(d.text[ls:pos], m) {
			return false
		}
	}
	if ls > 0 {
		ps := strings.LastIndexByte(d.text[:ls-1], '\n') + 1
		if CommentOnly(d.lang, d.text[ps:ls-1]) {
			return false
		}
	}
	return true
}

func lineConfidence(o Options) float64 {
	switch {
	case o.LineConfidence == 0:
		return DefaultLineConfidence
	case o.LineConfidence < 0:
		return 0
	}
	return o.LineConfidence
}

func minConfidence(o Options) float64 {
	if o.MinConfidence == 0 {
		return DefaultMinConfidence
	}
	return o.MinConfidence
}

// retypesNextLine reports whether a multi-line text ends with the line
// that follows the hole (not just closing brackets): post-processing could
// not drop it without unbalancing the fill, so the fill as a whole is off
// by a line and not worth showing.
func retypesNextLine(text, suffix string) bool {
	rest, next, _ := strings.Cut(suffix, "\n")
	if strings.TrimSpace(rest) != "" || !strings.Contains(text, "\n") {
		return false
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	for l := range strings.Lines(next) {
		if t := strings.TrimSpace(l); t != "" {
			return t == last && strings.Trim(t, closers+"{;, ") != ""
		}
	}
	return false
}
