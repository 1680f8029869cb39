package batch

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/dfim/dfim/infill"
)

// A Fill is one hole's fill as dfim writes it: bytes [Start, End) of the
// document become Text.
type Fill struct {
	Hole       int // index of the hole
	Start, End int
	Text       string
}

// A Refusal is a hole left as it is, and why.
type Refusal struct {
	Hole int
	Why  string
}

// Judge decides which of the suggestions the completer gave for holes of
// text (a document in language lang, "" when unknown) are written: it is
// the one judge of `dfim batch` and of the editor's Fill Holes command.
// The completer has already checked each fill's syntax; Judge refuses
//   - a hole without a fill (the completer's reason is kept);
//   - a fill whose range is outside the document or overlaps an earlier
//     fill's;
//   - a fill of symbols only that is no code (`// := := :=`, `:= := :=`):
//     a comment or more than two tokens, none with a letter or digit, not
//     counting brackets, quotes and separators (`}`, `)`, `==` pass);
//   - in Go, a fill declaring at the top level a function, method or type
//     the rest of the file (or an earlier fill) declares already: a second
//     `func main() {}` parses, but does not compile.
//
// Fills come in document order; so do refusals.
func Judge(lang, text string, holes []infill.Hole, sugs []infill.Suggestion) ([]Fill, []Refusal) {
	var fills []Fill
	var refused []Refusal
	var declared map[string]bool
	if lang == "go" {
		var rest strings.Builder // the document outside its holes
		prev := 0
		for _, h := range holes {
			if h.Start >= prev && h.End <= len(text) && h.Start <= h.End {
				rest.WriteString(text[prev:h.Start])
				prev = h.End
			}
		}
		rest.WriteString(text[prev:])
		declared = goDecls(rest.String())
	}
	prevEnd := 0
	for i, h := range holes {
		if i >= len(sugs) || sugs[i].Text == "" {
			why := "no syntactically valid fill found"
			if i < len(sugs) && sugs[i].Reason != "" {
				why = sugs[i].Reason
			}
			refused = append(refused, Refusal{i, why})
			continue
		}
		s := sugs[i]
		start, end := h.Start, h.End
		if s.End > s.Start || s.Start != h.Start {
			start, end = s.Start, s.End
		}
		if start < prevEnd || end < start || end > len(text) {
			refused = append(refused, Refusal{i, fmt.Sprintf("the fill's range %d-%d is outside the hole", start, end)})
			continue
		}
		if symbolsOnly(s.Text) {
			refused = append(refused, Refusal{i, fmt.Sprintf("the fill %q is symbols only, no code", clipText(s.Text))})
			continue
		}
		if declared != nil {
			var again []string
			decls := goDecls(s.Text)
			for d := range decls {
				if declared[d] {
					again = append(again, d)
				}
			}
			if len(again) > 0 {
				refused = append(refused, Refusal{i, fmt.Sprintf("the fill declares %s, which the file already has", strings.Join(again, ", "))})
				continue
			}
			for d := range decls {
				declared[d] = true
			}
		}
		prevEnd = end
		fills = append(fills, Fill{Hole: i, Start: start, End: end, Text: s.Text})
	}
	return fills, refused
}

// goDecl matches a top-level Go function, method or type declaration at
// the start of a line: the receiver's type (methods) and the name.
var goDecl = regexp.MustCompile(`(?m)^(?:func[ \t]*\([ \t]*(?:[A-Za-z_]\w*[ \t]+)?\*?[ \t]*([A-Za-z_]\w*)[^)\n]*\)[ \t]*([A-Za-z_]\w*)|func[ \t]+([A-Za-z_]\w*)|type[ \t]+([A-Za-z_]\w*))`)

// goDecls are the top-level names declared in src: "func f", "func T.m",
// "type T". init and _ may be declared more than once and are left out.
func goDecls(src string) map[string]bool {
	out := map[string]bool{}
	for _, m := range goDecl.FindAllStringSubmatch(src, -1) {
		switch {
		case m[2] != "":
			if m[2] != "_" {
				out["func "+m[1]+"."+m[2]] = true
			}
		case m[3] != "":
			if m[3] != "init" && m[3] != "_" {
				out["func "+m[3]] = true
			}
		case m[4] != "" && m[4] != "_":
			out["type "+m[4]] = true
		}
	}
	return out
}

// symbolsOnly reports a fill without a letter or digit that is a comment
// or more than two tokens once brackets, quotes and separators are set
// aside: no code a hole asked for.
func symbolsOnly(text string) bool {
	if strings.IndexFunc(text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
		return false
	}
	n := 0
	for _, tok := range strings.Fields(text) {
		if strings.Trim(tok, "(){}[];,.'\"`") == "" {
			continue
		}
		if strings.HasPrefix(tok, "//") || strings.HasPrefix(tok, "/*") || strings.HasPrefix(tok, "#") || strings.HasPrefix(tok, "--") {
			return true
		}
		n++
	}
	return n > 2
}

// clipText is text for a message: its first 40 bytes.
func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
