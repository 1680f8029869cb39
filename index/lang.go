package index

import (
	"embed"
	"fmt"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/dfim/dfim/infill/syntax"
)

// Tag queries, one per grammar, in the tree-sitter tags.scm convention:
// @name is the symbol, @definition.KIND or @reference.KIND the node.
//
//go:embed queries/*.scm
var queryFiles embed.FS

// A tagger is the tag query of one language of infill/syntax's table (which
// owns the languages, their grammars and parsers); names are syntax.Detect's.
type tagger struct {
	name  string
	query string // file under queries/
}

var taggers = []tagger{
	{"go", "go.scm"},
	{"python", "python.scm"},
	{"javascript", "javascript.scm"},
	{"typescript", "typescript.scm"},
	{"tsx", "typescript.scm"},
	{"rust", "rust.scm"},
	{"c", "c.scm"},
	{"cpp", "cpp.scm"},
	{"java", "java.scm"},
}

// Languages lists the languages whose symbols the index extracts.
func Languages() []string {
	names := make([]string, len(taggers))
	for i, t := range taggers {
		names[i] = t.name
	}
	return names
}

func taggerFor(lang string) *tagger {
	for i := range taggers {
		if taggers[i].name == lang {
			return &taggers[i]
		}
	}
	return nil
}

// langOf names the language of a path the way infill does.
func langOf(path string) string { return syntax.Detect("", path) }

// compiledQuery is a tagger's query, made once per Index and closed by
// Index.Close. A TSQuery is immutable and may be shared by cursors on
// several goroutines.
type compiledQuery struct {
	t        *tagger
	lang     *syntax.Language
	q        *sitter.Query
	captures []capture // by capture id
}

// capture is what one capture name of a tag query means.
type capture struct {
	name bool   // @name
	def  bool   // @definition.KIND (else a reference, when kind != "")
	kind string // KIND
}

func compileQuery(t *tagger) (*compiledQuery, error) {
	src, err := queryFiles.ReadFile("queries/" + t.query)
	if err != nil {
		return nil, fmt.Errorf("tag query for %s: %w", t.name, err)
	}
	lang := syntax.Lookup(t.name)
	if lang == nil {
		return nil, fmt.Errorf("tag query for %s: infill/syntax has no grammar for it", t.name)
	}
	q, err := sitter.NewQuery(src, lang.Grammar())
	if err != nil {
		return nil, fmt.Errorf("compiling tag query queries/%s for %s: %w", t.query, t.name, err)
	}
	cq := &compiledQuery{t: t, lang: lang, q: q, captures: make([]capture, q.CaptureCount())}
	for i := range cq.captures {
		n := q.CaptureNameForId(uint32(i))
		switch {
		case n == "name":
			cq.captures[i].name = true
		case strings.HasPrefix(n, "definition."):
			cq.captures[i] = capture{def: true, kind: strings.TrimPrefix(n, "definition.")}
		case strings.HasPrefix(n, "reference."):
			cq.captures[i] = capture{kind: strings.TrimPrefix(n, "reference.")}
		}
	}
	return cq, nil
}
