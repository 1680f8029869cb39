package infill

import (
	"go/scanner"
	"go/token"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The scope check: a fill may use a name only if it is a builtin, a name
// the fill itself declares, or a name the document (outside the fill) or
// the cross-file context spells somewhere in its code. It is lenient (a
// name of another function's body counts) because it must judge a window
// of a file, or a file mid-edit, that no compiler would take; what it
// catches is the name that exists nowhere near: `c.port = v` copied from
// another file into a method with no c.

// scopeCheck runs the scope check for lang ("go" or "python").
// words, when non-nil, remembers the document's names across the fills
// of one request.
func scopeCheck(lang, path, doc string, start, end int, text, extra string, names nameSource, words *wordMemo) compileVerdict {
	used, declared := fillNames(lang, text)
	if len(used) == 0 {
		return compileVerdict{method: checkedScope, ok: true}
	}
	if words == nil {
		words = &wordMemo{}
	}
	known := words.around(lang, doc, start, end, extra)
	builtins := goBuiltins
	if lang == "python" {
		builtins = pythonBuiltins
	}
	for _, n := range used {
		if declared[n] || known[n] || builtins[n] || n == "_" {
			continue
		}
		if names != nil && names.Defines(path, n) {
			continue
		}
		return compileVerdict{method: checkedScope, why: "undefined: " + n}
	}
	return compileVerdict{method: checkedScope, ok: true}
}

// A wordMemo holds the names the scope check finds around one hole of
// one document: every candidate of a request fills the same hole, and
// lexing a large document once per candidate cost more than the rest of
// the completion. It is a docState's, used by one request at a time.
type wordMemo struct {
	lang, extra string
	doc         string
	start, end  int
	known       map[string]bool
}

// around returns the identifiers of doc outside [start, end) and every
// word of extra (comments of the document's language), computing them
// once per hole.
func (m *wordMemo) around(lang, doc string, start, end int, extra string) map[string]bool {
	if m.known != nil && m.lang == lang && m.start == start && m.end == end && m.extra == extra && m.doc == doc {
		return m.known
	}
	known := codeWords(lang, doc[:start])
	for w := range codeWords(lang, doc[end:]) {
		known[w] = true
	}
	for w := range identWords(extra) {
		known[w] = true
	}
	*m = wordMemo{lang: lang, extra: extra, doc: doc, start: start, end: end, known: known}
	return known
}

// A lexeme is one token of code for the scope check: an identifier
// (ident), a keyword or an operator/punctuation (its text).
type lexeme struct {
	text  string
	ident bool
}

// lexCode splits code into lexemes, strings and comments dropped. For Go
// it is go/scanner; for Python a small scanner that knows its strings and
// comments.
func lexCode(lang, code string) []lexeme {
	if lang == "go" {
		return lexGo(code)
	}
	return lexPython(code)
}

func lexGo(code string) []lexeme {
	var s scanner.Scanner
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(code))
	s.Init(f, []byte(code), func(token.Position, string) {}, 0)
	var out []lexeme
	for {
		_, tok, lit := s.Scan()
		switch {
		case tok == token.EOF:
			return out
		case tok == token.IDENT:
			out = append(out, lexeme{text: lit, ident: true})
		case tok == token.SEMICOLON && lit == "\n":
			out = append(out, lexeme{text: "\n"})
		case tok.IsLiteral() || tok == token.COMMENT:
			out = append(out, lexeme{text: "lit"})
		default:
			out = append(out, lexeme{text: tok.String()})
		}
	}
}

