package infill

import (
	"math"
	"strings"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/infill/syntax"
)

// What is worth showing. A wrong suggestion costs the user more than none:
// they read it, reject it, and trust the next one less. So a fill is cut
// to the lines the engine is sure of, a comment where code is due is
// dropped, and the rest is shown only above a confidence threshold.

// Defaults of the gate, chosen on ../shared/eval/dev.jsonl with the
// built-in model (README, "Quality and speed"): DefaultLineConfidence is
// what the second and later lines of a block need (mean token
// probability); DefaultMinConfidence is what the editor asks of a whole
// suggestion (its least sure token) before showing it unasked: on dev Go
// single lines it halves what is shown and doubles precision while
// keeping every exact match. Explicit requests (fill, batch) show the
// best fill whatever its confidence unless they set MinConfidence.
const (
	DefaultLineConfidence = 0.6
	DefaultMinConfidence  = 0.6
)

// lineProbs groups a fill's token probabilities by the line of the fill
// they fall on (a token that ends a line belongs to that line).
func lineProbs(spans []engine.TokenSpan) [][]float32 {
	lines := [][]float32{nil}
	for _, s := range spans {
		lines[len(lines)-1] = append(lines[len(lines)-1], s.Prob)
		for range strings.Count(s.Text, "\n") {
			lines = append(lines, nil)
		}
	}
	return lines
}

func mean(xs []float32) float64 {
	var sum float64
	for _, x := range xs {
		sum += float64(x)
	}
	return sum / float64(max(len(xs), 1))
}

// sureLines cuts a block fill after its last line whose tokens' mean
// probability reaches min, keeping at least the first line. It returns the
// kept text and how many lines of the fill it kept. spans are the fill's
// tokens (engine.Fill.Spans); without them the fill is kept whole.
func sureLines(raw string, spans []engine.TokenSpan, min float64) (string, int) {
	lines := lineProbs(spans)
	if len(spans) == 0 {
		return raw, len(lines)
	}
	keep := 1
	for keep < len(lines) && len(lines[keep]) > 0 && mean(lines[keep]) >= min {
		keep++
	}
	if keep >= len(lines) {
		return raw, keep
	}
	return firstLines(raw, keep), keep
}

// suggestionConfidence scores the first n lines of a fill from its tokens'
// probabilities: what the gate compares with MinConfidence. It is the
// least sure token's probability: one wrong token makes a wrong
// suggestion, and the mean hides it behind the sure ones (measured on dev:
// the mean of a committed fill is near 1 whether it is right or not).
func suggestionConfidence(spans []engine.TokenSpan, n int, fallback float64) float64 {
	lines := lineProbs(spans)
	conf, seen := 1.0, false
	for _, l := range lines[:min(n, len(lines))] {
		for _, p := range l {
			conf, seen = math.Min(conf, float64(p)), true
		}
	}
	if !seen {
		return fallback
	}
	return conf
}

// CommentOnly reports whether every non-blank line of text is a comment
// in lang (a continuation line of a block comment counts); false for a
// language whose comments infill does not know.
func CommentOnly(lang, text string) bool {
	marks := syntax.CommentMarkers(lang)
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
// cursor is not in a comment and its line so far has no comment marker.
// Under a comment line code is due too: a comment usually says what the
// code below it does.
func (d *docState) codeDue(pos int) bool {
	marks := syntax.CommentMarkers(d.lang)
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
	return true
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

func lineConfidence(o Options) float64 {
	switch {
	case o.LineConfidence == 0:
		return DefaultLineConfidence
	case o.LineConfidence < 0:
		return 0
	}
	return o.LineConfidence
}

// firstLines is text cut to its first n lines; n ≤ 0 keeps it whole.
func firstLines(text string, n int) string {
	if n <= 0 {
		return text
	}
	cut := 0
	for range n {
		i := strings.IndexByte(text[cut:], '\n')
		if i < 0 {
			return text
		}
		cut += i + 1
	}
	return strings.TrimRight(text[:cut], "\n")
}

// repeatsItself reports whether a line of text holds a repetition loop: a
// piece of at least 3 characters, three times in a row (`i < i0; i < i0;
// i < i0;`, `:= := :=`), what a decoder stuck on its own output writes.
// Pieces of only digits, commas, closers and the like (`0, 0, 0`, `---`)
// are data, not a loop. Such a fill is never shown: cut, it would still
// be wrong.
func repeatsItself(text string) bool {
	for line := range strings.Lines(text) {
		n := min(len(line), 400)
		for l := 3; 3*l <= n; l++ {
			for i := 0; i+3*l <= n; i++ {
				piece := line[i : i+l]
				if line[i+l:i+2*l] == piece && line[i+2*l:i+3*l] == piece && loopPiece(piece) {
					return true
				}
			}
		}
	}
	return false
}

// loopPiece: a piece with a letter (or an operator such as := or ==) in
// it, and two characters that are not space.
func loopPiece(s string) bool {
	if len(strings.TrimSpace(s)) < 2 || !strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_=:<>!&|") {
		return false
	}
	// `a, a, a` and `x, x, x` are short data too; a loop of a name alone
	// needs a longer piece.
	return len(s) >= 5 || strings.ContainsAny(s, "=:<>!&|")
}
