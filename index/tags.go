package index

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unique"

	sitter "github.com/smacker/go-tree-sitter"
)

// A Symbol is one definition found by a tag query. It is immutable once
// made, so retrieval may hold it after the index has moved on.
type Symbol struct {
	Name    string
	Kind    string // the tag query's KIND: function, method, type, class, constant, …
	Path    string // absolute
	Lang    string // syntax.Detect's name for Path's language
	Line    int    // 1-based line of the definition's first line (doc comment excluded)
	Snippet string // doc comment and definition, cut to what a completion needs (see snippetOf)
}

// Snippet limits: a definition is shown whole when short; a long function
// shows its signature, a long type its first lines.
const (
	wholeLines   = 8
	typeLines    = 16
	docLines     = 4
	snippetBytes = 1200
)

// tags is what one file contributes to the symbol table.
type tags struct {
	defs []*Symbol
	refs []string // distinct names the file refers to
}

// extract parses src on infill/syntax's parsers and runs cq's tag query
// over it.
func extract(ctx context.Context, cq *compiledQuery, path string, src []byte) (tags, error) {
	tree, err := cq.lang.ParseTree(ctx, src)
	if err != nil {
		return tags{}, fmt.Errorf("parsing %s as %s: %w", path, cq.t.name, err)
	}
	defer tree.Close()
	cur := sitter.NewQueryCursor()
	defer cur.Close()
	cur.Exec(cq.q, tree.RootNode())

	var out tags
	seenDef := map[uint32]bool{} // a definition node matched by two patterns counts once
	seenRef := map[string]bool{}
	for {
		m, ok := cur.NextMatch()
		if !ok {
			break
		}
		var nameNode, tagNode *sitter.Node
		var tag capture
		for _, c := range m.Captures {
			switch k := cq.captures[c.Index]; {
			case k.name:
				nameNode = c.Node
			case k.kind != "":
				tagNode, tag = c.Node, k
			}
		}
		if nameNode == nil {
			continue
		}
		name := nameNode.Content(src)
		if name == "" || name == "_" {
			continue
		}
		if !tag.def {
			if !seenRef[name] {
				seenRef[name] = true
				out.refs = append(out.refs, intern(name))
			}
			continue
		}
		if tagNode == nil {
			tagNode = nameNode
		}
		if seenDef[nameNode.StartByte()] {
			continue
		}
		seenDef[nameNode.StartByte()] = true
		out.defs = append(out.defs, &Symbol{Name: intern(name), Kind: intern(tag.kind), Path: path, Lang: cq.t.name,
			Line: int(tagNode.StartPoint().Row) + 1, Snippet: snippetOf(tagNode, tag.kind, src)})
	}
	return out, nil
}

// intern shares one copy of each name among all files.
func intern(s string) string { return unique.Make(s).Value() }

// snippetOf cuts the text a completion elsewhere needs from a definition:
// its doc comment, then the whole node when it is short, a function's
// signature, or a type's first lines. The text is copied so the file's
// bytes are not kept alive.
func snippetOf(n *sitter.Node, kind string, src []byte) string {
	n = declarationOf(n, src)
	start, end := int(n.StartByte()), int(n.EndByte())
	// Start at the beginning of the line, so indentation stays consistent.
	for start > 0 && (src[start-1] == ' ' || src[start-1] == '\t') {
		start--
	}
	body := string(src[start:end])
	if strings.Count(body, "\n") >= wholeLines {
		switch kind {
		case "function", "method":
			if b := n.ChildByFieldName("body"); b != nil && int(b.StartByte()) > start {
				body = strings.TrimRight(string(src[start:b.StartByte()]), " \t\n")
			} else {
				body = firstLines(body, wholeLines)
			}
		default:
			body = firstLines(body, typeLines)
		}
	}
	doc := docComment(n, src)
	s := doc + body
	if len(s) > snippetBytes {
		s = firstLines(s[:snippetBytes], strings.Count(s[:snippetBytes], "\n"))
	}
	if open, close := containerOf(n, src); open != "" {
		s = open + "\n" + s + "\n" + close
		s = strings.TrimRight(s, "\n")
	}
	return strings.Clone(s)
}

// containers are the node types that hold members: a method shown alone
// is headed by its container's first line, so the reader knows whose it is.
var containers = map[string]bool{
	"type_declaration": true, "class_definition": true, "class_declaration": true, "class": true,
	"abstract_class_declaration": true, "interface_declaration": true, "impl_item": true, "trait_item": true,
	"class_specifier": true, "struct_specifier": true, "enum_declaration": true, "record_declaration": true,
	"const_declaration": true, "var_declaration": true, // Go's grouped `const (…)`
}

// containerOf returns the first line of the class, interface or impl that
// holds n, and the line that closes it ("}" at its indentation, or "" for
// Python; ")" for Go's grouped declarations); both "" when n is not a member or starts on that same line.
func containerOf(n *sitter.Node, src []byte) (open, close string) {
	p := n.Parent()
	for depth := 0; p != nil && depth < 3; depth++ {
		if containers[p.Type()] {
			break
		}
		p = p.Parent()
	}
	if p == nil || !containers[p.Type()] || p.StartPoint().Row == n.StartPoint().Row {
		return "", ""
	}
	start := int(p.StartByte())
	indentStart := start
	for indentStart > 0 && (src[indentStart-1] == ' ' || src[indentStart-1] == '\t') {
		indentStart--
	}
	first := src[indentStart:p.EndByte()]
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	line := strings.TrimRight(string(first), " \t\r")
	switch {
	case strings.HasSuffix(line, "{"):
		close = string(src[indentStart:start]) + "}"
	case strings.HasSuffix(line, "("):
		close = string(src[indentStart:start]) + ")"
	}
	return line, close
}

// declarationOf widens a definition to what belongs with it: a spec
// inside a declaration with a single spec (Go's `type T struct{…}`) to the
// declaration, so the snippet keeps its keyword; an exported or decorated
// definition to the export or the decorators.
func declarationOf(n *sitter.Node, src []byte) *sitter.Node {
	if p := n.Parent(); p != nil && (p.Type() == "export_statement" || p.Type() == "decorated_definition") {
		return p
	}
	if !strings.HasSuffix(n.Type(), "_spec") {
		return n
	}
	p := n.Parent()
	if p == nil || !strings.HasSuffix(p.Type(), "_declaration") || p.NamedChildCount() != 1 {
		return n
	}
	return p
}

// docComment returns the first docLines lines of the comment block
// directly above n, each ending in a newline: the summary line comes
// first in every style of doc comment.
func docComment(n *sitter.Node, src []byte) string {
	row := n.StartPoint().Row
	start := -1
	for p := n.PrevSibling(); p != nil; p = p.PrevSibling() {
		if !strings.Contains(p.Type(), "comment") || p.EndPoint().Row+1 < row {
			break
		}
		start, row = int(p.StartByte()), p.StartPoint().Row
	}
	if start < 0 {
		return ""
	}
	for start > 0 && (src[start-1] == ' ' || src[start-1] == '\t') {
		start--
	}
	end := int(n.StartByte())
	for end > start && (src[end-1] == ' ' || src[end-1] == '\t') {
		end--
	}
	doc := firstLines(string(src[start:end]), docLines)
	if !strings.HasSuffix(doc, "\n") {
		doc += "\n"
	}
	return doc
}

// firstLines keeps the first n lines of s.
func firstLines(s string, n int) string {
	i := 0
	for k := 0; k < n; k++ {
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return s
		}
		i += j + 1
	}
	return strings.TrimRight(s[:i], "\n")
}
