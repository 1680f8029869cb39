package eval

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// crossTree's b/use.go has lines that use names only another file defines
// (a.Frobnicate, a.Twice, a.Wheel, and helperB and pair of its own
// package) and
// lines that do not count: a name of their own file, a standard-library
// function whose name the tree also defines (strings.Cut), a method called
// through a variable (w.Spin), a builtin the tree also defines (len), a
// local that shadows a package-level name of another file (total), a
// struct field key (Cut:).
var crossTree = map[string]string{
	"go.mod": "module example.com/m\n",
	"a/def.go": `package a

// Frobnicate turns x.
func Frobnicate(x int) int { return x * 3 }

// Cut is the tree's own Cut, not strings.Cut.
func Cut(s string) string { return s }

// Twice is used twice in b/use.go.
func Twice() int { return 2 }

// A Wheel spins.
type Wheel struct{}

func (Wheel) Spin() int { return 1 }

func len(s string) int { return 0 }
`,
	"b/helper.go": `package b

var total = 0

func helperB() int { return 4 }

type pair struct{ Cut int }
`,
	"b/use.go": `package b

import (
	"strings"

	"example.com/m/a"
)

func local() int { return 1 }

func Use(s string) int {
	n := local()
	before, _, _ := strings.Cut(s, ",")
	n += len(before)
	n += a.Frobnicate(n)
	n += a.Twice()
	n -= a.Twice()
	w := a.Wheel{}
	n += w.Spin()
	n += len(s)
	total := n
	n += total
	p := pair{Cut: 1}
	n += p.Cut
	n += helperB()
	return n
}
`,
	"testdata/x.go": "package x\n\nfunc F() {\n\t_ = a.Frobnicate(1)\n}\n",
}

func TestGenerateCrossFileKeepsLinesThatNeedAnotherFile(t *testing.T) {
	root := writeFiles(t, crossTree)
	cfg := GenConfig{Root: root, Lang: "go", Kind: KindSingleLine, N: 10, Seed: 3, RootPaths: true, CrossFile: true}
	tasks, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"n += a.Frobnicate(n)": true, "n += a.Twice()": true, "n -= a.Twice()": true,
		"w := a.Wheel{}": true, "p := pair{Cut: 1}": true, "n += helperB()": true}
	got := map[string]bool{}
	for _, tk := range tasks {
		got[tk.Middle] = true
		if tk.Path != "b/use.go" {
			t.Errorf("task %s has path %q, want b/use.go (relative to the root)", tk.ID, tk.Path)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cross-file lines %v, want %v", got, want)
	}
	again, _ := Generate(cfg)
	if !reflect.DeepEqual(tasks, again) {
		t.Error("the same seed gave different tasks")
	}
	// Without CrossFile the same tree gives more lines, under "go/".
	all, err := Generate(GenConfig{Root: root, Lang: "go", Kind: KindSingleLine, N: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= 1 || all[0].Path[:3] != "go/" {
		t.Errorf("plain generation: %d tasks, first path %q; want several under go/", len(all), all[0].Path)
	}
}

func TestGenerateRelativeRoot(t *testing.T) {
	root := writeFiles(t, crossTree)
	t.Chdir(root)
	tasks, err := Generate(GenConfig{Root: ".", Lang: "go", Kind: KindSingleLine, N: 3, Seed: 1, RootPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		if tk.Path != "a/def.go" && tk.Path != "b/use.go" {
			t.Errorf("task %s has path %q; want a path relative to the root", tk.ID, tk.Path)
		}
	}
}

func TestGoCrossUses(t *testing.T) {
	root := writeFiles(t, crossTree)
	var files []string
	for name := range crossTree {
		if filepath.Ext(name) == ".go" {
			files = append(files, filepath.Join(root, name))
		}
	}
	defs := buildDefTable(files, "go")
	use := filepath.Join(root, "b/use.go")
	var got []string
	for _, u := range goCrossUses(use, []byte(crossTree["b/use.go"]), defs, "example.com/m") {
		if crossTree["b/use.go"][u.start:u.end] != u.name {
			t.Errorf("use %q at %d-%d covers %q", u.name, u.start, u.end, crossTree["b/use.go"][u.start:u.end])
		}
		got = append(got, u.name)
	}
	want := []string{"Frobnicate", "Twice", "Twice", "Wheel", "pair", "helperB"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cross-file uses %v, want %v", got, want)
	}
	// Without go.mod, a dotted import path is the tree's own.
	if n := len(goCrossUses(use, []byte(crossTree["b/use.go"]), defs, "")); n != len(want) {
		t.Errorf("without a module path: %d uses, want %d", n, len(want))
	}
}

func TestPythonDefinitions(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"m.py": "LIMIT: int = 3\nname = 'x'\nif LIMIT == 3:\n    pass\n\nclass Box:\n    async def fill(self):\n        return helper()\n\nasync def run():\n    pass\n",
	})
	defs := buildDefTable([]string{filepath.Join(root, "m.py")}, "python")
	for _, name := range []string{"LIMIT", "name", "Box", "run"} {
		if len(defs[name]) != 1 {
			t.Errorf("%s not found as a definition: %v", name, defs)
		}
	}
	if len(defs["helper"]) != 0 || len(defs["if"]) != 0 || len(defs["fill"]) != 0 {
		t.Errorf("a call, a comparison or a method counted as a definition: %v", defs)
	}
}
