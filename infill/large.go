package infill

import (
	"context"

	"github.com/dfim/dfim/infill/syntax"
)

// Large documents: a completion checks several candidates (and their
// truncations and repairs) against one document snapshot, so a check must
// cost in proportion to the candidate, not to the document, or a 1 MB file
// takes the request's whole timeout. The tree-sitter check reparses
// incrementally (syntax.Tree.Check); what is here keeps the rest of a
// check local and does each distinct check once.

// checkKey names one candidate check: [start, end) replaced by text.
type checkKey struct {
	start, end int
	text       string
}

// A checkMemo holds a request's verdicts, so that a candidate checked
// again (a duplicate fill, the same truncation of two fills) costs a
// lookup. Errors are not kept: a cancelled check is not a verdict.
type checkMemo map[checkKey]syntax.Check

// checkOnce is docState.check's work, done once per distinct candidate.
func (d *docState) checkOnce(ctx context.Context, start, end int, text string) (syntax.Check, error) {
	k := checkKey{start, end, text}
	if chk, ok := d.checks[k]; ok {
		return chk, nil
	}
	chk, err := d.tree.Check(ctx, start, end, text)
	if err != nil {
		return chk, err
	}
	if chk.Valid && !d.languageAccepts(start, end, text) {
		chk.Valid = false
	}
	if d.checks == nil {
		d.checks = checkMemo{}
	}
	d.checks[k] = chk
	return chk, nil
}

// languageAccepts is LanguageAccepts on the part of the document the edit
// touches. For Go, go/parser judges the file's head (package clause and
// imports) and the top-level declarations the edit touches, not the whole
// file: what else the file holds does not change whether they parse.
// (A document broken elsewhere thus no longer excuses a fill that breaks
// its own declaration.)
func (d *docState) languageAccepts(start, end int, text string) bool {
	if d.lang != "go" || d.tree == nil {
		return LanguageAccepts(d.lang, d.text, start, end, text)
	}
	ws, we, head := d.tree.TopLevel(start, end)
	if ws < head || ws == start && we == end {
		// An edit of the head, or one no top-level node reaches (an
		// unfinished `var v = ` at the end of the file is no node of its
		// own): only the whole file can judge it.
		return LanguageAccepts(d.lang, d.text, start, end, text)
	}
	part := d.text[:head] + "\n" + d.text[ws:we]
	shift := head + 1 - ws
	return LanguageAccepts(d.lang, part, start+shift, end+shift, text)
}
