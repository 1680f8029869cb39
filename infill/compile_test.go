package infill

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/index"
)

const stackSrc = `package examples

import "fmt"

type Stack struct {
	items []int
}

func (s *Stack) Push(v int) {
	|
}

func (s *Stack) Pop() (v int, ok bool) {
	if len(s.items) == 0 {
		return 0, false
	}
	v = s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}
`

// at splits a source with one | into the document and the cursor offset.
func at(src string) (string, int) {
	i := strings.IndexByte(src, '|')
	return src[:i] + src[i+1:], i
}

func TestCompileCheckGoTypes(t *testing.T) {
	doc, pos := at(stackSrc)
	for _, tc := range []struct {
		fill string
		ok   bool
	}{
		{"s.items = append(s.items, v)", true},
		{"return len(s.items)", false},             // values returned from a function without results
		{"c.port = v", false},                      // no c in scope
		{"x := v", true},                           // declared and not used: code still being written
		{"fmt.Println(v)", true},                   // imports are not loaded: not held against the fill
		{"s.items = append(s.items, v, w)", false}, // undefined w
	} {
		v := compileCheck("go", "stack.go", doc, pos, pos, tc.fill, "", nil, nil, nil)
		if v.method != checkedTypes || v.ok != tc.ok {
			t.Errorf("%q: verdict %+v, want go/types and ok=%v", tc.fill, v, tc.ok)
		}
	}
}

