package syntax

import (
	"fmt"

	sitter "github.com/smacker/go-tree-sitter"
)

// A Query is a compiled tree-sitter query of one language (batch uses it to
// pick the nodes to regenerate). Safe for concurrent use; Close it when done.
type Query struct {
	lang *Language
	q    *sitter.Query
}

// Query compiles a tree-sitter query for l. A malformed query is an error
// that says where it fails.
func (l *Language) Query(src string) (*Query, error) {
	q, err := sitter.NewQuery([]byte(src), l.ts)
	if err != nil {
		return nil, fmt.Errorf("bad %s query: %v", l.Name, err)
	}
	return &Query{lang: l, q: q}, nil
}

// Close frees the query's C memory.
func (q *Query) Close() { q.q.Close() }

// HasCapture reports whether the query names a capture @name.
func (q *Query) HasCapture(name string) bool {
	for i := uint32(0); i < q.q.CaptureCount(); i++ {
		if q.q.CaptureNameForId(i) == name {
			return true
		}
	}
	return false
}

// Captures returns the byte ranges [start, end) of the nodes t's text
// captures as @name, in document order, honouring #eq?/#match? predicates.
func (t *Tree) Captures(q *Query, name string) ([][2]int, error) {
	if q.lang != t.lang {
		return nil, fmt.Errorf("a %s query cannot run on a %s tree", q.lang.Name, t.lang.Name)
	}
	cur := sitter.NewQueryCursor()
	defer cur.Close()
	src := []byte(t.text)
	cur.Exec(q.q, t.t.RootNode())
	var out [][2]int
	for {
		m, ok := cur.NextMatch()
		if !ok {
			break
		}
		m = cur.FilterPredicates(m, src)
		for _, c := range m.Captures {
			if q.q.CaptureNameForId(c.Index) == name {
				out = append(out, [2]int{int(c.Node.StartByte()), int(c.Node.EndByte())})
			}
		}
	}
	return out, nil
}
