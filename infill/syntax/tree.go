package syntax

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	sitter "github.com/smacker/go-tree-sitter"
)

// A Tree is a parsed snapshot of one text. It is not safe for concurrent
// use; Close it when done (it holds C memory).
type Tree struct {
	lang *Language
	text string
	t    *sitter.Tree
	errs []Error // computed on first use
	done bool    // errs computed
	// brackets holds, per edited line range, the bracket count's state
	// before those lines and the summary of the text after them, so each
	// candidate's count scans only its own lines (bracketsAround).
	brackets map[[2]int]*bracketCut
}

// A bracketCut splits the text around the lines [ws, we) of an edit for
// counting unmatched brackets: the scan of text[:ws], the summary of
// text[we:], and the whole text's count. ok is false when the cut falls
// inside a string or comment; then candidates are counted whole.
type bracketCut struct {
	prefix *bracketScan
	tail   bracketTail
	before int
	ok     bool
}

// An Error is an ERROR or MISSING node of a tree: bytes [Start, End) of the text.
type Error struct {
	Start, End int
	Missing    bool   // a MISSING node (the parser inserted an expected token)
	Node       string // MISSING: the node type that was expected, e.g. "}"
}

func (e Error) String() string {
	if e.Missing {
		return fmt.Sprintf("MISSING %q at %d", e.Node, e.Start)
	}
	return fmt.Sprintf("ERROR %d-%d", e.Start, e.End)
}

// Parse parses text from scratch.
func (l *Language) Parse(ctx context.Context, text string) (*Tree, error) {
	return l.parse(ctx, nil, text)
}

func (l *Language) parse(ctx context.Context, old *sitter.Tree, text string) (*Tree, error) {
	t, err := l.parseWith(ctx, old, []byte(text))
	if err != nil {
		return nil, fmt.Errorf("syntax: parsing %d bytes of %s: %w", len(text), l.Name, err)
	}
	return &Tree{lang: l, text: text, t: t}, nil
}

// Close frees the tree's C memory. A closed tree must not be used.
func (t *Tree) Close() {
	if t != nil && t.t != nil {
		t.t.Close()
		t.t = nil
	}
}

// Text is the text the tree was parsed from.
func (t *Tree) Text() string { return t.text }

// Language is the tree's grammar.
func (t *Tree) Language() *Language { return t.lang }

// HasErrors reports whether the tree holds any ERROR or MISSING node.
func (t *Tree) HasErrors() bool { return t.t.RootNode().HasError() }

// Errors lists the tree's ERROR and MISSING nodes in document order. An
// ERROR node's own children are not listed. The walk enters only subtrees
// that hold an error, in C (treeErrors): walking by Node.Child(i), which
// starts from the first child each time, made a document with an error
// and thousands of top-level declarations cost their square.
func (t *Tree) Errors() []Error {
	if !t.done {
		t.errs = treeErrors(t.t)
		t.done = true
	}
	return t.errs
}

// Replace returns the tree of the text with bytes [start, end) replaced by
// repl, parsed incrementally from t (t itself is unchanged).
func (t *Tree) Replace(ctx context.Context, start, end int, repl string) (*Tree, error) {
	if start < 0 || end < start || end > len(t.text) {
		return nil, fmt.Errorf("syntax: edit %d-%d is outside the %d-byte text", start, end, len(t.text))
	}
	newText := t.text[:start] + repl + t.text[end:]
	c := t.t.Copy()
	defer c.Close()
	sp := pointAt(t.text, start)
	editTree(c, uint32(start), uint32(end), uint32(start+len(repl)),
		sp, pointAt(t.text, end), advance(sp, repl))
	return t.lang.parse(ctx, c, newText)
}

// Reparse returns the tree of newText, parsed incrementally from t as one
// edit spanning the bytes where the two texts differ.
func (t *Tree) Reparse(ctx context.Context, newText string) (*Tree, error) {
	pre := commonPrefix(t.text, newText)
	suf := commonSuffix(t.text[pre:], newText[pre:])
	return t.Replace(ctx, pre, len(t.text)-suf, newText[pre:len(newText)-suf])
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

func commonSuffix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}

// pointAt is tree-sitter's (row, byte column) of byte offset off.
func pointAt(text string, off int) sitter.Point {
	row := strings.Count(text[:off], "\n")
	col := off
	if i := strings.LastIndexByte(text[:off], '\n'); i >= 0 {
		col = off - i - 1
	}
	return sitter.Point{Row: uint32(row), Column: uint32(col)}
}

// advance is the point after inserting s at p.
func advance(p sitter.Point, s string) sitter.Point {
	n := strings.Count(s, "\n")
	if n == 0 {
		return sitter.Point{Row: p.Row, Column: p.Column + uint32(len(s))}
	}
	return sitter.Point{Row: p.Row + uint32(n), Column: uint32(len(s) - strings.LastIndexByte(s, '\n') - 1)}
}

