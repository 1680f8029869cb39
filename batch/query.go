package batch

import (
	"context"
	"fmt"
	"strings"

	"github.com/dfim/dfim/infill/syntax"
)

// SyntaxQuery compiles a tree-sitter query for lang and returns a QueryFunc
// that runs it on the files of that language. The query must capture the
// nodes to regenerate as @fill.
func SyntaxQuery(lang, query string) (QueryFunc, error) {
	l := syntax.Lookup(lang)
	if l == nil {
		return nil, fmt.Errorf("--lang %q has no tree-sitter grammar here (have: %s)", lang, strings.Join(syntax.Validated(), ", "))
	}
	q, err := l.Query(query)
	if err != nil {
		return nil, err
	}
	if !q.HasCapture("fill") {
		q.Close()
		return nil, fmt.Errorf("the query captures no @fill node: add @fill after the node to regenerate, e.g. (function_declaration body: (block) @fill)")
	}
	// q lives as long as the run; the process ends after it.
	return func(path, lang, _ string, src []byte) ([][2]int, error) {
		if syntax.Detect("", path) != lang {
			return nil, nil
		}
		tree, err := l.Parse(context.Background(), string(src))
		if err != nil {
			return nil, err
		}
		defer tree.Close()
		return tree.Captures(q, "fill")
	}, nil
}
