package infill

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Would a fill compile where it lands? A suggestion that parses but names
// something that does not exist there (`c.port = v` copied from another
// file into a method with no c) or returns values from a function without
// results is wrong whatever its confidence. The check is cheap and runs on
// every candidate:
//
//   - Go, when the document parses: go/types on the file (and, where the
//     caller allows it, the other files of its directory's package) with
//     the fill applied; the fill fails when it adds a type error the
//     document without it did not have. Imports are not loaded (that
//     costs far more than a completion may): a selector on an imported
//     package is left unchecked, as go/types does for a package it could
//     not import.
//   - Go that does not parse (a window of a file, a file mid-edit) and
//     Python: a scope check, every name the fill uses must be a builtin,
//     a name the fill declares, or a name of the document or of the
//     cross-file context.
//   - Other languages: not checked (the syntax judge alone).

// A compileMethod says how a fill was checked.
type compileMethod string

const (
	checkedTypes compileMethod = "go/types"
	checkedScope compileMethod = "scope"
	notChecked   compileMethod = ""
)

// A compileVerdict is the compile check's word on one fill.
type compileVerdict struct {
	method compileMethod
	ok     bool
	why    string // the first error the fill adds, when !ok
}

// maxTypeCheckBytes bounds the Go source go/types may check for one fill
// (the document and its package's other files): past it the scope check
// runs instead, so a completion stays within a few milliseconds.
const maxTypeCheckBytes = 512 << 10

// A nameSource knows the package-level names defined in other files of
// the workspace: *index.Index is one (its Lookup), through Options.Context.
type nameSource interface {
	Defines(path, name string) bool
}

// compileCheck judges replacing [start, end) of doc (the file at path, in
// language lang) with text. extra is the cross-file context the canvas
// carried; siblings, when non-nil, gives the other files of a Go
// package; names, when non-nil, knows names defined elsewhere; words,
// when non-nil, remembers the scope check's names of doc (wordMemo).
func compileCheck(lang, path, doc string, start, end int, text, extra string, siblings siblingSource, names nameSource, words *wordMemo) compileVerdict {
	switch lang {
	case "go":
		if v, ok := goTypeCheck(path, doc, start, end, text, identWords(extra), siblings, names); ok {
			return v
		}
		if siblings != nil {
			names = withPackageNames(names, path, doc, siblings)
		}
		return scopeCheck(lang, path, doc, start, end, text, extra, names, words)
	case "python":
		return scopeCheck(lang, path, doc, start, end, text, extra, names, words)
	}
	return compileVerdict{method: notChecked, ok: true}
}

// goTypeCheck type-checks doc before and after the edit; ok is false when
// it could not (the document does not parse, or is too big), and the
// scope check should run instead. An undefined name the index places in
// the package, or the cross-file context (extraWords) spells, is let be:
// it may be defined in a file go/types was not given.
func goTypeCheck(path, doc string, start, end int, text string, extraWords map[string]bool, siblings siblingSource, names nameSource) (compileVerdict, bool) {
	after := doc[:start] + text + doc[end:]
	if len(after) > maxTypeCheckBytes {
		return compileVerdict{}, false
	}
	before, err := goErrorsCached(path, doc, siblings)
	if err != nil {
		return compileVerdict{}, false
	}
	now, err := goErrors(path, after, siblings)
	if err != nil {
		// The edited file does not parse with go/parser: the syntax judge
		// already refused it unless the document did not parse either.
		return compileVerdict{}, false
	}
	seen := map[string]int{}
	for _, e := range before {
		seen[e]++
	}
	for _, e := range now {
		if seen[e] > 0 {
			seen[e]--
			continue
		}
		if name, ok := strings.CutPrefix(e, "undefined: "); ok && !strings.Contains(name, ".") &&
			(names != nil && names.Defines(path, name) || extraWords[name]) {
			continue // defined in a file of the package go/types was not given
		}
		return compileVerdict{method: checkedTypes, why: e}, true
	}
	return compileVerdict{method: checkedTypes, ok: true}, true
}

// goErrorsCache keeps the type errors of the last document checked: every
// candidate of a completion is compared with the same document. Whether
// the package's other files were read is part of the key: a process that
// serves both an editor (no sibling files) and a fill that reads them
// must not compare one mode's candidates with the other's errors.
var goErrorsCache struct {
	sync.Mutex
	path, doc    string
	withSiblings bool
	errs         []string
	err          error
}

func goErrorsCached(path, doc string, siblings siblingSource) ([]string, error) {
	goErrorsCache.Lock()
	defer goErrorsCache.Unlock()
	c := &goErrorsCache
	if c.path == path && c.doc == doc && c.withSiblings == (siblings != nil) && c.errs != nil {
		return c.errs, c.err
	}
	errs, err := goErrors(path, doc, siblings)
	if errs == nil {
		errs = []string{}
	}
	c.path, c.doc, c.withSiblings, c.errs, c.err = path, doc, siblings != nil, errs, err
	return errs, err
}

