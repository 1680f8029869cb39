package eval

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// maxDefiningFiles leaves out names defined in more files than this
// (String, Close, New): a definition from another file cannot tell the
// model which one a line means, so such a line tests nothing cross-file.
const maxDefiningFiles = 3

// minCrossName is the shortest name a cross-file line is chosen for.
const minCrossName = 3

// A defTable maps each name defined at the top level of a tree's files
// (functions, methods, types, package-level constants and variables;
// Python's classes and functions) to the files that define it. It is what
// the workspace index calls definitions, made with the standard library
// so that task generation needs no grammar.
type defTable map[string]map[string]bool

// buildDefTable reads the definitions of files; a file that does not parse
// adds nothing.
func buildDefTable(files []string, lang string) defTable {
	defs := defTable{}
	add := func(name, file string) {
		if name == "_" || name == "" {
			return
		}
		if defs[name] == nil {
			defs[name] = map[string]bool{}
		}
		defs[name][file] = true
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		if lang == "go" {
			for _, name := range goDefinitions(file, src) {
				add(name, file)
			}
		} else {
			for _, re := range []*regexp.Regexp{pyDefRE, pyGlobalRE} {
				for _, m := range re.FindAllSubmatch(src, -1) {
					add(string(m[1]), file)
				}
			}
		}
	}
	return defs
}

// goDefinitions lists the names a Go file defines at package level, with
// methods and interface methods (a call through an interface lands there).
func goDefinitions(name string, src []byte) []string {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	var names []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			names = append(names, d.Name.Name)
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					names = append(names, sp.Name.Name)
					if it, ok := sp.Type.(*ast.InterfaceType); ok {
						for _, m := range it.Methods.List {
							for _, n := range m.Names {
								names = append(names, n.Name)
							}
						}
					}
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	return names
}

// pyDefRE finds Python classes and functions at any depth; pyGlobalRE
// module-level assignments (annotated or not).
var (
	pyDefRE    = regexp.MustCompile(`(?m)^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_][A-Za-z0-9_]*)`)
	pyGlobalRE = regexp.MustCompile(`(?m)^([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[^=\n]*)?=[^=]`)
)

// pyIdentRE finds Python identifiers (strings and comments included: a
// rough cut that only chooses tasks).
var pyIdentRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// A use is one identifier in code, with the identifier written before it
// and a dot ("strings" for strings.Cut), if any.
type use struct{ name, qualifier string }

// uses lists the identifiers in code of lang, skipping Go's strings and
// comments.
func uses(code, lang string) []use {
	if lang != "go" {
		var out []use
		for _, m := range pyIdentRE.FindAllStringIndex(code, -1) {
			u := use{name: code[m[0]:m[1]]}
			if m[0] > 0 && code[m[0]-1] == '.' {
				if q := pyIdentRE.FindAllString(code[:m[0]-1], -1); len(q) > 0 {
					u.qualifier = q[len(q)-1]
				}
			}
			out = append(out, u)
		}
		return out
	}
	var s scanner.Scanner
	fset := token.NewFileSet()
	src := []byte(code)
	s.Init(fset.AddFile("", -1, len(src)), src, func(token.Position, string) {}, 0)
	var out []use
	prev, dot := "", false
	for {
		_, tok, lit := s.Scan()
		switch tok {
		case token.EOF:
			return out
		case token.IDENT:
			u := use{name: lit}
			if dot {
				u.qualifier = prev
			}
			out = append(out, u)
			prev, dot = lit, false
		case token.PERIOD:
			dot = prev != ""
		default:
			prev, dot = "", false
		}
	}
}

// foreignImports returns the names under which a Go file imports packages
// from outside the tree (the standard library, other modules): a name
// qualified by one of them (strings.Cut) is not the tree's own even when
// the tree defines a Cut. module is the tree's module path ("" when it has
// no go.mod: then only paths without a dot in their first element, the
// standard library's, count as foreign).
func foreignImports(name string, src []byte, module string) map[string]bool {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for _, im := range f.Imports {
		path := strings.Trim(im.Path.Value, "`\"")
		local := module != "" && (path == module || strings.HasPrefix(path, module+"/"))
		if local || module == "" && strings.Contains(strings.SplitN(path, "/", 2)[0], ".") {
			continue
		}
		n := path[strings.LastIndexByte(path, '/')+1:]
		if im.Name != nil {
			n = im.Name.Name
		}
		out[n] = true
	}
	return out
}

// modulePath reads the module path of root/go.mod; "" when there is none.
func modulePath(root string) string {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), "\"")
		}
	}
	return ""
}

// crossFileName returns a name the middle of t uses that only other files
// of the tree define (in at most maxDefiningFiles files), that is not
// qualified by a foreign package, and that appears nowhere in the task's
// prefix or suffix: without cross-file context the model has never seen
// it. "" when the middle has none.
func crossFileName(defs defTable, file string, foreign map[string]bool, t *Task) string {
	window := t.Prefix + "\n" + t.Suffix
	for _, u := range uses(t.Middle, t.Lang) {
		files := defs[u.name]
		if len(u.name) < minCrossName || len(files) == 0 || files[file] || len(files) > maxDefiningFiles {
			continue
		}
		if foreign[u.qualifier] || containsWord(window, u.name) {
			continue
		}
		return u.name
	}
	return ""
}

// containsWord reports whether name occurs in text as a whole identifier.
func containsWord(text, name string) bool {
	isIdent := func(b byte) bool {
		return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || b >= 0x80
	}
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || !isIdent(text[j-1])) && (end == len(text) || !isIdent(text[end])) {
			return true
		}
		i = j + 1
	}
}