func lexPython(code string) []lexeme {
	var out []lexeme
	for i := 0; i < len(code); {
		c := code[i]
		switch {
		case c == '#':
			for i < len(code) && code[i] != '\n' {
				i++
			}
		case c == '\n':
			out = append(out, lexeme{text: "\n"})
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\\':
			i++
		case c == '"' || c == '\'':
			i = skipPyString(code, i)
			out = append(out, lexeme{text: "lit"})
		case c >= '0' && c <= '9':
			for i < len(code) && (isWordByte(code[i]) || code[i] == '.') {
				i++
			}
			out = append(out, lexeme{text: "lit"})
		case isWordByte(c) || c >= utf8.RuneSelf:
			j := i
			for j < len(code) {
				r, n := utf8.DecodeRuneInString(code[j:])
				if !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
					break
				}
				j += n
			}
			if j == i { // a rune that is no letter
				_, n := utf8.DecodeRuneInString(code[i:])
				i += n
				continue
			}
			w := code[i:j]
			if j < len(code) && (code[j] == '"' || code[j] == '\'') && len(w) <= 3 && strings.Trim(strings.ToLower(w), "rbfu") == "" {
				i = skipPyString(code, j) // a prefixed string: r"…", f'…'
				out = append(out, lexeme{text: "lit"})
				continue
			}
			out = append(out, lexeme{text: w, ident: !pythonKeywords[w]})
			i = j
		default:
			op := code[i : i+1]
			if i+1 < len(code) && strings.Contains("=!<>:+-*/%&|^", op) && code[i+1] == '=' {
				op = code[i : i+2]
			}
			out = append(out, lexeme{text: op})
			i += len(op)
		}
	}
	return out
}

// skipPyString returns the offset after the string literal at i (a quote).
func skipPyString(code string, i int) int {
	q := code[i : i+1]
	if strings.HasPrefix(code[i:], q+q+q) {
		q = q + q + q
	}
	j := i + len(q)
	for j < len(code) {
		switch {
		case code[j] == '\\':
			j += 2
			continue
		case strings.HasPrefix(code[j:], q):
			return j + len(q)
		case code[j] == '\n' && len(q) == 1:
			return j
		}
		j++
	}
	return len(code)
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// codeWords is every identifier of code, strings and comments aside.
func codeWords(lang, code string) map[string]bool {
	out := map[string]bool{}
	for _, l := range lexCode(lang, code) {
		if l.ident {
			out[l.text] = true
		}
	}
	return out
}

// identWords is every identifier-shaped word of text.
func identWords(text string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) }) {
		out[w] = true
	}
	return out
}

// fillNames returns the names a fill uses from its surroundings (in
// order) and the names it declares itself.
func fillNames(lang, text string) (used []string, declared map[string]bool) {
	lx := lexCode(lang, text)
	declared = map[string]bool{}
	skip := map[int]bool{} // lexemes that are no use of a name
	if lang == "go" {
		goDeclared(lx, declared, skip)
	} else {
		pythonDeclared(lx, declared, skip)
	}
	for i, l := range lx {
		if !l.ident || skip[i] || i > 0 && lx[i-1].text == "." {
			continue
		}
		used = append(used, l.text)
	}
	return used, declared
}

// goDeclared marks the names a Go fill declares: left of :=, after var,
// const and type, and every name of a func signature; names before a
// colon (keys, labels) and after goto, break and continue are no uses.
func goDeclared(lx []lexeme, declared map[string]bool, skip map[int]bool) {
	for i, l := range lx {
		switch l.text {
		case ":=":
			for j := i - 1; j >= 0 && (lx[j].ident || lx[j].text == ","); j-- {
				if lx[j].ident {
					declared[lx[j].text] = true
				}
			}
		case "var", "const", "type":
			if i+1 < len(lx) && lx[i+1].ident {
				declared[lx[i+1].text] = true
				for j := i + 2; j+1 < len(lx) && lx[j].text == "," && lx[j+1].ident; j += 2 {
					declared[lx[j+1].text] = true
				}
			}
		case "func":
			for j := i + 1; j < len(lx) && lx[j].text != "{" && lx[j].text != "\n"; j++ {
				if lx[j].ident {
					declared[lx[j].text] = true
				}
			}
		case "struct", "interface":
			for j := i + 2; j < len(lx) && lx[j].text != "}"; j++ {
				if p := lx[j-1].text; lx[j].ident && (p == "{" || p == ";" || p == "\n" || p == ",") {
					declared[lx[j].text] = true // a field or method name
				}
			}
		case ":":
			if i > 0 && lx[i-1].ident {
				skip[i-1] = true
			}
		case "goto", "break", "continue":
			if i+1 < len(lx) && lx[i+1].ident {
				skip[i+1] = true
			}
		}
	}
}