// ignoredTypeErrors are errors of code still being written, not of a
// wrong fill: a variable declared on this line is used on the next.
var ignoredTypeErrors = []string{"declared and not used", "imported and not used", "label", "missing return", "could not import"}

// goErrors type-checks src (with its package's other files when
// siblings gives them) and returns the messages of its type errors in
// src itself; err is set when src does not parse.
func goErrors(path, src string, siblings siblingSource) ([]string, error) {
	fset := token.NewFileSet()
	var others []*ast.File
	if siblings != nil {
		pf, err := parser.ParseFile(token.NewFileSet(), path, src, parser.PackageClauseOnly)
		if err != nil {
			return nil, err
		}
		pkg := siblings(path, pf.Name.Name)
		if pkg.size+len(src) > maxTypeCheckBytes {
			return nil, errors.New("package too big to type-check")
		}
		if pkg.fset != nil {
			fset, others = pkg.fset, pkg.files
		}
	}
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	tf := fset.File(f.Pos())
	defer fset.RemoveFile(tf) // the siblings' FileSet is shared and lives on
	var errs []string
	conf := types.Config{
		Importer:    failingImporter{},
		FakeImportC: true,
		Error: func(err error) {
			te, ok := err.(types.Error)
			if !ok || fset.File(te.Pos) != tf {
				return
			}
			for _, ig := range ignoredTypeErrors {
				if strings.Contains(te.Msg, ig) {
					return
				}
			}
			errs = append(errs, te.Msg)
		},
	}
	conf.Check(f.Name.Name, fset, append([]*ast.File{f}, others...), nil)
	return errs, nil
}

// failingImporter imports nothing: go/types then treats each import as a
// package it could not load and reports no error on its selectors.
type failingImporter struct{}

func (failingImporter) Import(path string) (*types.Package, error) {
	return nil, errors.New("imports are not loaded by the compile check")
}

// A goPackage is the other files of a Go file's package, parsed into fset
// with their function bodies dropped: the compile check needs their
// declarations only, and checking bodies would cost far more.
type goPackage struct {
	fset  *token.FileSet
	files []*ast.File
	size  int // bytes of source
}

// A siblingSource gives the other files of the package pkg that the file
// at path belongs to.
type siblingSource func(path, pkg string) goPackage

// siblingCache keeps what diskSiblings read, by file and package.
var siblingCache struct {
	sync.Mutex
	m map[string]goPackage
}

// diskSiblings reads the other .go files of path's directory that belong
// to package pkg (test files only for a test file), once per process: for
// fill, batch and eval, never the editor, which must not read files the
// user did not open to it.
func diskSiblings(path, pkg string) goPackage {
	key := filepath.Clean(path) + "\x00" + pkg
	siblingCache.Lock()
	defer siblingCache.Unlock()
	if p, ok := siblingCache.m[key]; ok {
		return p
	}
	if siblingCache.m == nil || len(siblingCache.m) > 64 {
		siblingCache.m = map[string]goPackage{}
	}
	p := readSiblings(path, pkg)
	siblingCache.m[key] = p
	return p
}

func readSiblings(path, pkg string) goPackage {
	dir := filepath.Dir(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return goPackage{}
	}
	test := strings.HasSuffix(path, "_test.go")
	p := goPackage{fset: token.NewFileSet()}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || filepath.Join(dir, name) == filepath.Clean(path) ||
			!test && strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		f, err := parser.ParseFile(p.fset, name, b, parser.SkipObjectResolution)
		if err != nil || f.Name.Name != pkg {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				fd.Body = nil
			}
		}
		p.files = append(p.files, f)
		p.size += len(b)
	}
	return p
}

// withPackageNames adds to names the package-level names of the other
// files of doc's package, for the scope check of a document go/types
// could not take (it does not parse without the fill).
func withPackageNames(names nameSource, path, doc string, siblings siblingSource) nameSource {
	pf, err := parser.ParseFile(token.NewFileSet(), path, doc, parser.PackageClauseOnly)
	if err != nil {
		return names
	}
	decl := map[string]bool{}
	for _, f := range siblings(path, pf.Name.Name).files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					decl[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							decl[n.Name] = true
						}
					case *ast.TypeSpec:
						decl[sp.Name.Name] = true
					}
				}
			}
		}
	}
	return packageNames{decl, names}
}

// packageNames is a nameSource that knows a package's names first.
type packageNames struct {
	decl map[string]bool
	next nameSource
}

func (p packageNames) Defines(path, name string) bool {
	return p.decl[name] || p.next != nil && p.next.Defines(path, name)
}
