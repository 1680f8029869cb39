package syntax

import "strings"

// unmatchedBrackets counts the brackets of text that close nothing or are
// never closed, skipping strings and comments as the language writes them.
// Tree-sitter's error recovery can fold a candidate's stray `{` into an
// error the document already had (a window cut mid-function always has
// one), so where the document has errors, Check also asks that a candidate
// leave no more unmatched brackets than there were.
func unmatchedBrackets(text, lang string) int {
	s := newBracketScan(lang)
	s.scan(text)
	return s.unmatched + len(s.stack)
}

// A bracketScan is the state of counting unmatched brackets part way
// through a text, so that Check can count an edited document by scanning
// only the lines the edit touches: the state before them is kept, and the
// text after them is summed up as a bracketTail.
type bracketScan struct {
	lang      string
	hash      bool   // # comments (else // and /* */)
	quotes    string // quote characters
	stack     []byte // open brackets not yet closed
	unmatched int    // closing brackets that closed nothing
	tail      bool   // scanning a tail (tailOf): keep the exposed closers
	exposed   []byte // closers met with an empty stack, for the text before to close
	overran   bool   // a string or comment ran to the end of the text scanned
}

func newBracketScan(lang string) *bracketScan {
	s := &bracketScan{lang: lang, hash: lang == "python" || lang == "ruby" || lang == "bash", quotes: `"'` + "`"}
	if lang == "rust" {
		s.quotes = `"` // 'a is a lifetime
	}
	return s
}

// opener is the bracket a closer closes.
func opener(c byte) byte {
	switch c {
	case ')':
		return '('
	case ']':
		return '['
	}
	return '{'
}

// scan continues the count over text, which must start outside any string
// or comment. overran is set when text ends inside one (what follows it
// would be read differently).
func (s *bracketScan) scan(text string) {
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case s.hash && c == '#', !s.hash && c == '/' && i+1 < len(text) && text[i+1] == '/':
			if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
				i += j
			} else {
				i, s.overran = len(text), true
			}
		case !s.hash && c == '/' && i+1 < len(text) && text[i+1] == '*':
			if j := strings.Index(text[i+2:], "*/"); j >= 0 {
				i += j + 3
			} else {
				i, s.overran = len(text), true
			}
		case strings.IndexByte(s.quotes, c) >= 0:
			if i = skipString(text, i, s.lang); i >= len(text) {
				s.overran = true
			}
		case c == '(' || c == '[' || c == '{':
			s.stack = append(s.stack, c)
		case c == ')' || c == ']' || c == '}':
			if n := len(s.stack); n > 0 && s.stack[n-1] == opener(c) {
				s.stack = s.stack[:n-1]
			} else if n == 0 && s.tail {
				s.exposed = append(s.exposed, c)
			} else {
				s.unmatched++
			}
		}
	}
}

// A bracketTail sums up the text after an edit for the count: the closers
// it meets with its own brackets all closed (they close what the text
// before left open, or nothing), and its own unmatched count.
type bracketTail struct {
	exposed []byte
	own     int // unmatched within the tail, open ones included
}

func tailOf(text, lang string) (bracketTail, bool) {
	s := newBracketScan(lang)
	s.tail = true
	s.scan(text)
	return bracketTail{exposed: s.exposed, own: s.unmatched + len(s.stack)}, !s.overran
}

// total finishes a count whose scan stopped where tail starts.
func (s *bracketScan) total(tail bracketTail) int {
	stack := append([]byte(nil), s.stack...)
	n := s.unmatched + tail.own
	for _, c := range tail.exposed {
		if k := len(stack); k > 0 && stack[k-1] == opener(c) {
			stack = stack[:k-1]
		} else {
			n++
		}
	}
	return n + len(stack)
}

// skipString returns the index of the closing quote of the string opening
// at text[i] (Python's triple quotes included), or the end of its line when
// it is not closed there (a stray quote must not swallow the file).
func skipString(text string, i int, lang string) int {
	q := text[i]
	if lang == "python" && strings.HasPrefix(text[i:], strings.Repeat(string(q), 3)) {
		if j := strings.Index(text[i+3:], strings.Repeat(string(q), 3)); j >= 0 {
			return i + 3 + j + 2
		}
		return len(text)
	}
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			j++
		case q:
			return j
		case '\n':
			if q != '`' {
				return j - 1
			}
		}
	}
	return len(text)
}
