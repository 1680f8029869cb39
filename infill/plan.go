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
// unless the cursor is in a comment or a string. Options override.
func planSpan(text string, start, end int, node syntax.Node, opts Options) plan {
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

// planHole plans a hole of FillHoles: its line hint wins over the cursor.
func planHole(text string, h Hole, node syntax.Node, opts Options) plan {
	p := planSpan(text, h.Start, h.Start, node, opts)
	p.maxLines = max(h.MaxLines, 0)
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
