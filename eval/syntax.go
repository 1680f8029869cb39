package eval

import (
	"context"

	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/infill/syntax"
)

// A SyntaxChecker tells whether inserting text at byte pos of doc, a
// document at path in lang, parses with no errors the document did not
// already have. checked is false when it has no grammar for the language.
type SyntaxChecker func(lang, path, doc string, start, end int, text string) (valid, checked bool)

// SyntaxValid checks a task's suggestion with c: the whole text
// prefix + suggestion + suffix against the document the editor had,
// prefix + suffix — the "no new errors" promise the infill pipeline makes
// for what it returns, judged by the same rules (infill/syntax's Check).
func SyntaxValid(c SyntaxChecker, t *Task, suggestion string) (valid, checked bool) {
	return c(t.Lang, t.Path, t.Prefix+t.Suffix, len(t.Prefix), len(t.Prefix), suggestion)
}

// DefaultSyntax checks with tree-sitter through infill/syntax and the
// language's own judge (infill.LanguageAccepts), as infill does.
func DefaultSyntax() SyntaxChecker { return treeSitterCheck }

func treeSitterCheck(lang, path, doc string, start, end int, text string) (valid, checked bool) {
	g := syntax.Lookup(syntax.Detect(lang, path))
	if g == nil {
		return false, false
	}
	ctx := context.Background()
	tree, err := g.Parse(ctx, doc)
	if err != nil {
		return false, false
	}
	defer tree.Close()
	c, err := tree.Check(ctx, start, end, text)
	if err != nil {
		return false, false
	}
	return c.Valid && infill.LanguageAccepts(syntax.Detect(lang, path), doc, start, end, text), true
}
