package syntax

import (
	"context"
	"path/filepath"
	"strings"
	"sync"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/bash"
	"github.com/smacker/go-tree-sitter/c"
	"github.com/smacker/go-tree-sitter/cpp"
	"github.com/smacker/go-tree-sitter/golang"
	"github.com/smacker/go-tree-sitter/java"
	"github.com/smacker/go-tree-sitter/javascript"
	"github.com/smacker/go-tree-sitter/python"
	"github.com/smacker/go-tree-sitter/ruby"
	"github.com/smacker/go-tree-sitter/rust"
	"github.com/smacker/go-tree-sitter/typescript/tsx"
	"github.com/smacker/go-tree-sitter/typescript/typescript"
)

// A Language is a grammar dfim validates with. Safe for concurrent use.
type Language struct {
	Name string
	ts   *sitter.Language
	// pool holds idle parsers; a parser serves one parse at a time.
	pool chan *sitter.Parser
}

// langInfo is one row of the language table.
type langInfo struct {
	name    string
	grammar func() *sitter.Language // nil: known language without a grammar here
	exts    []string
	lspIDs  []string
	// comments are how a comment starts (line and block markers), where
	// infill tells a comment-only suggestion from code; nil: not known.
	comments []string
}

// Comment markers of the table.
var (
	slashes = []string{"//", "/*"}
	hash    = []string{"#"}
)

var table = []langInfo{
	{"go", golang.GetLanguage, []string{".go"}, []string{"go"}, slashes},
	{"python", python.GetLanguage, []string{".py", ".pyi", ".pyw"}, []string{"python"}, hash},
	{"javascript", javascript.GetLanguage, []string{".js", ".mjs", ".cjs", ".jsx"}, []string{"javascript", "javascriptreact"}, slashes},
	{"typescript", typescript.GetLanguage, []string{".ts", ".mts", ".cts"}, []string{"typescript"}, slashes},
	{"tsx", tsx.GetLanguage, []string{".tsx"}, []string{"typescriptreact", "tsx"}, slashes},
	{"rust", rust.GetLanguage, []string{".rs"}, []string{"rust"}, slashes},
	{"c", c.GetLanguage, []string{".c", ".h"}, []string{"c"}, slashes},
	{"cpp", cpp.GetLanguage, []string{".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++"}, []string{"cpp", "c++"}, slashes},
	{"java", java.GetLanguage, []string{".java"}, []string{"java"}, slashes},
	{"ruby", ruby.GetLanguage, []string{".rb", ".rake", ".gemspec"}, []string{"ruby"}, hash},
	{"bash", bash.GetLanguage, []string{".sh", ".bash", ".zsh"}, []string{"shellscript", "bash", "sh", "zsh"}, hash},
	// Known languages without a grammar here: suggestions pass unvalidated.
	{"lua", nil, []string{".lua"}, []string{"lua"}, nil},
	{"kotlin", nil, []string{".kt", ".kts"}, []string{"kotlin"}, nil},
	{"swift", nil, []string{".swift"}, []string{"swift"}, nil},
	{"php", nil, []string{".php"}, []string{"php"}, nil},
	{"csharp", nil, []string{".cs"}, []string{"csharp"}, nil},
	{"scala", nil, []string{".scala", ".sc"}, []string{"scala"}, nil},
	{"haskell", nil, []string{".hs"}, []string{"haskell"}, nil},
	{"ocaml", nil, []string{".ml", ".mli"}, []string{"ocaml"}, nil},
	{"elixir", nil, []string{".ex", ".exs"}, []string{"elixir"}, nil},
	{"zig", nil, []string{".zig"}, []string{"zig"}, nil},
	{"dart", nil, []string{".dart"}, []string{"dart"}, nil},
	{"perl", nil, []string{".pl", ".pm"}, []string{"perl"}, nil},
	{"r", nil, []string{".r", ".R"}, []string{"r"}, nil},
	{"sql", nil, []string{".sql"}, []string{"sql"}, nil},
	{"html", nil, []string{".html", ".htm"}, []string{"html"}, nil},
	{"css", nil, []string{".css", ".scss", ".less"}, []string{"css", "scss", "less"}, nil},
	{"yaml", nil, []string{".yaml", ".yml"}, []string{"yaml"}, nil},
	{"toml", nil, []string{".toml"}, []string{"toml"}, nil},
	{"json", nil, []string{".json", ".jsonc"}, []string{"json", "jsonc"}, nil},
	{"markdown", nil, []string{".md", ".markdown"}, []string{"markdown"}, nil},
	{"proto", nil, []string{".proto"}, []string{"proto", "proto3"}, nil},
	{"makefile", nil, nil, []string{"makefile"}, nil},
	{"dockerfile", nil, nil, []string{"dockerfile"}, nil},
	{"vim", nil, []string{".vim"}, []string{"vim"}, nil},
	{"text", nil, []string{".txt"}, []string{"plaintext"}, nil},
}

