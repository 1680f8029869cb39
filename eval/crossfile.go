package eval

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// maxDefiningFiles leaves out names defined in more files of the package
// a use points to than this (build-tagged variants aside, a name is
// defined once per package).
const maxDefiningFiles = 3

// minCrossName is the shortest name a cross-file line is chosen for.
const minCrossName = 3

// A defTable maps each name defined at the top level of a tree's files
// (Go's functions, types, constants and variables; Python's top-level
// classes, functions and assignments) to the files that define it: what
// a line can use bare or qualified by its package. Methods are left out:
// a use through a variable (x.Close) cannot be told apart without types.
type defTable map[string][]string

// buildDefTable reads the definitions of files; a file that does not parse
// adds nothing.
func buildDefTable(files []string, lang string) defTable {
	defs := defTable{}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var names []string
		if lang == "go" {
			names = goDefinitions(file, src)
		} else {
			for _, re := range []*regexp.Regexp{pyDefRE, pyGlobalRE} {
				for _, m := range re.FindAllSubmatch(src, -1) {
					names = append(names, string(m[1]))
				}
			}
		}
		for _, name := range names {
			if name != "_" && name != "" && !slices.Contains(defs[name], file) {
				defs[name] = append(defs[name], file)
			}
		}
	}
	return defs
}

// in returns the files defining name whose folder satisfies dir.
func (defs defTable) in(name string, dir func(string) bool) []string {
	var out []string
	for _, f := range defs[name] {
		if dir(filepath.Dir(f)) {
			out = append(out, f)
		}
	}
	return out
}

// goDefinitions lists the names a Go file defines at package level
// (functions, types, constants, variables; no methods).
func goDefinitions(name string, src []byte) []string {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	var names []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names = append(names, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					names = append(names, sp.Name.Name)
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

// A crossUse is where a file uses a name that only another file defines.
type crossUse struct {
	start, end int // byte offsets of the name
	name       string
}

// goCrossUses lists where the Go file path uses a package-level name that
// other files of the tree define and it does not: written bare, defined
// in another file of the same folder (package), or qualified by the
// import name of one of the tree's own packages (module's), defined in
// that package's folder. Locals, fields, methods, builtins and other
// modules' names are left out: the parser's object resolution tells a
// bare name of this file (resolved) from one of another file (not).
func goCrossUses(path string, src []byte, defs defTable, module string) []crossUse {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		return nil
	}
	tf := fset.File(f.Pos())
	imports := map[string]string{} // import name → path
	for _, im := range f.Imports {
		ip := strings.Trim(im.Path.Value, "`\"")
		n := ip[strings.LastIndexByte(ip, '/')+1:]
		if im.Name != nil {
			n = im.Name.Name
		}
		imports[n] = ip
	}
	ours := func(ip string) bool {
		if module == "" { // no go.mod: a path with a dot in its first element is no standard package
			return strings.Contains(strings.SplitN(ip, "/", 2)[0], ".")
		}
		return ip == module || strings.HasPrefix(ip, module+"/")
	}
	dir := filepath.Dir(path)
	var out []crossUse
	add := func(id *ast.Ident, files []string) {
		if len(id.Name) >= minCrossName && len(files) > 0 && len(files) <= maxDefiningFiles && !slices.Contains(files, path) {
			start := tf.Offset(id.Pos())
			out = append(out, crossUse{start: start, end: start + len(id.Name), name: id.Name})
		}
	}
	skip := map[*ast.Ident]bool{} // names that are not uses: selectors, keys, declarations
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ImportSpec:
			return false
		case *ast.FuncDecl:
			skip[n.Name] = true
		case *ast.Field:
			for _, id := range n.Names {
				skip[id] = true
			}
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok {
				skip[id] = true // a struct field's name, most often
			}
		case *ast.LabeledStmt:
			skip[n.Label] = true
		case *ast.BranchStmt:
			if n.Label != nil {
				skip[n.Label] = true
			}
		case *ast.SelectorExpr:
			skip[n.Sel] = true
			x, ok := n.X.(*ast.Ident)
			if !ok || x.Obj != nil {
				return true
			}
			if ip, ok := imports[x.Name]; ok {
				skip[x] = true
				if ours(ip) {
					pkg := ip[strings.LastIndexByte(ip, '/')+1:]
					add(n.Sel, defs.in(n.Sel.Name, func(d string) bool { return filepath.Base(d) == pkg }))
				}
			}
		case *ast.Ident:
			if skip[n] || n.Obj != nil || goBuiltins[n.Name] || imports[n.Name] != "" {
				return true
			}
			add(n, defs.in(n.Name, func(d string) bool { return d == dir }))
		}
		return true
	})
	return out
}

// goBuiltins are Go's predeclared names.
var goBuiltins = map[string]bool{
	"append": true, "cap": true, "clear": true, "close": true, "complex": true, "copy": true, "delete": true,
	"imag": true, "len": true, "make": true, "max": true, "min": true, "new": true, "panic": true,
	"print": true, "println": true, "real": true, "recover": true, "any": true, "bool": true, "byte": true,
	"comparable": true, "error": true, "float32": true, "float64": true, "int": true, "int8": true,
	"int16": true, "int32": true, "int64": true, "rune": true, "string": true, "uint": true, "uint8": true,
	"uint16": true, "uint32": true, "uint64": true, "uintptr": true, "true": true, "false": true,
	"iota": true, "nil": true,
}

// pyCrossUses lists where a Python file uses, bare, a top-level name that
// only other files define. Without scopes it cannot tell a local of the
// same name; it is a rough cut for choosing tasks.
func pyCrossUses(path string, src []byte, defs defTable) []crossUse {
	var out []crossUse
	for _, m := range pyIdentRE.FindAllIndex(src, -1) {
		name := string(src[m[0]:m[1]])
		files := defs[name]
		if len(name) < minCrossName || len(files) == 0 || len(files) > maxDefiningFiles || slices.Contains(files, path) {
			continue
		}
		if m[0] > 0 && src[m[0]-1] == '.' {
			continue
		}
		out = append(out, crossUse{start: m[0], end: m[1], name: name})
	}
	return out
}

// crossName returns the name of the first use inside [start, end), or "".
func crossName(uses []crossUse, start, end int) string {
	for _, u := range uses {
		if u.start >= start && u.end <= end {
			return u.name
		}
	}
	return ""
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

// pyDefRE finds Python's top-level classes and functions; pyGlobalRE
// module-level assignments (annotated or not).
var (
	pyDefRE    = regexp.MustCompile(`(?m)^(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_][A-Za-z0-9_]*)`)
	pyGlobalRE = regexp.MustCompile(`(?m)^([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[^=\n]*)?=[^=]`)
)

// pyIdentRE finds Python identifiers (strings and comments included).
var pyIdentRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
