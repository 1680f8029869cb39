package index

import (
	"embed"
	"fmt"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/c"
	"github.com/smacker/go-tree-sitter/cpp"
	"github.com/smacker/go-tree-sitter/golang"
	"github.com/smacker/go-tree-sitter/java"
	"github.com/smacker/go-tree-sitter/javascript"
	"github.com/smacker/go-tree-sitter/python"
	"github.com/smacker/go-tree-sitter/rust"
	"github.com/smacker/go-tree-sitter/typescript/tsx"
	"github.com/smacker/go-tree-sitter/typescript/typescript"

	"github.com/dfim/dfim/infill/syntax"
)

// Tag queries, one per grammar, in the tree-sitter tags.scm convention:
// @name is the symbol, @definition.KIND or @reference.KIND the node.
//
//go:embed queries/*.scm
var queryFiles embed.FS

// A tagger is one language's grammar and tag query. infill/syntax keeps its
// grammars unexported, so index holds this small table of its own; language
// names are syntax.Detect's.
type tagger struct {
	name    string
	family  string // languages whose symbols may serve each other (ts and js, c and cpp)
	grammar func() *sitter.Language
	query   string // file under queries/
}

var taggers = []tagger{
	{"go", "go", golang.GetLanguage, "go.scm"},
	{"python", "python", python.GetLanguage, "python.scm"},
	{"javascript", "js", javascript.GetLanguage, "javascript.scm"},
	{"typescript", "js", typescript.GetLanguage, "typescript.scm"},
	{"tsx", "js", tsx.GetLanguage, "typescript.scm"},
	{"rust", "rust", rust.GetLanguage, "rust.scm"},
	{"c", "c", c.GetLanguage, "c.scm"},
	{"cpp", "c", cpp.GetLanguage, "cpp.scm"},
	{"java", "java", java.GetLanguage, "java.scm"},
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

// family groups languages that can use each other's definitions; a
// language without a tagger is its own family.
func family(lang string) string {
	if t := taggerFor(lang); t != nil {
		return t.family
	}
	return lang
}

// langOf names the language of a path the way infill does.
func langOf(path string) string { return syntax.Detect("", path) }

// compiledQuery is a tagger's query, made once per Index and closed by
// Index.Close. A TSQuery is immutable and may be shared by cursors on
// several goroutines.
type compiledQuery struct {
	t        *tagger
	lang     *sitter.Language
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
	lang := t.grammar()
	q, err := sitter.NewQuery(src, lang)
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

// commentPrefix is how a line comment starts in lang, for the path
// headers of retrieved context; commentSuffix closes it where needed.
func commentPrefix(lang string) (prefix, suffix string) {
	switch lang {
	case "python", "ruby", "bash", "perl", "r", "yaml", "toml", "makefile", "dockerfile", "elixir", "text":
		return "# ", ""
	case "lua", "sql", "haskell":
		return "-- ", ""
	case "ocaml":
		return "(* ", " *)"
	case "html", "markdown":
		return "<!-- ", " -->"
	case "css":
		return "/* ", " */"
	case "vim":
		return "\" ", ""
	}
	return "// ", ""
}
