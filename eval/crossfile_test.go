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

// crossTree has one line (in b/use.go) that uses a name only another file
// defines and that appears nowhere else in its window; the other lines use
// local names, a name of their own file, a standard-library function whose
// name the tree also defines (strings.Cut), or a cross-file name written
// twice.
var crossTree = map[string]string{
	"go.mod": "module example.com/m\n",
	"a/def.go": `package a

// Frobnicate turns x.
func Frobnicate(x int) int { return x * 3 }

// Cut is the tree's own Cut, not strings.Cut.
func Cut(s string) string { return s }

// Twice is used twice in b/use.go.
func Twice() int { return 2 }
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
	if len(tasks) != 1 {
		t.Fatalf("got %d tasks, want only the a.Frobnicate line: %+v", len(tasks), tasks)
	}
	tk := tasks[0]
	if tk.Middle != "n += a.Frobnicate(n)" || tk.Path != "b/use.go" {
		t.Errorf("task middle %q path %q, want %q in b/use.go (relative to the root)", tk.Middle, tk.Path, "n += a.Frobnicate(n)")
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

func TestUsesAndQualifiers(t *testing.T) {
	got := uses(`x := strings.Cut(s, "a.Fake") // a.Comment`, "go")
	want := []use{{"x", ""}, {"strings", ""}, {"Cut", "strings"}, {"s", ""}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("uses = %v, want %v (strings and comments skipped)", got, want)
	}
	py := uses("y = os.path.join(a, b)", "python")
	if py[3] != (use{"join", "path"}) {
		t.Errorf("python uses = %v, want join qualified by path", py)
	}
}

func TestContainsWord(t *testing.T) {
	for _, tt := range []struct {
		text, name string
		want       bool
	}{
		{"a.Frobnicate(1)", "Frobnicate", true},
		{"Frobnicated", "Frobnicate", false},
		{"xFrobnicate Frobnicate", "Frobnicate", true},
		{"", "x", false},
	} {
		if got := containsWord(tt.text, tt.name); got != tt.want {
			t.Errorf("containsWord(%q, %q) = %v, want %v", tt.text, tt.name, got, tt.want)
		}
	}
}

func TestPythonDefinitions(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"m.py": "LIMIT: int = 3\nname = 'x'\nif LIMIT == 3:\n    pass\n\nclass Box:\n    async def fill(self):\n        return helper()\n",
	})
	defs := buildDefTable([]string{filepath.Join(root, "m.py")}, "python")
	for _, name := range []string{"LIMIT", "name", "Box", "fill"} {
		if len(defs[name]) != 1 {
			t.Errorf("%s not found as a definition: %v", name, defs)
		}
	}
	if len(defs["helper"]) != 0 || len(defs["if"]) != 0 {
		t.Errorf("a call or a comparison counted as a definition: %v", defs)
	}
}
