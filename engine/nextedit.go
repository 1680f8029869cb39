package engine

import "context"

// A NextEditRequest asks an engine with its own next-edit model for the
// edit that follows the user's recent ones in one document.
type NextEditRequest struct {
	Path string // the document's path, as the model is shown it
	Text string // the document now
	// RegionStart and RegionEnd bound the editable region of Text, in
	// bytes: the engine rewrites that and nothing else. Cursor, in the
	// region, is where the user is.
	RegionStart, RegionEnd, Cursor int
	// History is the user's recent edits as unified diffs of Path, oldest
	// first.
	History []string
	// Snippets are code the user has open or viewed recently.
	Snippets []Snippet
}

// A Snippet is a piece of code from another file, with that file's path.
type Snippet struct {
	Path, Text string
}

// A NextEditor is an engine that predicts next edits itself (Inception's
// Mercury Edit behind the inception engine); infill finds it by type
// assertion and asks it instead of re-masking candidate places. NextEdit
// returns the editable region rewritten: the region unchanged means no
// edit.
type NextEditor interface {
	NextEdit(ctx context.Context, req NextEditRequest) (string, error)
}