// pythonDeclared marks the names a Python fill declares: assignment
// targets, loop and with/except targets, imports, def and class names and
// parameters, lambda parameters, global and nonlocal; keyword arguments
// are no uses.
func pythonDeclared(lx []lexeme, declared map[string]bool, skip map[int]bool) {
	lineStart, depth := 0, 0
	for i, l := range lx {
		switch l.text {
		case "\n":
			lineStart = i + 1
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case "=", ":=":
			if depth > 0 && l.text == "=" {
				if i > 0 && lx[i-1].ident && i > 1 && (lx[i-2].text == "(" || lx[i-2].text == ",") {
					skip[i-1] = true // a keyword argument
				}
				continue
			}
			for j := lineStart; j < i; j++ {
				if lx[j].ident && (j == 0 || lx[j-1].text != ".") {
					declared[lx[j].text] = true
				}
			}
			if l.text == ":=" && i > 0 && lx[i-1].ident {
				declared[lx[i-1].text] = true
			}
		case "for", "as", "global", "nonlocal", "class":
			for j := i + 1; j < len(lx) && (lx[j].ident || lx[j].text == "," || lx[j].text == "(" || lx[j].text == ")"); j++ {
				if lx[j].ident {
					declared[lx[j].text] = true
				}
				if l.text == "class" || l.text == "as" {
					break
				}
			}
		case "import":
			for j := i + 1; j < len(lx) && lx[j].text != "\n"; j++ {
				if lx[j].ident && lx[j-1].text != "." {
					declared[lx[j].text] = true
				}
			}
		case "def", "lambda":
			for j := i + 1; j < len(lx) && lx[j].text != ":" && lx[j].text != "\n"; j++ {
				if lx[j].ident && (lx[j-1].text == l.text || lx[j-1].text == "(" || lx[j-1].text == "," || lx[j-1].text == "*" || lx[j-1].text == "**") {
					declared[lx[j].text] = true
				}
			}
		case "from":
			if i+1 < len(lx) && lx[i+1].ident {
				skip[i+1] = true // the module: declared by nothing, bound by nothing
				for j := i + 2; j+1 < len(lx) && lx[j].text == "."; j += 2 {
					skip[j+1] = true
				}
			}
		}
	}
}

var goBuiltins = wordSet("append cap clear close complex copy delete imag len make max min new panic print println real recover " +
	"bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune string " +
	"uint uint8 uint16 uint32 uint64 uintptr any true false iota nil")

var pythonKeywords = wordSet("False None True and as assert async await break class continue def del elif else except " +
	"finally for from global if import in is lambda nonlocal not or pass raise return try while with yield")

var pythonBuiltins = wordSet("ArithmeticError AssertionError AttributeError BaseException BaseExceptionGroup BlockingIOError " +
	"BrokenPipeError BufferError BytesWarning ChildProcessError ConnectionAbortedError ConnectionError ConnectionRefusedError " +
	"ConnectionResetError DeprecationWarning EOFError Ellipsis EncodingWarning EnvironmentError Exception ExceptionGroup " +
	"FileExistsError FileNotFoundError FloatingPointError FutureWarning GeneratorExit IOError ImportError ImportWarning " +
	"IndentationError IndexError InterruptedError IsADirectoryError KeyError KeyboardInterrupt LookupError MemoryError " +
	"ModuleNotFoundError NameError NotADirectoryError NotImplemented NotImplementedError OSError OverflowError " +
	"PendingDeprecationWarning PermissionError ProcessLookupError RecursionError ReferenceError ResourceWarning RuntimeError " +
	"RuntimeWarning StopAsyncIteration StopIteration SyntaxError SyntaxWarning SystemError SystemExit TabError TimeoutError " +
	"TypeError UnboundLocalError UnicodeDecodeError UnicodeEncodeError UnicodeError UnicodeTranslateError UnicodeWarning " +
	"UserWarning ValueError Warning ZeroDivisionError abs aiter all anext any ascii bin bool breakpoint bytearray bytes " +
	"callable chr classmethod compile complex copyright credits delattr dict dir divmod enumerate eval exec exit filter " +
	"float format frozenset getattr globals hasattr hash help hex id input int isinstance issubclass iter len license list " +
	"locals map max memoryview min next object oct open ord pow print property quit range repr reversed round set setattr " +
	"slice sorted staticmethod str sum super tuple type vars zip self cls match case " +
	"__name__ __file__ __doc__ __spec__ __loader__ __package__ __builtins__ __debug__ __class__ __all__ __dict__")

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
