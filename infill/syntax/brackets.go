package syntax

import "strings"

// unmatchedBrackets counts the brackets of text that close nothing or are
// never closed, skipping strings and comments as the language writes them.
// Tree-sitter's error recovery can fold a candidate's stray `{` into an
// error the document already had (a window cut mid-function always has
// one), so where the document has errors, Check also asks that a candidate
// leave no more unmatched brackets than there were.
func unmatchedBrackets(text, lang string) int {
	hashComment := lang == "python" || lang == "ruby" || lang == "bash"
	slashComment := !hashComment
	quoteChars := `"'` + "`"
	if lang == "rust" {
		quoteChars = `"` // 'a is a lifetime
	}
	var stack []byte
	unmatched := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case hashComment && c == '#', slashComment && c == '/' && i+1 < len(text) && text[i+1] == '/':
			if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(text)
			}
		case slashComment && c == '/' && i+1 < len(text) && text[i+1] == '*':
			if j := strings.Index(text[i+2:], "*/"); j >= 0 {
				i += j + 3
			} else {
				i = len(text)
			}
		case strings.IndexByte(quoteChars, c) >= 0:
			i = skipString(text, i, lang)
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
		case c == ')' || c == ']' || c == '}':
			open := map[byte]byte{')': '(', ']': '[', '}': '{'}[c]
			if n := len(stack); n > 0 && stack[n-1] == open {
				stack = stack[:n-1]
			} else {
				unmatched++
			}
		}
	}
	return unmatched + len(stack)
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
