package infill

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
)

// Tree-sitter recovers from errors a compiler rejects (`for i := 0; i; i
// := nil {` parses as a for statement with odd parts) and knows nothing of
// Python's indentation rules, so a suggestion it accepts is also put to
// the language's own judge. Both judges compare with the document before
// the edit: a document that did not compile is not held against a fill.

// LanguageAccepts reports whether the document doc with bytes [start, end)
// replaced by text passes lang's own checks wherever doc did: for Go,
// go/parser on the whole file; for Python, consistent indentation of the
// edited lines. Other languages: true.
func LanguageAccepts(lang, doc string, start, end int, text string) bool {
	switch lang {
	case "go":
		return goParses(doc[:start]+text+doc[end:]) || !goParses(doc)
	case "python":
		return pythonIndentOK(doc, start, end, text)
	}
	return true
}

// goParses: go/parser accepts src, and so would the compiler's own parser,
// which also refuses a declaration in a for statement's post statement.
func goParses(src string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return false
	}
	ok := true
	ast.Inspect(f, func(n ast.Node) bool {
		if fs, isFor := n.(*ast.ForStmt); isFor {
			if as, isAssign := fs.Post.(*ast.AssignStmt); isAssign && as.Tok == token.DEFINE {
				ok = false
			}
		}
		return ok
	})
	return ok
}

// pythonIndentOK checks the lines an edit touches and the next non-blank
// line after them: each indents with the file's character (no tab where
// the file uses spaces, or the reverse); a line indents deeper than the
// one before only after a colon, an open bracket or a backslash, and after
// a colon it must. A document that broke these rules already is let be.
func pythonIndentOK(doc string, start, end int, text string) bool {
	return indentConsistent(doc, start, doc[:start]+text+doc[end:], start+len(text)) ||
		!indentConsistent(doc, start, doc[:start]+doc[end:], start)
}

func indentConsistent(doc string, start int, edited string, editEnd int) bool {
	ls := strings.LastIndexByte(edited[:start], '\n') + 1
	stop := lineEnd(edited, editEnd)
	for stop < len(edited) {
		next := lineEnd(edited, stop)
		blank := strings.TrimSpace(edited[stop:next]) == ""
		stop = next
		if !blank {
			break
		}
	}
	useTabs := detectIndent(doc).tabs
	prevIndent, prevOpens, prevColon := -1, false, false
	for p := ls - 1; p > 0; { // the last non-blank line before the edit
		q := strings.LastIndexByte(edited[:p], '\n') + 1
		if line := edited[q:p]; strings.TrimSpace(line) != "" {
			prevIndent, prevOpens, prevColon = indentWidth(line), opensBlock(line), endsWithColon(line)
			break
		}
		p = q - 1
	}
	for line := range strings.Lines(edited[ls:stop]) {
		body := strings.TrimLeft(line, " \t")
		if strings.TrimSpace(body) == "" {
			continue
		}
		lead := line[:len(line)-len(body)]
		if useTabs && strings.Contains(lead, " ") && !strings.Contains(lead, "\t") || !useTabs && strings.Contains(lead, "\t") {
			return false
		}
		w := indentWidth(line)
		if prevIndent >= 0 && (w > prevIndent && !prevOpens || w <= prevIndent && prevColon) {
			return false
		}
		prevIndent, prevOpens, prevColon = w, opensBlock(line), endsWithColon(line)
	}
	return true
}

// lineEnd is the offset just after the newline that ends the line holding
// offset i (len(s) on the last line).
func lineEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

func endsWithColon(line string) bool {
	return strings.HasSuffix(strings.TrimSpace(stripComment(line)), ":")
}

func stripComment(line string) string {
	if i := strings.IndexByte(line, '#'); i >= 0 && !strings.ContainsAny(line[:i], "'\"") {
		return line[:i]
	}
	return line
}

func indentWidth(line string) int {
	w := 0
	for _, r := range line {
		switch r {
		case ' ':
			w++
		case '\t':
			w += 8
		default:
			return w
		}
	}
	return w
}

// opensBlock: the line (its comment dropped, roughly) ends with a colon,
// a backslash or inside an open bracket, so the next may indent deeper.
func opensBlock(line string) bool {
	t := strings.TrimSpace(stripComment(line))
	return strings.HasSuffix(t, ":") || strings.HasSuffix(t, "\\") || balance(t) > 0 ||
		strings.Count(t, `"""`)%2 == 1 || strings.Count(t, "'''")%2 == 1
}
