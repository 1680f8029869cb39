package infill

import (
	"sort"
	"strings"
)

// An eolMap is a document's text with every line ending made "\n" (what
// the model was trained on and what planning, post-processing and the
// judges read), and the way back: offsets in the original text and the
// line ending its fills must use. Without it a CRLF file's "\r" reaches
// the model, which copies it and runs past the hole; a CR-only file has
// no line breaks at all for the planner.
type eolMap struct {
	lf  string // the text with "\n" line endings
	eol string // the original's own line ending: "\n", "\r\n" or "\r"
	// dropped holds, for each "\r\n" of the original, the offset in lf
	// of its "\n" (the "\r" before it was dropped), ascending.
	dropped []int
	changed bool // the text had a "\r"
}

// newEOLMap normalises text's line endings: "\r\n" and a lone "\r" become
// "\n". The ending fills get back is the most common in text ("\n" when
// it has none).
func newEOLMap(text string) *eolMap {
	m := &eolMap{lf: text, eol: "\n"}
	if strings.IndexByte(text, '\r') < 0 {
		return m
	}
	m.changed = true
	var b strings.Builder
	b.Grow(len(text))
	crlf, cr, lf := 0, 0, 0
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case ch == '\r' && i+1 < len(text) && text[i+1] == '\n':
			crlf++
			m.dropped = append(m.dropped, b.Len())
		case ch == '\r':
			cr++
			b.WriteByte('\n')
		case ch == '\n':
			lf++
			b.WriteByte('\n')
		default:
			b.WriteByte(ch)
		}
	}
	m.lf = b.String()
	lf -= crlf // the "\n" of each "\r\n" was counted too
	switch {
	case crlf >= cr && crlf >= lf:
		m.eol = "\r\n"
	case cr > lf:
		m.eol = "\r"
	}
	return m
}

// identity reports whether the text had no "\r" to normalise.
func (m *eolMap) identity() bool { return !m.changed }

// toLF maps an offset of the original text to the normalised one. An
// offset between a "\r" and its "\n" maps to just before the "\n".
func (m *eolMap) toLF(off int) int {
	// Each dropped "\r" sits at original offset dropped[k]+k.
	k := sort.Search(len(m.dropped), func(k int) bool { return m.dropped[k]+k >= off })
	return off - k
}

// fromLF maps an offset of the normalised text back: an offset at a "\n"
// that was "\r\n" lands before the "\r".
func (m *eolMap) fromLF(off int) int {
	return off + sort.SearchInts(m.dropped, off)
}

// text turns a fill of the normalised text into one in the original's
// line endings.
func (m *eolMap) text(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if m.eol == "\n" {
		return s
	}
	return strings.ReplaceAll(s, "\n", m.eol)
}

// suggestions maps suggestions of the normalised text back, in place.
func (m *eolMap) suggestions(sugs []Suggestion) []Suggestion {
	for i := range sugs {
		sugs[i].Text = m.text(sugs[i].Text)
		sugs[i].Start, sugs[i].End = m.fromLF(sugs[i].Start), m.fromLF(sugs[i].End)
	}
	return sugs
}

// observe maps the steps an observer sees to the original's endings.
func (m *eolMap) observe(f func(Step)) func(Step) {
	if f == nil || m.eol == "\n" {
		return f
	}
	return func(st Step) {
		for i, h := range st.Holes {
			st.Holes[i] = m.text(h)
		}
		f(st)
	}
}

// LoneCRAsLF returns text with each lone "\r" (an old-Mac line break)
// made "\n", and "\r\n" left as it is: the same length, so an offset in
// it is the same offset in text. For code that finds lines or parses in
// place of the model's view (marker search, batch's queries and plan
// lines): the grammars end a line comment only at "\n", and line numbers
// count "\n".
func LoneCRAsLF(text string) string {
	i := strings.IndexByte(text, '\r')
	if i < 0 {
		return text
	}
	b := []byte(text)
	for ; i < len(b); i++ {
		if b[i] == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			b[i] = '\n'
		}
	}
	return string(b)
}
