package infill

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dfim/dfim/infill/syntax"
)

// DefaultMarker is the hole marker of dfim batch, the LSP's dfim.fillHoles
// and the HTTP API's "holes".
const DefaultMarker = "<<fill>>"

// A MarkerSyntax finds hole markers: the marker itself, or with a size hint
// "<<fill:3>>" (at most 3 lines) when the marker ends in ">>".
type MarkerSyntax struct {
	re *regexp.Regexp
}

// NewMarkerSyntax compiles a marker such as "<<fill>>".
func NewMarkerSyntax(marker string) (*MarkerSyntax, error) {
	if strings.TrimSpace(marker) == "" || strings.ContainsAny(marker, "\n\r") {
		return nil, fmt.Errorf("marker %q must be non-empty and on one line", marker)
	}
	pat := regexp.QuoteMeta(marker)
	if open, ok := strings.CutSuffix(marker, ">>"); ok && open != "" {
		pat = regexp.QuoteMeta(open) + `(?::(\d+))?` + regexp.QuoteMeta(">>")
	}
	return &MarkerSyntax{re: regexp.MustCompile(pat)}, nil
}

// Holes returns one hole per marker in text: the marker's bytes are replaced.
func (m *MarkerSyntax) Holes(text string) []Hole {
	var holes []Hole
	for _, loc := range m.re.FindAllStringSubmatchIndex(text, -1) {
		h := Hole{Start: loc[0], End: loc[1]}
		if len(loc) >= 4 && loc[2] >= 0 {
			n, err := strconv.Atoi(text[loc[2]:loc[3]])
			if err == nil && n > 0 {
				h.MaxLines = n
			}
		}
		holes = append(holes, h)
	}
	return holes
}

// textNode reports whether a node type is a comment or a string literal
// (of any grammar of the table: comment, line_comment, string_content,
// interpreted_string_literal, raw_string_literal, template_string,
// heredoc_body, char_literal, rune_literal, text_block, regex, …).
func textNode(typ string) bool {
	for _, s := range []string{"comment", "string", "heredoc", "char_literal", "character_literal", "rune_literal", "text_block", "regex"} {
		if strings.Contains(typ, s) {
			return true
		}
	}
	return false
}

// codeInText reports whether a node type is code inside a string: an
// f-string's or template's interpolation, a shell substitution.
func codeInText(typ string) bool {
	for _, s := range []string{"interpolation", "substitution", "expansion"} {
		if strings.Contains(typ, s) {
			return true
		}
	}
	return false
}

// inCode reports whether the node at a marker is code: going outwards from
// the innermost node, code inside a string (an interpolation) comes before
// the string, or no comment or string encloses it at all.
func inCode(n syntax.Node) bool {
	for _, typ := range append([]string{n.Type}, n.Ancestors...) {
		switch {
		case codeInText(typ):
			return true
		case textNode(typ):
			return false
		}
	}
	return true
}

// CodeHoles keeps the marker holes that sit in code of text's syntax tree
// (text in language lang, a syntax.Detect name) and returns how many it
// left out (in comments or strings). A language without a grammar keeps
// them all. Each marker is parsed as an identifier
// of its length, so the tree around it is the code's, not an error's.
// A lone "\r" (an old-Mac line break) is parsed as "\n": the grammars end
// a line comment only at "\n", so in a CR-only file every marker after a
// "//" would look commented out.
func CodeHoles(ctx context.Context, lang, text string, holes []Hole) ([]Hole, int, error) {
	g := syntax.Lookup(lang)
	if g == nil || len(holes) == 0 {
		return holes, 0, nil
	}
	b := []byte(LoneCRAsLF(text))
	for _, h := range holes {
		b[h.Start] = '_'
		for i := h.Start + 1; i < h.End; i++ {
			b[i] = 'x'
		}
	}
	tree, err := g.Parse(ctx, string(b))
	if err != nil {
		return nil, 0, err
	}
	defer tree.Close()
	var code []Hole
	for _, h := range holes {
		if inCode(tree.NodeAt(h.Start + (h.End-h.Start)/2)) {
			code = append(code, h)
		}
	}
	return code, len(holes) - len(code), nil
}