// A Check is the verdict on one candidate edit of a document.
type Check struct {
	Valid bool
	// Added are the error nodes of the edited text that the document
	// without the edit does not have (offsets in the edited text).
	Added []Error
	// Errors is the edited text's error count; Before the document's.
	Errors, Before int
}

// Check parses the document with bytes [start, end) replaced by repl and
// compares its error nodes with the document's. The candidate is valid when
// it adds none. Where the document already has errors, an error that
// starts on the cursor's line or later and overlaps the edit is the user's
// unfinished text and the candidate must fix it; an error that encloses the
// edit from an earlier line may persist in a changed shape; an error away
// from the edit must stay as it was, or, when it vanished, may be replaced
// by no more new errors within its enclosing node.
func (t *Tree) Check(ctx context.Context, start, end int, repl string) (Check, error) {
	if err := ctx.Err(); err != nil { // a request that has ended checks nothing more
		return Check{}, err
	}
	nt, err := t.Replace(ctx, start, end, repl)
	if err != nil {
		return Check{}, err
	}
	defer nt.Close()
	c := t.compare(nt, start, end, len(repl))
	if c.Valid && c.Before > 0 {
		if before, after := t.bracketsAround(start, end, repl, nt); after > before {
			c.Valid = false
			c.Added = append(c.Added, Error{Start: start, End: start + len(repl), Node: "unbalanced brackets"})
		}
	}
	return c, nil
}

// bracketsAround counts the unmatched brackets of the text before and
// after replacing [start, end) with repl (nt's text), scanning only the
// lines the edit touches: the rest was summed up once per edited range,
// so a large document costs each candidate its own lines.
func (t *Tree) bracketsAround(start, end int, repl string, nt *Tree) (before, after int) {
	lang := t.lang.Name
	ws := strings.LastIndexByte(t.text[:start], '\n') + 1
	we := len(t.text)
	if i := strings.IndexByte(t.text[end:], '\n'); i >= 0 {
		we = end + i + 1
	}
	key := [2]int{ws, we}
	cut := t.brackets[key]
	if cut == nil {
		cut = &bracketCut{prefix: newBracketScan(lang)}
		cut.prefix.scan(t.text[:ws])
		var tailOK bool
		cut.tail, tailOK = tailOf(t.text[we:], lang)
		if cut.ok = !cut.prefix.overran && tailOK; cut.ok {
			w := *cut.prefix
			w.stack = append([]byte(nil), w.stack...)
			w.scan(t.text[ws:we])
			cut.ok = !w.overran
			cut.before = w.total(cut.tail)
		}
		if !cut.ok {
			cut.before = unmatchedBrackets(t.text, lang)
		}
		if t.brackets == nil {
			t.brackets = map[[2]int]*bracketCut{}
		}
		t.brackets[key] = cut
	}
	if cut.ok {
		w := *cut.prefix
		w.stack = append([]byte(nil), w.stack...)
		w.scan(t.text[ws:start] + repl + t.text[end:we])
		if !w.overran { // else the candidate opened a string or comment: count whole
			return cut.before, w.total(cut.tail)
		}
	}
	return cut.before, unmatchedBrackets(nt.text, lang)
}

// compare maps the old errors through the edit and matches them with nt's.
func (t *Tree) compare(nt *Tree, start, end, replLen int) Check {
	old := t.Errors()
	if !nt.HasErrors() {
		return Check{Valid: true, Before: len(old)}
	}
	delta := replLen - (end - start)
	newEnd := start + replLen
	// The cursor's lines: errors starting there are the user's unfinished
	// text, which the candidate must fix.
	lineStart := strings.LastIndexByte(t.text[:start], '\n') + 1
	lineEnd := len(t.text)
	if i := strings.IndexByte(t.text[end:], '\n'); i >= 0 {
		lineEnd = end + i
	}
	type key struct {
		start, end int
		missing    bool
		node       string
	}
	mapped := map[key]int{} // old errors away from the edit, in new offsets
	var enclosing int       // old errors enclosing the edit from an earlier line
	for _, e := range old {
		switch {
		case e.Start >= lineStart && e.Start <= lineEnd:
			// the user's unfinished text: not carried over
		case e.End < start || (e.End == start && e.Start < start):
			mapped[key{e.Start, e.End, e.Missing, e.Node}]++
		case e.Start > end || (e.Start == end && e.End > end):
			mapped[key{e.Start + delta, e.End + delta, e.Missing, e.Node}]++
		case e.Start < lineStart && e.End > end:
			enclosing++
		}
	}
	errs := nt.Errors()
	c := Check{Errors: len(errs), Before: len(old)}
	var added []Error
	for _, e := range errs {
		k := key{e.Start, e.End, e.Missing, e.Node}
		switch {
		case mapped[k] > 0:
			mapped[k]--
		case enclosing > 0 && e.Start < start && e.End >= newEnd:
			enclosing-- // the enclosing error, changed shape
		default:
			added = append(added, e)
		}
	}
	if len(added) == 0 {
		c.Valid = true
		return c
	}
	// Errors away from the edit that vanished may come back reshaped, no
	// more of them, within the node that encloses them.
	vanished := 0
	zs, ze := len(nt.text), 0
	for k, n := range mapped {
		if n > 0 {
			vanished += n
			zs, ze = min(zs, k.start), max(ze, k.end)
		}
	}
	if vanished >= len(added) {
		zs, ze = nt.enclosing(zs, ze)
		inZone := true
		for _, e := range added {
			if e.Start < zs || e.End > ze {
				inZone = false
			}
		}
		if inZone {
			c.Valid = true
			return c
		}
	}
	c.Added = added
	return c
}

