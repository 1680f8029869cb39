package infill

import "testing"

func TestPostProcess(t *testing.T) {
	tabs := indentStyle{tabs: true, width: 4}
	spaces := indentStyle{width: 4}
	for _, tc := range []struct {
		name string
		raw  string
		s    surround
		want string
	}{
		{"single line cut at newline", "x := 1\n\ty := 2", surround{singleLine: true, suffix: "\n}"}, "x := 1"},
		{"tail overlaps the rest of the line", "a, b)", surround{linePrefix: "\tx := f(", suffix: ")\n"}, "a, b"},
		{"a needed closer is kept", "foo(a)", surround{linePrefix: "\tx := ", suffix: ")\n"}, "foo(a)"},
		{"long word overlap is dropped", "return result", surround{linePrefix: "\t", suffix: " result\n}"}, "return"},
		{"short word overlap is kept", "x + 1", surround{linePrefix: "\ty := ", suffix: " 1\n"}, "x + 1"},
		{"whole-line copy of the next line", "a++\n\treturn a", surround{linePrefix: "\t", suffix: "\n\treturn a\n}"}, "a++"},
		{"fill that is only the next line", "return a", surround{linePrefix: "\t", suffix: "\n\treturn a\n}"}, ""},
		{"mid-line fill keeps its first line", "return a", surround{linePrefix: "\tx = ", suffix: "\n\treturn a\n}"}, "return a"},
		{"block's own brace is not the function's", "if a {\n\ta++\n}", surround{linePrefix: "\t", suffix: "\n}\n", indent: tabs}, "if a {\n\ta++\n}"},
		{"fill that runs on past the suffix's lines", "return v\n}\n\nfunc (b *buf) u64() uint64 {\n\tv := binary.Little",
			surround{linePrefix: "\t", suffix: "\n}\n\nfunc (b *buf) u64() uint64 {\n\tv := binary.LittleEndian.Uint64(b)\n", indent: tabs}, "return v"},
		{"one distinctive retyped line and more", "n := len(p)\n\treturn n, nil\n}\n\nfunc",
			surround{linePrefix: "\t", suffix: "\n\treturn n, nil\n}\n\nvar x = 1\n", indent: tabs}, "n := len(p)"},
		{"one short retyped line is kept", "if a {\n\t\tb()\n\t}\n\tc()",
			surround{linePrefix: "\t", suffix: "\n\t}\n\td()\n", indent: tabs}, "if a {\n\t\tb()\n\t}\n\tc()"},
		{"a copying loop is cut", "n := 1\n\tn := 1\n\tn := 1", surround{linePrefix: "\t", suffix: "\n}\n", indent: tabs}, "n := 1"},
		{"repeated closers are not a loop", "if a {\n\t\tb()\n\t}\n\tif c {\n\t\td()\n\t}", surround{linePrefix: "\t", suffix: "\n}\n", indent: tabs}, "if a {\n\t\tb()\n\t}\n\tif c {\n\t\td()\n\t}"},
		{"extra closing brace is dropped", "a++\n}", surround{linePrefix: "\t", suffix: "\n}\n"}, "a++"},
		{"spaces to tabs", "if a {\n        b()\n    }", surround{linePrefix: "\t", suffix: "\n", indent: tabs}, "if a {\n\t\tb()\n\t}"},
		{"tabs to spaces", "if a:\n\t\tb()", surround{linePrefix: "    ", suffix: "\n", indent: spaces}, "if a:\n        b()"},
		{"trailing spaces stripped", "a = 1   \n\tb = 2  ", surround{linePrefix: "\t", suffix: "\n", indent: tabs}, "a = 1\n\tb = 2"},
		{"space before mid-line suffix kept", "a + ", surround{linePrefix: "x = ", suffix: "b\n"}, "a + "},
		{"whitespace only", " \n\t \n", surround{linePrefix: "\t", suffix: "\n"}, ""},
		{"crlf file", "a\n\tb", surround{linePrefix: "\t", suffix: "\r\n}", indent: tabs, crlf: true}, "a\r\n\tb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := postProcess(tc.raw, tc.s); got != tc.want {
				t.Errorf("postProcess(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestDetectIndent(t *testing.T) {
	for _, tc := range []struct {
		text string
		want indentStyle
	}{
		{"func f() {\n\tx()\n\tif y {\n\t\tz()\n\t}\n}\n", indentStyle{tabs: true, width: 4}},
		{"def f():\n  x()\n  if y:\n    z()\n", indentStyle{width: 2}},
		{"def f():\n    x()\n    if y:\n        z()\n", indentStyle{width: 4}},
		{"", indentStyle{width: 4}},
	} {
		if got := detectIndent(tc.text); got != tc.want {
			t.Errorf("detectIndent(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
	}
}

func TestCoverClosers(t *testing.T) {
	for _, tc := range []struct {
		text string
		pos  int
		want int
	}{
		{"f(a)\n", 3, 4},
		{"f(g(a))\n", 5, 7},
		{"f(a) \n", 3, 4},
		{"s := \"\"\n", 6, 7},
		{"f(a) + b\n", 2, 2},
		{"x := \n", 5, 5},
	} {
		if got := coverClosers(tc.text, tc.pos); got != tc.want {
			t.Errorf("coverClosers(%q, %d) = %d, want %d", tc.text, tc.pos, got, tc.want)
		}
	}
}

func TestRemaskRegion(t *testing.T) {
	for _, tc := range []struct {
		text            string
		es, ee, round   int
		wantGood, wantT string
	}{
		{"a := foo(b,\n\tc := 2", 5, 11, 1, "a := ", "\n\tc := 2"},
		{"a := foo(b,\n\tc := 2", 5, 11, 2, "", "\n\tc := 2"},
		{"x++\n\ty := (", 20, 20, 1, "x++\n\t", ""}, // error in the suffix: last line
	} {
		g, tl := remaskRegion(tc.text, tc.es, tc.ee, tc.round)
		if g != tc.wantGood || tl != tc.wantT {
			t.Errorf("remaskRegion(%q, %d, %d, %d) = %q, %q; want %q, %q", tc.text, tc.es, tc.ee, tc.round, g, tl, tc.wantGood, tc.wantT)
		}
	}
}
