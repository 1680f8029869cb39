package lsp

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"testing"
)

// nesSource has a field to rename (declared once, used three times) and a
// function whose three calls miss the argument its declaration has.
const nesSource = `package main

import "fmt"

type person struct {
	nmae string
	age  int
}

func add(a, b, c int) int { return a + b + c }

func main() {
	p := person{nmae: "Ada", age: 36}
	fmt.Println(p.nmae)
	if p.age > 30 {
		fmt.Println("hello", p.nmae)
	}
	x := add(1, 2)
	y := add(3, 4)
	fmt.Println(x, y, add(5, 6))
}
`

// TestE2ENeovimNextEdit drives `dfim serve` (the built-in model) from
// headless Neovim: after the user renames a field at its declaration, and
// after they add an argument to one of three calls, taking dfim's next
// edits one by one must leave code that parses and type-checks; then
// dfim's own plugin (editors/nvim/lua/dfim/nes.lua) draws and applies the
// next edits of another rename.
func TestE2ENeovimNextEdit(t *testing.T) {
	var r struct {
		OK      bool     `json:"ok"`
		Error   string   `json:"error"`
		Renamed int      `json:"renamed"`
		Plugin  []string `json:"plugin"`
		Text    string   `json:"text"`
		Taken   []struct {
			Line, Character int
			Text            string
		} `json:"taken"`
	}
	plugin, _ := filepath.Abs("../editors/nvim")
	_, logs := runNeovimE2E(t, []byte(nesSource), "testdata/e2e/nes.lua",
		[]string{"--cmd", "set runtimepath^=" + plugin}, []string{"--log-level", "debug"}, &r)
	t.Logf("edits taken: %+v; with the plugin: %q", r.Taken, r.Plugin)
	if r.Renamed == 0 || len(r.Taken) == r.Renamed {
		t.Errorf("took %d edits after the rename and %d after the added argument; want the next place of each", r.Renamed, len(r.Taken)-r.Renamed)
	}
	if len(r.Taken) > 0 && (r.Taken[0].Text != "name" || r.Taken[0].Line != 12) {
		t.Errorf("first next edit %+v, want name at the next use (line 13)", r.Taken[0])
	}
	if err := typeCheckGo(r.Text); err != nil {
		t.Errorf("after the next edits the file does not type-check: %v\n%s\nserver log:\n%s", err, r.Text, logs)
	}
}

// typeCheckGo parses and type-checks one Go file alone.
func typeCheckGo(src string) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", src, 0)
	if err != nil {
		return err
	}
	conf := types.Config{Importer: importer.Default()}
	_, err = conf.Check("main", fset, []*ast.File{f}, nil)
	return err
}
