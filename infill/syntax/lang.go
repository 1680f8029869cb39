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
	// comments says how comments are written, where infill tells a
	// comment-only suggestion from code and the index writes the path
	// header of a retrieved snippet; zero: no comments.
	comments commentSyntax
	// family names the languages whose code may serve each other as
	// cross-file context (TypeScript and JavaScript, C and C++); "" is the
	// language's own name.
	family string
}

// commentSyntax is how one language writes comments.
type commentSyntax struct {
	line  string    // "//", "#"; "" when the language has only block comments
	block [2]string // open and close, e.g. "/*" and "*/"; zero when none
}

// Comment syntaxes of the table.
var (
	slashes = commentSyntax{"//", [2]string{"/*", "*/"}}
	hash    = commentSyntax{line: "#"}
	dashes  = commentSyntax{line: "--"}
	markup  = commentSyntax{block: [2]string{"<!--", "-->"}}
)

var table = []langInfo{
	{"go", golang.GetLanguage, []string{".go"}, []string{"go"}, slashes, ""},
	{"python", python.GetLanguage, []string{".py", ".pyi", ".pyw"}, []string{"python"}, hash, ""},
	{"javascript", javascript.GetLanguage, []string{".js", ".mjs", ".cjs", ".jsx"}, []string{"javascript", "javascriptreact"}, slashes, "js"},
	{"typescript", typescript.GetLanguage, []string{".ts", ".mts", ".cts"}, []string{"typescript"}, slashes, "js"},
	{"tsx", tsx.GetLanguage, []string{".tsx"}, []string{"typescriptreact", "tsx"}, slashes, "js"},
	{"rust", rust.GetLanguage, []string{".rs"}, []string{"rust"}, slashes, ""},
	{"c", c.GetLanguage, []string{".c", ".h"}, []string{"c"}, slashes, "c"},
	{"cpp", cpp.GetLanguage, []string{".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++"}, []string{"cpp", "c++"}, slashes, "c"},
	{"java", java.GetLanguage, []string{".java"}, []string{"java"}, slashes, ""},
	{"ruby", ruby.GetLanguage, []string{".rb", ".rake", ".gemspec"}, []string{"ruby"}, hash, ""},
	{"bash", bash.GetLanguage, []string{".sh", ".bash", ".zsh"}, []string{"shellscript", "bash", "sh", "zsh"}, hash, ""},
	// Known languages without a grammar here: suggestions pass unvalidated.
	{"lua", nil, []string{".lua"}, []string{"lua"}, dashes, ""},
	{"kotlin", nil, []string{".kt", ".kts"}, []string{"kotlin"}, slashes, ""},
	{"swift", nil, []string{".swift"}, []string{"swift"}, slashes, ""},
	{"php", nil, []string{".php"}, []string{"php"}, slashes, ""},
	{"csharp", nil, []string{".cs"}, []string{"csharp"}, slashes, ""},
	{"scala", nil, []string{".scala", ".sc"}, []string{"scala"}, slashes, ""},
	{"haskell", nil, []string{".hs"}, []string{"haskell"}, commentSyntax{"--", [2]string{"{-", "-}"}}, ""},
	{"ocaml", nil, []string{".ml", ".mli"}, []string{"ocaml"}, commentSyntax{block: [2]string{"(*", "*)"}}, ""},
	{"elixir", nil, []string{".ex", ".exs"}, []string{"elixir"}, hash, ""},
	{"zig", nil, []string{".zig"}, []string{"zig"}, commentSyntax{line: "//"}, ""},
	{"dart", nil, []string{".dart"}, []string{"dart"}, slashes, ""},
	{"perl", nil, []string{".pl", ".pm"}, []string{"perl"}, hash, ""},
	{"r", nil, []string{".r", ".R"}, []string{"r"}, hash, ""},
	{"sql", nil, []string{".sql"}, []string{"sql"}, commentSyntax{"--", [2]string{"/*", "*/"}}, ""},
	{"html", nil, []string{".html", ".htm"}, []string{"html"}, markup, ""},
	{"css", nil, []string{".css", ".scss", ".less"}, []string{"css", "scss", "less"}, commentSyntax{block: [2]string{"/*", "*/"}}, ""},
	{"yaml", nil, []string{".yaml", ".yml"}, []string{"yaml"}, hash, ""},
	{"toml", nil, []string{".toml"}, []string{"toml"}, hash, ""},
	{"json", nil, []string{".json", ".jsonc"}, []string{"json", "jsonc"}, commentSyntax{}, ""},
	{"markdown", nil, []string{".md", ".markdown"}, []string{"markdown"}, markup, ""},
	{"proto", nil, []string{".proto"}, []string{"proto", "proto3"}, slashes, ""},
	{"makefile", nil, nil, []string{"makefile"}, hash, ""},
	{"dockerfile", nil, nil, []string{"dockerfile"}, hash, ""},
	{"vim", nil, []string{".vim"}, []string{"vim"}, commentSyntax{line: "\""}, ""},
	{"text", nil, []string{".txt"}, []string{"plaintext"}, commentSyntax{}, ""},
}

// info is lang's row of the table, nil when lang is not known.
func info(lang string) *langInfo {
	for i := range table {
		if table[i].name == lang {
			return &table[i]
		}
	}
	return nil
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
	l := info(lang)
	if l == nil {
		return nil
	}
	var m []string
	if l.comments.line != "" {
		m = append(m, l.comments.line)
	}
	if l.comments.block[0] != "" {
		m = append(m, l.comments.block[0])
	}
	return m
}

// LineComment returns what opens and closes a one-line comment in lang:
// its line marker and a space, or its block markers where it has no line
// comments. A language without comments, or not known, gets "// ".
func LineComment(lang string) (open, close string) {
	l := info(lang)
	switch {
	case l == nil:
	case l.comments.line != "":
		return l.comments.line + " ", ""
	case l.comments.block[0] != "":
		return l.comments.block[0] + " ", " " + l.comments.block[1]
	}
	return "// ", ""
}

// Family names the group of languages whose code may serve lang as
// cross-file context (TypeScript and JavaScript, C and C++); a language
// alone in its group, or not known, is its own family.
func Family(lang string) string {
	if l := info(lang); l != nil && l.family != "" {
		return l.family
	}
	return lang
}

// LanguageID is the LSP languageId an editor sends for lang ("" when lang
// is not known).
func LanguageID(lang string) string {
	if l := info(lang); l != nil && len(l.lspIDs) > 0 {
		return l.lspIDs[0]
	}
	return ""
}

// Extension is the usual file extension of lang, with its dot ("" when
// lang is not known or has none).
func Extension(lang string) string {
	if l := info(lang); l != nil && len(l.exts) > 0 {
		return l.exts[0]
	}
	return ""
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

// Grammar is the tree-sitter grammar, for packages that compile their own
// queries over trees from ParseTree (the index's tag queries).
func (l *Language) Grammar() *sitter.Language { return l.ts }

// ParseTree parses text on one of the language's pooled parsers and returns
// the bare tree-sitter tree, which the caller closes; Parse is the one to
// use unless the caller runs its own tree-sitter queries.
func (l *Language) ParseTree(ctx context.Context, text []byte) (*sitter.Tree, error) {
	return l.parseWith(ctx, nil, text)
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
// all: the caller must close p then rather than keep it.
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
