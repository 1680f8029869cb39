package models

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNotImportedByLSPOrInfill: DESIGN.md keeps model getting out of the
// language server and the infilling pipeline: names are resolved by the
// command line, and the engine opens GGUF files only. The module's import
// graph (non-test files) must not lead from lsp or infill to this package.
func TestNotImportedByLSPOrInfill(t *testing.T) {
	const module = "github.com/dfim/dfim"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return nil // someone's file mid-edit: not this test's business
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := module + "/" + filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, module+"/") {
				graph[pkg] = append(graph[pkg], path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const forbidden = module + "/engine/models"
	for start := range graph {
		if !strings.HasPrefix(start, module+"/lsp") && !strings.HasPrefix(start, module+"/infill") {
			continue
		}
		// Depth-first, remembering the way, to name the chain.
		seen := map[string]bool{}
		var walk func(pkg string, via []string) []string
		walk = func(pkg string, via []string) []string {
			if pkg == forbidden || strings.HasPrefix(pkg, forbidden+"/") {
				return append(via, pkg)
			}
			if seen[pkg] {
				return nil
			}
			seen[pkg] = true
			for _, next := range graph[pkg] {
				if chain := walk(next, append(via, pkg)); chain != nil {
					return chain
				}
			}
			return nil
		}
		if chain := walk(start, nil); chain != nil {
			t.Errorf("%s reaches %s: %s", start, forbidden, strings.Join(chain, " → "))
		}
	}
}