func TestCompileCheckSiblingsAndIndex(t *testing.T) {
	dir := t.TempDir()
	doc, pos := at(stackSrc)
	path := filepath.Join(dir, "stack.go")
	if err := os.WriteFile(filepath.Join(dir, "limit.go"), []byte("package examples\n\nconst maxItems = 10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fill := "if len(s.items) >= maxItems {\n\t\treturn\n\t}"
	if v := compileCheck("go", path, doc, pos, pos, fill, "", nil, nil, nil); v.ok {
		t.Errorf("without the package's other files, maxItems is undefined; verdict %+v", v)
	}
	if v := compileCheck("go", path, doc, pos, pos, fill, "", diskSiblings, nil, nil); !v.ok || v.method != checkedTypes {
		t.Errorf("with limit.go read, the fill compiles; verdict %+v", v)
	}
	names := indexNames{fakeLookup{"maxItems": filepath.Join(dir, "limit.go")}}
	if v := compileCheck("go", path, doc, pos, pos, fill, "", nil, names, nil); !v.ok {
		t.Errorf("the index knows maxItems in the package; verdict %+v", v)
	}
	// A document that does not parse without the fill: the scope check,
	// with the package's names.
	broken := "package examples\n\nvar limit = \n"
	if v := compileCheck("go", path, broken, len(broken)-1, len(broken)-1, "maxItems * 2", "", diskSiblings, nil, nil); !v.ok || v.method != checkedScope {
		t.Errorf("scope check with limit.go read: verdict %+v, want ok", v)
	}
	if v := compileCheck("go", path, broken, len(broken)-1, len(broken)-1, "minItems * 2", "", diskSiblings, nil, nil); v.ok {
		t.Errorf("scope check: minItems is nowhere; verdict %+v", v)
	}
	other := indexNames{fakeLookup{"maxItems": "/elsewhere/limit.go"}}
	if v := compileCheck("go", path, doc, pos, pos, fill, "", nil, other, nil); v.ok {
		t.Errorf("a maxItems of another package does not count; verdict %+v", v)
	}
}

func TestCompileCheckScope(t *testing.T) {
	// A window of a Go file that does not parse as a whole: the scope check.
	win := "\tif n > 0 {\n\t\ts.items = s.items[:n]\n\t}\n\t|\n\treturn s\n}\n"
	doc, pos := at(win)
	for _, tc := range []struct {
		fill string
		ok   bool
	}{
		{"n = len(s.items)", true},
		{"c.port = v", false},
		{"for i, x := range s.items {\n\t\t_ = i + x\n\t}", true},
		{"err := f.Close()", false},
		{"m := Map{key: n}", false}, // Map is nowhere
		{"p := struct{ a int }{a: n}", true},
		{`msg := "c.port is " + strconv.Itoa(n)`, false}, // strconv nowhere near
	} {
		v := compileCheck("go", "x.go", doc, pos, pos, tc.fill, "", nil, nil, nil)
		if v.method != checkedScope || v.ok != tc.ok {
			t.Errorf("%q: verdict %+v, want scope and ok=%v", tc.fill, v, tc.ok)
		}
	}
	if v := compileCheck("go", "x.go", doc, pos, pos, "err := f.Close()", "// f is a file\nvar f *os.File\n", nil, nil, nil); !v.ok {
		t.Errorf("a name of the cross-file context counts; verdict %+v", v)
	}
}

func TestCompileCheckPython(t *testing.T) {
	src := "import os\n\ndef size(path, follow=True):\n    st = os.stat(path)\n    |\n    return st.st_size\n"
	doc, pos := at(src)
	for _, tc := range []struct {
		fill string
		ok   bool
	}{
		{"if follow:\n        st = os.lstat(path)", true},
		{"print(st, file=sys.stderr)", false}, // sys is not imported
		{"import sys\n    print(st, file=sys.stderr)", true},
		{"total = sum(len(x) for x in path)", true},
		{"log.debug('stat %s', path)", false},
		{"fn = lambda p, q=1: p + q", true},
		{"with open(path) as f:\n        data = f.read()", true},
		{"x = '''undefined_in_string'''", true},
		{"self.cache[path] = st", true}, // self: taken as a builtin of methods
	} {
		v := compileCheck("python", "m.py", doc, pos, pos, tc.fill, "", nil, nil, nil)
		if v.method != checkedScope || v.ok != tc.ok {
			t.Errorf("%q: verdict %+v, want scope and ok=%v", tc.fill, v, tc.ok)
		}
	}
	if v := compileCheck("rust", "m.rs", "fn main() {}", 11, 11, "x", "", nil, nil, nil); v.method != notChecked || !v.ok {
		t.Errorf("rust: verdict %+v, want not checked", v)
	}
}

// fakeLookup is an index that knows where each name is defined.
type fakeLookup map[string]string

func (f fakeLookup) Lookup(name string) []index.Symbol {
	if p := f[name]; p != "" {
		return []index.Symbol{{Name: name, Path: p}}
	}
	return nil
}

func TestRepeatsItself(t *testing.T) {
	for text, want := range map[string]bool{
		"0; i < i0; i < i0; i < i0; i < i0":  true,
		"x := foo.Bar(foo.Bar(foo.Bar(foo.B": true,
		"return nil, nil":                    false,
		"b := []int{0, 0, 0, 0, 0, 0}":       false,
		"s.items = append(s.items, v)":       false,
		"---------------------------":        false,
		"// := := := :=":                     true,
		"x == 1 || y == 2":                   false,
		"a, a, a":                            false,
		"{{{ }}} )))":                        false,
	} {
		if got := repeatsItself(text); got != want {
			t.Errorf("repeatsItself(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestBlockPlausible(t *testing.T) {
	for src, want := range map[string]bool{
		"func f() {\n|\n}\n":                         true,  // an empty body
		"func f() {\n\tx := 1\n\t|\n}\n":             true,  // the end of a body
		"func f() {\n\tx := 1\n\t|\n\treturn x\n}\n": true,  // before the body's return
		"func f() {\n\tx := 1\n\t|\n\ty := 2\n}\n":   false, // between two statements
		"func f() {\n\t|\n\ty := 2\n}\n":             false, // before the first statement
		"func f() {\n\t|\n\t\treturn err\n\t}\n}\n":  false, // a body with no head: its one line is due
		"def f(x):\n    |\n    return x\n":           true,
		"local function f(x)\n  |\nend\n":            true,
		"\tif a {\n\t\tb()\n\t}\n\t|\n\tc()\n":       false,
		"\tif a {\n\t\tb()\n\t\t|\n\t}\n\tc()\n":     true,
		"package p\n\nfunc a() {}\n|\nfunc b() {}\n": false,
		"package p\n\nfunc a() {}\n|":                true, // the end of the file
	} {
		doc, pos := at(src)
		ls := strings.LastIndexByte(doc[:pos], '\n') + 1
		le := len(doc)
		if i := strings.IndexByte(doc[pos:], '\n'); i >= 0 {
			le = pos + i
		}
		if got := blockPlausible(doc, ls, le); got != want {
			t.Errorf("blockPlausible(%q) = %v, want %v", src, got, want)
		}
	}
}

// TestGateDropsWhatWouldNotCompile: the fill of examples/stack.go's Push
// that the built-in model gives (it closes Push and starts the file over)
// is cut at the dedent, then dropped for returning a value from Push; a
// fill that compiles is shown.
func TestGateDropsWhatWouldNotCompile(t *testing.T) {
	doc, pos := at(strings.Replace(stackSrc, "\t|", "|", 1))
	bad := "\treturn len(s.items)\n}\n// Package examples holds a small file to try dfim on.\npackage examples\n"
	for _, tc := range []struct {
		name    string
		fills   []engine.Fill
		minConf float64
		want    []string
	}{
		{"only a fill that does not compile: nothing", []engine.Fill{fill(bad)}, 0, nil},
		{"unasked", []engine.Fill{fill(bad), fill("\ts.items = append(s.items, v)")}, 0.1, []string{"\ts.items = append(s.items, v)"}},
		{"asked: ranked last", []engine.Fill{fill(bad), fill("\ts.items = append(s.items, v)")}, 0, []string{"\ts.items = append(s.items, v)", "\treturn len(s.items)"}},
		{"an undefined name", []engine.Fill{fill("\tc.port = v\n")}, 0, nil},
		{"a repetition loop", []engine.Fill{fill("\tfor i := 0; i < i0; i < i0; i < i0; i < i0 {\n\t}")}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &scripted{calls: [][]engine.Fill{tc.fills}}
			c := New(sc)
			defer c.Close()
			sugs, err := c.Complete(context.Background(), Document{Path: "stack.go", Text: doc}, pos,
				Options{MinConfidence: tc.minConf, RepairRounds: -1, LineConfidence: -1})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range sugs {
				got = append(got, s.Text)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("suggestions %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFillHolesDropsWhatWouldNotCompile: batch writes what FillHoles
// gives, so a hole's fill that would not compile is refused, asked or not.
func TestFillHolesDropsWhatWouldNotCompile(t *testing.T) {
	doc, pos := at(stackSrc)
	sc := &scripted{calls: [][]engine.Fill{{fill("return len(s.items)")}}}
	c := New(sc)
	defer c.Close()
	out, err := c.FillHoles(context.Background(), Document{Path: "stack.go", Text: doc}, []Hole{{Start: pos, End: pos}}, Options{RepairRounds: -1})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Text != "" || out[0].Reason == "" {
		t.Errorf("hole filled with %q (reason %q); want it refused", out[0].Text, out[0].Reason)
	}
}

// TestJointFillRefusesLoopsAndComments: the editor's Fill Holes applied
// `// := := :=` to a hole where code was due; a joint fill now goes
// through the same gate as a completion.
func TestJointFillRefusesLoopsAndComments(t *testing.T) {
	doc := "package a\n\nfunc f(x int) int {\n\ty := 0\n\t\n\treturn x + \n}\n"
	h1 := strings.Index(doc, "\t\n") + 1
	h2 := strings.Index(doc, "x + ") + len("x + ")
	sc := &scripted{calls: [][]engine.Fill{{fill("// := := :=", "y")}}}
	c := New(sc)
	defer c.Close()
	out, err := c.FillHoles(context.Background(), Document{Path: "a.go", Text: doc}, []Hole{{Start: h1, End: h1}, {Start: h2, End: h2}}, Options{RepairRounds: -1})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Text != "" || out[1].Text != "y" {
		t.Errorf("fills %q, %q; want the loop refused and y kept", out[0].Text, out[1].Text)
	}
}

// BenchmarkCompileCheck: the go/types check of a fill in complete.go with
// the rest of package infill read from disk (imports not loaded).
func BenchmarkCompileCheck(b *testing.B) {
	src, err := os.ReadFile("complete.go")
	if err != nil {
		b.Fatal(err)
	}
	doc := string(src)
	pos := strings.Index(doc, "\tstart := time.Now()\n") // first line of Complete's body
	path, _ := filepath.Abs("complete.go")
	for b.Loop() {
		goErrorsCache.Lock()
		goErrorsCache.errs = nil // a new document each time, as while typing
		goErrorsCache.Unlock()
		if v := compileCheck("go", path, doc, pos, pos, "_ = pos\n", "", diskSiblings, nil, nil); v.method != checkedTypes || !v.ok {
			b.Fatalf("verdict %+v", v)
		}
	}
}
