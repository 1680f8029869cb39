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
}

var table = []langInfo{
	{"go", golang.GetLanguage, []string{".go"}, []string{"go"}},
	{"python", python.GetLanguage, []string{".py", ".pyi", ".pyw"}, []string{"python"}},
	{"javascript", javascript.GetLanguage, []string{".js", ".mjs", ".cjs", ".jsx"}, []string{"javascript", "javascriptreact"}},
	{"typescript", typescript.GetLanguage, []string{".ts", ".mts", ".cts"}, []string{"typescript"}},
	{"tsx", tsx.GetLanguage, []string{".tsx"}, []string{"typescriptreact", "tsx"}},
	{"rust", rust.GetLanguage, []string{".rs"}, []string{"rust"}},
	{"c", c.GetLanguage, []string{".c", ".h"}, []string{"c"}},
	{"cpp", cpp.GetLanguage, []string{".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++"}, []string{"cpp", "c++"}},
	{"java", java.GetLanguage, []string{".java"}, []string{"java"}},
	{"ruby", ruby.GetLanguage, []string{".rb", ".rake", ".gemspec"}, []string{"ruby"}},
	{"bash", bash.GetLanguage, []string{".sh", ".bash", ".zsh"}, []string{"shellscript", "bash", "sh", "zsh"}},
	// Known languages without a grammar here: suggestions pass unvalidated.
	{"lua", nil, []string{".lua"}, []string{"lua"}},
	{"kotlin", nil, []string{".kt", ".kts"}, []string{"kotlin"}},
	{"swift", nil, []string{".swift"}, []string{"swift"}},
	{"php", nil, []string{".php"}, []string{"php"}},
	{"csharp", nil, []string{".cs"}, []string{"csharp"}},
	{"scala", nil, []string{".scala", ".sc"}, []string{"scala"}},
	{"haskell", nil, []string{".hs"}, []string{"haskell"}},
	{"ocaml", nil, []string{".ml", ".mli"}, []string{"ocaml"}},
	{"elixir", nil, []string{".ex", ".exs"}, []string{"elixir"}},
	{"zig", nil, []string{".zig"}, []string{"zig"}},
	{"dart", nil, []string{".dart"}, []string{"dart"}},
	{"perl", nil, []string{".pl", ".pm"}, []string{"perl"}},
	{"r", nil, []string{".r", ".R"}, []string{"r"}},
	{"sql", nil, []string{".sql"}, []string{"sql"}},
	{"html", nil, []string{".html", ".htm"}, []string{"html"}},
	{"css", nil, []string{".css", ".scss", ".less"}, []string{"css", "scss", "less"}},
	{"yaml", nil, []string{".yaml", ".yml"}, []string{"yaml"}},
	{"toml", nil, []string{".toml"}, []string{"toml"}},
	{"json", nil, []string{".json", ".jsonc"}, []string{"json", "jsonc"}},
	{"markdown", nil, []string{".md", ".markdown"}, []string{"markdown"}},
	{"proto", nil, []string{".proto"}, []string{"proto", "proto3"}},
	{"makefile", nil, nil, []string{"makefile"}},
	{"dockerfile", nil, nil, []string{"dockerfile"}},
	{"vim", nil, []string{".vim"}, []string{"vim"}},
	{"text", nil, []string{".txt"}, []string{"plaintext"}},
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

// parseWith parses text on a pooled parser. go-tree-sitter cancels a parse
// by setting the parser's cancellation flag from a goroutine watching the
// context, and that goroutine can still set the flag after the parse has
// returned (when the context ends at about the same time); a parser whose
// flag stays set fails every later parse with "operation limit was hit".
// So the library only ever sees a context that is never cancelled unless
// ctx ends during the parse, and a parser whose parse met a cancellation,
// or failed at all, is closed instead of going back to the pool.
func (l *Language) parseWith(ctx context.Context, old *sitter.Tree, text []byte) (*sitter.Tree, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := l.getParser()
	if ctx.Done() == nil { // never cancelled: the library starts no watcher
		t, err := p.ParseCtx(ctx, old, text)
		l.release(p, err == nil)
		return t, err
	}
	// pctx is cancelled only by ctx ending; once stop succeeds nothing can
	// cancel it, so the library's watcher can only see the parse complete.
	// (Cancelling it here would race that watcher: the bug this avoids.)
	pctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	t, err := p.ParseCtx(pctx, old, text)
	if !stop() { // ctx ended: the flag may be set now or later
		if t != nil {
			t.Close()
		}
		p.Close()
		return nil, ctx.Err()
	}
	l.release(p, err == nil)
	return t, err
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