// Detect names the language of a document from its LSP languageId, or
// else from the extension (or base name) of path. It returns "" when
// neither is known.
func Detect(languageID, path string) string {
	if languageID != "" {
		id := strings.ToLower(languageID)
		for _, l := range table {
			if l.name == id {
				return l.name
			}
			for _, x := range l.lspIDs {
				if x == id {
					return l.name
				}
			}
		}
	}
	base := filepath.Base(path)
	switch base {
	case "Makefile", "GNUmakefile", "makefile":
		return "makefile"
	case "Dockerfile":
		return "dockerfile"
	}
	ext := filepath.Ext(base)
	if ext == "" {
		return ""
	}
	for _, l := range table {
		for _, x := range l.exts {
			if x == ext || strings.EqualFold(x, ext) {
				return l.name
			}
		}
	}
	return ""
}

// CommentMarkers returns how a comment starts in the language lang names
// (as Detect returns it): line and block markers, nil when not known.
func CommentMarkers(lang string) []string {
	for _, l := range table {
		if l.name == lang {
			return l.comments
		}
	}
	return nil
}

// Validated lists the languages with a grammar, in table order.
func Validated() []string {
	var names []string
	for _, l := range table {
		if l.grammar != nil {
			names = append(names, l.name)
		}
	}
	return names
}

var languages struct {
	once sync.Once
	// byName is written once, then only read.
	byName map[string]*Language
}

// Lookup returns the grammar for a language name from Detect, or nil when
// dfim has none for it (the caller passes suggestions unvalidated).
func Lookup(name string) *Language {
	languages.once.Do(func() {
		languages.byName = map[string]*Language{}
		for _, l := range table {
			if l.grammar != nil {
				languages.byName[l.name] = &Language{Name: l.name, ts: l.grammar(), pool: make(chan *sitter.Parser, 8)}
			}
		}
	})
	return languages.byName[name]
}

// getParser takes an idle parser or makes one; putParser returns it.
func (l *Language) getParser() *sitter.Parser {
	select {
	case p := <-l.pool:
		return p
	default:
		p := sitter.NewParser()
		p.SetLanguage(l.ts)
		return p
	}
}

func (l *Language) putParser(p *sitter.Parser) {
	select {
	case l.pool <- p:
	default:
		p.Close() // pool full: the parser made for this burst goes
	}
}

// parseWith parses text on a pooled parser (ParseSafely), pooling it again
// only after a parse that succeeded uncancelled.
func (l *Language) parseWith(ctx context.Context, old *sitter.Tree, text []byte) (*sitter.Tree, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := l.getParser()
	t, reusable, err := ParseSafely(ctx, p, old, text)
	l.release(p, reusable)
	return t, err
}

// ParseSafely parses text with p so that a cancellation cannot outlive the
// parse. go-tree-sitter cancels a parse by setting the parser's
// cancellation flag from a goroutine watching the context, and that
// goroutine can still set the flag after the parse has returned (when the
// context ends at about the same time); a parser whose flag stays set fails
// every later parse with "operation limit was hit". So the library only
// ever sees a context that is never cancelled unless ctx ends during the
// parse. reusable is false when the parse met a cancellation or failed at
// all: the caller must close p then rather than keep it (the index keeps
// its own parsers, so it uses this too).
func ParseSafely(ctx context.Context, p *sitter.Parser, old *sitter.Tree, text []byte) (t *sitter.Tree, reusable bool, err error) {
	if ctx.Done() == nil { // never cancelled: the library starts no watcher
		t, err = p.ParseCtx(ctx, old, text)
		return t, err == nil, err
	}
	// pctx is cancelled only by ctx ending; once stop succeeds nothing can
	// cancel it, so the library's watcher can only see the parse complete.
	// (Cancelling it here would race that watcher: the bug this avoids.)
	pctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	t, err = p.ParseCtx(pctx, old, text)
	if !stop() { // ctx ended: the flag may be set now or later
		if t != nil {
			t.Close()
		}
		return nil, false, ctx.Err()
	}
	return t, err == nil, err
}

// release pools a parser after a parse that succeeded uncancelled and
// closes any other, so no parser carries a failed parse's state.
func (l *Language) release(p *sitter.Parser, ok bool) {
	if ok {
		l.putParser(p)
	} else {
		p.Close()
	}
}
