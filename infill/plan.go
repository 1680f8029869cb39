package infill

import (
	"strings"

	"github.com/dfim/dfim/infill/syntax"
)

// A shape is how much text a hole is planned to take.
type shape int

const (
	shapeLine  shape = iota // the rest of one line
	shapeBlock              // several lines
)

func (s shape) String() string {
	if s == shapeBlock {
		return "block"
	}
	return "line"
}

// A plan is the span length and decoding order for one hole.
type plan struct {
	shape  shape
	maxTok int // slots in the hole
	block  int // left-to-right block length (FINDINGS.md: the best default)
	// maxLines is a hole's line limit (Hole.MaxLines); 0 = none. The token
	// budget only sizes the canvas: the fill is cut to this many lines.
	maxLines int
	// strict: a hole of FillHoles, whose fill is applied unseen (batch,
	// the editor's Fill Holes): one that would not compile is dropped.
	strict bool
}

// Planned span lengths: a line inside an expression is short, the rest of
// a line a little longer, a block several lines.
const (
	midLineTokens  = 16
	restLineTokens = 24
	blockTokens    = 64
	lineBlock      = 4
	blockBlock     = 8
)

// planSpan plans the hole [start, end) of text from the cursor's line and
// the syntax node there: text right of the hole, or code left of it on
// its line, means one line; an empty line inside a block means a block,
// unless the cursor is in a comment or a string or the suggestion is
// shown unasked. Options override.
func planSpan(text string, start, end int, node syntax.Node, opts Options) plan {
	return planShape(text, start, end, node, opts, true)
}

// planShape is planSpan; a hole of FillHoles (cursor false) gets a block
// on any blank line: the user marked it, a block is plausible anywhere.
func planShape(text string, start, end int, node syntax.Node, opts Options, cursor bool) plan {
	ls := strings.LastIndexByte(text[:start], '\n') + 1
	le := len(text)
	if i := strings.IndexByte(text[end:], '\n'); i >= 0 {
		le = end + i
	}
	before, after := text[ls:start], text[end:le]
	p := plan{shape: shapeLine, maxTok: restLineTokens}
	switch {
	case strings.TrimSpace(after) != "" && strings.Trim(after, closers+" \t\r;,") != "":
		p.maxTok = midLineTokens
	case strings.TrimSpace(before) != "":
	case node.Has("comment", "line_comment", "block_comment", "string", "string_literal",
		"interpreted_string_literal", "raw_string_literal", "string_content", "heredoc_body"):
	case cursor && !blockPlausible(text, ls, le):
	case cursor && unasked(opts):
		// Shown unasked, a block is almost never what the user types
		// next: on dev, 1 of 22 blocks the built-in model offered was
		// right, and 14 of them stood where one line was due (a body's
		// last statement looks like a blank line where a block could
		// go). One line is planned; a block is for the user who asks.
	default:
		p = plan{shape: shapeBlock, maxTok: blockTokens}
	}
	switch opts.Shape {
	case "line":
		p = plan{shape: shapeLine, maxTok: restLineTokens}
	case "block":
		p = plan{shape: shapeBlock, maxTok: blockTokens}
	}
	p.block = lineBlock
	if p.shape == shapeBlock {
		p.block = blockBlock
	}
	if opts.MaxTokens > 0 {
		p.maxTok = opts.MaxTokens
	}
	if opts.Block > 0 {
		p.block = opts.Block
	}
	return p
}

// unasked reports whether opts are those of a suggestion the user did
// not ask for (an editor's inline completion as they type): a confidence
// gate or the show/hide filter is set.
func unasked(opts Options) bool { return opts.MinConfidence > 0 || opts.ShowThreshold > 0 }

// blockPlausible reports whether a block may go on the blank line [ls,
// le) of text: where a body ends, the next non-blank line closes it
// (starts with a closer or `return`, or indents less than the cursor's
// line) or there is none. Before a line of the same depth (between two
// statements, or before a body's first statement) one line is due, and
// before a deeper one (a body with no head yet) the one line that opens it.
func blockPlausible(text string, ls, le int) bool {
	cursor := indentWidth(text[ls:le])
	for l := range strings.Lines(text[min(le+1, len(text)):]) {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		w := indentWidth(l)
		closes := strings.ContainsAny(t[:1], ")]}") || strings.HasPrefix(t, "return") || strings.HasPrefix(t, "end")
		return w < cursor || w == cursor && closes
	}
	return true // the end of the file
}

// planHole plans a hole of FillHoles: its line hint wins over the cursor.
func planHole(text string, h Hole, node syntax.Node, opts Options) plan {
	p := planShape(text, h.Start, h.Start, node, opts, false)
	p.maxLines = max(h.MaxLines, 0)
	p.strict = true
	switch {
	case h.MaxLines == 1 && opts.Shape == "":
		p.shape, p.block = shapeLine, lineBlock
		if opts.MaxTokens <= 0 {
			p.maxTok = restLineTokens
		}
	case h.MaxLines > 1 && opts.Shape == "":
		p.shape, p.block = shapeBlock, blockBlock
		if opts.MaxTokens <= 0 {
			p.maxTok = min(16*h.MaxLines, 256)
		}
	}
	if opts.Block > 0 {
		p.block = opts.Block
	}
	return p
}
