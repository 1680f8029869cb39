package infill

import (
	"strings"
)

// surround is what post-processing needs to know about a hole's place.
type surround struct {
	linePrefix string // the cursor's line before the hole
	suffix     string // the document after the hole
	indent     indentStyle
	singleLine bool // a line-shaped hole: cut at the first newline
	crlf       bool // the file ends lines with \r\n
}

// indentStyle is how a file indents: tabs, or width spaces a level.
type indentStyle struct {
	tabs  bool
	width int
}

// detectIndent reads a file's indentation from its lines: tabs when more
// lines start with a tab than with spaces; otherwise the most common step
// between the indentation of consecutive lines (default 4).
func detectIndent(text string) indentStyle {
	var tabs, spaces int
	steps := map[int]int{}
	prev := 0
	for line := range strings.Lines(text) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		switch line[0] {
		case '\t':
			tabs++
		case ' ':
			spaces++
		}
		n := len(line) - len(strings.TrimLeft(line, " "))
		if d := n - prev; d > 0 && line[0] == ' ' {
			steps[d]++
		}
		prev = n
	}
	st := indentStyle{tabs: tabs > spaces, width: 4}
	best := 0
	for d, c := range steps {
		if d <= 8 && (c > best || c == best && d < st.width) {
			st.width, best = d, c
		}
	}
	return st
}

// postProcess turns a raw hole fill into the text to suggest: cut a
// line-shaped fill at its first newline, match the file's indentation and
// line endings, drop a tail that repeats the suffix, strip trailing
// spaces. It returns "" for a fill with nothing left to show, and whether
// a repeated suffix was dropped.
func postProcess(text string, s surround) (string, bool) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if s.singleLine {
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[:i]
		}
	}
	text = cutRepeats(text)
	text = matchIndent(text, s.indent)
	if !s.singleLine {
		text = cutAtDedent(text, s.linePrefix)
	}
	suffix := strings.ReplaceAll(s.suffix, "\r\n", "\n")
	text, trimmed := trimSuffixRepeat(text, suffix, strings.TrimSpace(s.linePrefix) == "")
	text = stripTrailingSpace(text, suffix)
	if strings.TrimSpace(text) == "" {
		return "", trimmed
	}
	if s.crlf {
		text = strings.ReplaceAll(text, "\n", "\r\n")
	}
	return text, trimmed
}

// cutRepeats cuts a fill before its first line that repeats a line of the
// fill before it (closers and short lines aside): the loop a copying
// decoder falls into, `x := 1` `x := 1` `x := 1` down the block.
func cutRepeats(text string) string {
	lines := strings.Split(text, "\n")
	seen := map[string]bool{}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if len(t) < 4 || strings.Trim(t, closers+"{;, ") == "" {
			continue
		}
		if seen[t] {
			return strings.TrimRight(strings.Join(lines[:i], "\n"), " \t\n")
		}
		seen[t] = true
	}
	return text
}

// cutAtDedent cuts a fill that starts a line before its first line that
// indents less than the fill's first line and closes no bracket the fill
// opened (indentation a model got wrong aside): there the body the cursor is
// in ends, and the fill was going on to close it (the suffix already
// does) and start the next declaration (`}` `func (s *Stack) Pop() …`).
func cutAtDedent(text, linePrefix string) string {
	if strings.TrimSpace(linePrefix) != "" || !strings.Contains(text, "\n") {
		return text
	}
	lines := strings.Split(text, "\n")
	base := indentWidth(linePrefix + lines[0])
	for i := 1; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" && indentWidth(lines[i]) < base && balance(strings.Join(lines[:i], "\n")) <= 0 {
			return strings.TrimRight(strings.Join(lines[:i], "\n"), " \t\n")
		}
	}
	return text
}

// matchIndent rewrites the leading whitespace of every line after the
// first to the file's style (the first line continues the cursor's line).
func matchIndent(text string, st indentStyle) string {
	if !strings.Contains(text, "\n") {
		return text
	}
	width := max(st.width, 1)
	lines := strings.Split(text, "\n")
	for i := 1; i < len(lines); i++ {
		line := lines[i]
		body := strings.TrimLeft(line, " \t")
		lead := line[:len(line)-len(body)]
		cols := 0
		for _, r := range lead {
			if r == '\t' {
				cols += width
			} else {
				cols++
			}
		}
		if st.tabs {
			lines[i] = strings.Repeat("\t", cols/width) + strings.Repeat(" ", cols%width) + body
		} else {
			lines[i] = strings.Repeat(" ", cols) + body
		}
	}
	return strings.Join(lines, "\n")
}

