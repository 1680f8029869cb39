package lsp

import (
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfim/dfim/internal/dfimtest"
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
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	nvim, err := exec.LookPath("nvim")
	dfimtest.NeedTool(t, err != nil, "nvim not found on PATH (Debian: apt-get install neovim)")
	bin := buildDfim(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "main.go")
	if err := os.WriteFile(file, []byte(nesSource), 0o644); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(dir, "report.json")
	logFile := filepath.Join(dir, "dfim.log")
	script, _ := filepath.Abs("testdata/e2e/nes.lua")
	plugin, _ := filepath.Abs("../editors/nvim")
	cmd := exec.Command(nvim, "--headless", "-u", "NONE", "-i", "NONE", "--cmd", "set runtimepath^="+plugin, "-c", "luafile "+script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DFIM_BIN="+bin, "DFIM_FILE="+file, "DFIM_OUT="+outFile,
		"DFIM_ARGS="+strings.Join(append([]string{"--log-file", logFile, "--log-level", "debug"}, e2eEngineArgs()...), " "))
	done := make(chan error, 1)
	var combined []byte
	go func() {
		var err error
		combined, err = cmd.CombinedOutput()
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("nvim did not finish in 3 minutes")
	}
	report, _ := os.ReadFile(outFile)
	logs, _ := os.ReadFile(logFile)
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
	if jerr := json.Unmarshal(report, &r); err != nil || jerr != nil || !r.OK {
		t.Fatalf("neovim client failed: %v\nreport: %s\nnvim output: %s\nserver log:\n%s", err, report, combined, logs)
	}
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