// enclosing is the byte range of the smallest node holding [start, end).
func (t *Tree) enclosing(start, end int) (int, int) {
	n := t.t.RootNode().NamedDescendantForPointRange(pointAt(t.text, start), pointAt(t.text, end))
	if n == nil {
		return 0, len(t.text)
	}
	if p := n.Parent(); p != nil { // the node's parent: its statement or block
		n = p
	}
	return int(n.StartByte()), int(n.EndByte())
}

// TopLevel returns the byte range [ws, we) of the top-level nodes (a
// declaration, a statement, an error) that the range [start, end] touches,
// and head, where the file's head ends: its package clause, imports and
// the comments up to the first other node. Where [start, end] touches none, [ws, we) is
// [start, end). A checker can judge an edit on head and [ws, we) alone,
// at a cost independent of the document's size: the cursor finds the
// first node by descending the tree, not by walking all its siblings.
func (t *Tree) TopLevel(start, end int) (ws, we, head int) {
	root := t.t.RootNode()
	c := sitter.NewTreeCursor(root)
	defer c.Close()
	if c.GoToFirstChild() {
		for {
			if n := c.CurrentNode(); n.IsNamed() { // not a terminator
				if ty := n.Type(); ty != "package_clause" && ty != "import_declaration" && ty != "comment" {
					break
				}
				head = int(n.EndByte())
			}
			if !c.GoToNextSibling() {
				break
			}
		}
	}
	ws, we = start, end
	c.Reset(root)
	if c.GoToFirstChildForByte(uint32(max(start-1, 0))) < 0 {
		return ws, we, head
	}
	for {
		n := c.CurrentNode()
		ns, ne := int(n.StartByte()), int(n.EndByte())
		if ns > end {
			break
		}
		if ne >= start {
			ws, we = min(ws, ns), max(we, ne)
		}
		if !c.GoToNextSibling() {
			break
		}
	}
	return ws, we, head
}

// A Node describes the syntax at a cursor for span planning.
type Node struct {
	Type      string   // innermost node type at the cursor ("" when none)
	Ancestors []string // enclosing node types, innermost first
	Start     int      // byte range of the innermost node
	End       int
}

// Has reports whether the node or one of its ancestors has one of types.
func (n Node) Has(types ...string) bool {
	for _, t := range types {
		if n.Type == t {
			return true
		}
		for _, a := range n.Ancestors {
			if a == t {
				return true
			}
		}
	}
	return false
}

// NodeAt describes the innermost node (named or not) at byte offset pos.
func (t *Tree) NodeAt(pos int) Node {
	if pos < 0 || pos > len(t.text) {
		return Node{}
	}
	p := pointAt(t.text, pos)
	n := t.t.RootNode().NamedDescendantForPointRange(p, p)
	if n == nil {
		return Node{}
	}
	out := Node{Type: n.Type(), Start: int(n.StartByte()), End: int(n.EndByte())}
	for a := n.Parent(); a != nil; a = a.Parent() {
		out.Ancestors = append(out.Ancestors, a.Type())
	}
	return out
}

// Point converts a byte offset of the tree's text to a 0-based line and a
// 0-based column in runes, for messages.
func (t *Tree) Point(off int) (line, col int) {
	p := pointAt(t.text, off)
	ls := off - int(p.Column)
	return int(p.Row), utf8.RuneCountInString(t.text[ls:off])
}

// Clone returns an independent handle on the same tree (tree-sitter shares
// the nodes), for use on another goroutine or after t is closed.
func (t *Tree) Clone() (*Tree, error) {
	if t.t == nil {
		return nil, fmt.Errorf("syntax: cloning a closed tree")
	}
	return &Tree{lang: t.lang, text: t.text, t: t.t.Copy(), errs: t.errs, done: t.done}, nil
}