// closers are the characters a suggestion may cover when they are all that
// is right of the cursor.
const closers = ")]}>\"'`"

// balance is opening minus closing brackets of text (strings not parsed:
// a heuristic to tell a needed closer from a repeated one).
func balance(text string) int {
	n := 0
	for _, r := range text {
		switch r {
		case '(', '[', '{':
			n++
		case ')', ']', '}':
			n--
		}
	}
	return n
}

// abs is |x|.
func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// trimSuffixRepeat drops the tail of text that the suffix already has: whole
// lines equal to the next lines of the suffix, or a tail equal to the start
// of the suffix. A drop that would unbalance brackets the fill had balanced
// is not made (a block's own closing brace looks like the function's).
// lineStart says the fill begins a line, so its first line may go too.
func trimSuffixRepeat(text, suffix string, lineStart bool) (string, bool) {
	keeps := func(kept string) bool { return abs(balance(kept)) <= abs(balance(text)) }
	// Whole lines: the suffix's lines after the rest of the cursor's line.
	rest, next, _ := strings.Cut(suffix, "\n")
	var sufLines []string
	if strings.TrimSpace(rest) == "" {
		for l := range strings.Lines(next) {
			if t := strings.TrimSpace(l); t != "" {
				sufLines = append(sufLines, t)
			}
			if len(sufLines) >= 8 {
				break
			}
		}
	}
	lines := strings.Split(text, "\n")
	first := 1
	if lineStart {
		first = 0
	}
	for k := first; k < len(lines); k++ {
		tail := lines[k:]
		n := 0
		for _, l := range tail {
			if strings.TrimSpace(l) != "" {
				n++
			}
		}
		if n == 0 || n > len(sufLines) {
			continue
		}
		match, j := true, 0
		for _, l := range tail {
			t := strings.TrimSpace(l)
			if t == "" {
				continue
			}
			if t != sufLines[j] {
				match = false
				break
			}
			j++
		}
		kept := strings.Join(lines[:k], "\n")
		if match && keeps(kept) {
			return kept, true
		}
	}
	// A fill that ran on into the suffix and past it: from some line on it
	// retypes the suffix's next lines (two, or one distinctive line), and
	// what follows is the suffix's text again or worse.
	for k := first; k < len(lines); k++ {
		var tail []string
		for _, l := range lines[k:] {
			if t := strings.TrimSpace(l); t != "" {
				tail = append(tail, t)
			}
		}
		m := 0
		for m < len(tail) && m < len(sufLines) && tail[m] == sufLines[m] {
			m++
		}
		if m < len(tail) && m < len(sufLines) && m == len(tail)-1 && strings.HasPrefix(sufLines[m], tail[m]) {
			m++ // the fill's last line, cut short by the token budget
		}
		distinct := m == 1 && len(tail[0]) >= 8 && strings.Trim(tail[0], closers+"{;, ") != ""
		kept := strings.Join(lines[:k], "\n")
		if len(tail) > 0 && (m >= 2 || distinct) && strings.TrimSpace(kept) != "" && keeps(kept) {
			return kept, true
		}
	}
	// A tail equal to the start of the suffix (on the cursor's line).
	for k := min(len(text), len(rest)); k >= 1; k-- {
		over := rest[:k]
		if !strings.HasSuffix(text, over) || strings.TrimSpace(over) == "" {
			continue
		}
		kept := text[:len(text)-k]
		punct := strings.Trim(strings.TrimSpace(over), closers+";,") == ""
		if punct && balance(text) < 0 && keeps(kept) || !punct && len(strings.TrimSpace(over)) >= 6 {
			return kept, true
		}
	}
	return text, false
}

// stripTrailingSpace strips spaces and tabs at the end of every line of
// text; at its very end only when the line ends there too (mid-line, a
// space may separate the fill from the suffix).
func stripTrailingSpace(text, suffix string) string {
	lines := strings.Split(text, "\n")
	for i := range len(lines) - 1 {
		lines[i] = strings.TrimRight(lines[i], " \t")
	}
	if suffix == "" || suffix[0] == '\n' {
		lines[len(lines)-1] = strings.TrimRight(lines[len(lines)-1], " \t")
	}
	return strings.Join(lines, "\n")
}
