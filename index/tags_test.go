package index

import (
	"context"
	"strings"
	"testing"
)

func TestTagQueriesCompile(t *testing.T) {
	for i := range taggers {
		cq, err := compileQuery(&taggers[i])
		if err != nil {
			t.Errorf("%s: %v", taggers[i].name, err)
			continue
		}
		cq.q.Close()
	}
}

// tagsOf runs one language's tag query over src.
func tagsOf(t *testing.T, lang, src string) tags {
	t.Helper()
	cq, err := compileQuery(taggerFor(lang))
	if err != nil {
		t.Fatal(err)
	}
	defer cq.q.Close()
	tg, err := extract(context.Background(), cq, "/x", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestExtractDefinitions(t *testing.T) {
	cases := []struct {
		lang, src string
		defs      []string // name:kind
		refs      []string // some of the references
	}{
		{"go", "package p\n\n// Open opens.\nfunc Open(n int) *File { return nil }\n\ntype File struct{ fd int }\n\nfunc (f *File) Close() error { return close(f.fd) }\n\nconst Max = 3\n\nvar (\n\tA = 1\n\tB = 2\n)\n\nfunc f() { x := 1; _ = x; g.Do() }\n\ntype R interface{ Read(p []byte) int }\n",
			[]string{"Open:function", "File:type", "Close:method", "R:type", "Read:method", "Max:constant", "A:variable", "B:variable", "f:function"}, []string{"close", "Do"}},
		{"python", "import os\n\nLIMIT = 4\n\nclass Reader:\n    def read(self, n):\n        return os.read(n)\n\ndef main():\n    r = Reader()\n",
			[]string{"LIMIT:constant", "Reader:class", "read:function", "main:function"}, []string{"Reader", "read"}},
		{"javascript", "export const api = (x) => x;\nfunction load(p) { return fetch(p); }\nclass Store { get(k) { return this.m.get(k); } }\n",
			[]string{"api:variable", "load:function", "Store:class", "get:method"}, []string{"fetch", "get"}},
		{"typescript", "interface Shape { area(): number }\ntype Id = string;\nexport function mk(id: Id): Shape { return new Sq(); }\nclass Sq implements Shape { area() { return 1 } }\nenum Color { Red }\n",
			[]string{"Shape:interface", "area:method", "Id:type", "mk:function", "Sq:class", "Color:enum"}, []string{"Sq"}},
		{"rust", "pub struct Point { x: i32 }\nimpl Point { fn norm(&self) -> i32 { abs(self.x) } }\ntrait Draw { fn draw(&self); }\nconst N: usize = 3;\nmacro_rules! m { () => {} }\n",
			[]string{"Point:class", "norm:function", "Draw:interface", "draw:function", "N:constant", "m:macro"}, []string{"abs"}},
		{"c", "#define MAX 10\ntypedef struct node { int v; } node_t;\nint sum(node_t *n);\nstatic int *first(int *a) { return a; }\nint sum(node_t *n) { return helper(n->v); }\n",
			[]string{"MAX:macro", "node:class", "node_t:type", "sum:function", "first:function"}, []string{"helper"}},
		{"java", "class Cache { private int size; int get(String k) { return lookup(k); } }\ninterface Store {}\n",
			[]string{"Cache:class", "size:field", "get:method", "Store:interface"}, []string{"lookup"}},
	}
	for _, c := range cases {
		tg := tagsOf(t, c.lang, c.src)
		got := map[string]bool{}
		for _, d := range tg.defs {
			got[d.Name+":"+d.Kind] = true
		}
		for _, w := range c.defs {
			if !got[w] {
				t.Errorf("%s: no definition %s; got %v", c.lang, w, got)
			}
		}
		refs := strings.Join(tg.refs, " ")
		for _, w := range c.refs {
			if !strings.Contains(" "+refs+" ", " "+w+" ") {
				t.Errorf("%s: no reference %s; got %s", c.lang, w, refs)
			}
		}
	}
}

func TestSnippetHeadsMembersWithTheirContainer(t *testing.T) {
	cases := []struct{ lang, src, name, want string }{
		{"go", "package p\n\ntype Conn interface {\n\t// Read reads.\n\tRead(b []byte) (int, error)\n\tClose() error\n}\n", "Read",
			"type Conn interface {\n\t// Read reads.\n\tRead(b []byte) (int, error)\n}"},
		{"python", "class Reader:\n    x = 1\n\n    def read(self, n):\n        return n\n", "read",
			"class Reader:\n    def read(self, n):\n        return n"},
		{"go", "package p\n\nconst (\n\tA = 1\n\tB = 2\n)\n", "B", "const (\n\tB = 2\n)"},
		{"rust", "impl Point {\n    fn norm(&self) -> i32 { 0 }\n}\n", "norm",
			"impl Point {\n    fn norm(&self) -> i32 { 0 }\n}"},
	}
	for _, c := range cases {
		var got string
		for _, d := range tagsOf(t, c.lang, c.src).defs {
			if d.Name == c.name {
				got = d.Snippet
			}
		}
		if got != c.want {
			t.Errorf("%s %s snippet = %q, want %q", c.lang, c.name, got, c.want)
		}
	}
}

func TestSnippetKeepsDocAndSignature(t *testing.T) {
	body := strings.Repeat("\tx++\n", 20)
	src := "package p\n\n// Grow adds n.\n// It never fails.\nfunc Grow(n int) int {\n" + body + "\treturn n\n}\n\ntype Pair struct{ A, B int }\n"
	tg := tagsOf(t, "go", src)
	snip := map[string]string{}
	for _, d := range tg.defs {
		snip[d.Name] = d.Snippet
	}
	if want := "// Grow adds n.\n// It never fails.\nfunc Grow(n int) int"; snip["Grow"] != want {
		t.Errorf("Grow snippet = %q, want %q", snip["Grow"], want)
	}
	if want := "type Pair struct{ A, B int }"; snip["Pair"] != want {
		t.Errorf("Pair snippet = %q, want %q", snip["Pair"], want)
	}
}
