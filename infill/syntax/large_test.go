package syntax

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	sitter "github.com/smacker/go-tree-sitter"
)

// TestBracketsAroundMatchesWholeCount: counting only the edited lines
// gives the whole-text count, for random edits of texts with strings,
// comments and stray brackets, in each comment style.
func TestBracketsAroundMatchesWholeCount(t *testing.T) {
	ctx := context.Background()
	pieces := []string{"{", "}", "(", ")", "[", "]", "\n", "\n", "x", " ", "\"a{\"", "'}'", "`(\n`", "// {\n", "/* ) */", "# [\n", "\"\"\"\n{\"\"\"", "\"", "/*", "`"}
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	for _, name := range []string{"go", "python", "rust"} {
		lang := Lookup(name)
		if lang == nil {
			t.Fatalf("no grammar for %s", name)
		}
		for i := range 300 {
			text := gen(40)
			tree, err := lang.Parse(ctx, text)
			if err != nil {
				t.Fatal(err)
			}
			start := rng.IntN(len(text) + 1)
			end := start + rng.IntN(len(text)-start+1)
			for range 3 { // a few candidates share one cut
				repl := gen(rng.IntN(4))
				nt, err := tree.Replace(ctx, start, end, repl)
				if err != nil {
					t.Fatal(err)
				}
				before, after := tree.bracketsAround(start, end, repl, nt)
				if wb, wa := unmatchedBrackets(text, name), unmatchedBrackets(nt.Text(), name); before != wb || after != wa {
					t.Fatalf("%s #%d: bracketsAround(%q, %d-%d, %q) = %d, %d; the whole texts count %d, %d", name, i, text, start, end, repl, before, after, wb, wa)
				}
				nt.Close()
			}
			tree.Close()
		}
	}
}

// collectErrorsByIndex is the walk by child index through the Go binding
// that treeErrors replaced: the reference its results must equal.
func collectErrorsByIndex(n *sitter.Node, out []Error) []Error {
	if n == nil || !n.HasError() {
		return out
	}
	if n.IsMissing() {
		return append(out, Error{Start: int(n.StartByte()), End: int(n.EndByte()), Missing: true, Node: n.Type()})
	}
	if n.IsError() {
		return append(out, Error{Start: int(n.StartByte()), End: int(n.EndByte())})
	}
	for i := 0; i < int(n.ChildCount()); i++ {
		out = collectErrorsByIndex(n.Child(i), out)
	}
	return out
}

// TestErrorsWalkInC: the walk in C finds the same errors, in the same
// order, as the walk by child index.
func TestErrorsWalkInC(t *testing.T) {
	ctx := context.Background()
	src := goFile(300)
	missing := 0
	for i, text := range []string{
		src,
		strings.Replace(src, "total := 0", "total := (0", 3),
		strings.ReplaceAll(src, "total := 0", "total := (0"), // more errors than the first buffer holds
		strings.Replace(src, "\t}\n\ts :=", "\ts :=", 2) + "func (",
		"package p\nfunc f() { x := ; y = }\n)",
	} {
		tree, err := Lookup("go").Parse(ctx, text)
		if err != nil {
			t.Fatal(err)
		}
		got, want := tree.Errors(), collectErrorsByIndex(tree.t.RootNode(), nil)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("text %d: Errors() = %v, want %v", i, got, want)
		}
		if i > 0 && len(got) == 0 {
			t.Errorf("text %d: no errors found in a broken text", i)
		}
		for _, e := range got {
			missing += map[bool]int{true: 1}[e.Missing]
		}
		tree.Close()
	}
	if missing == 0 {
		t.Error("no MISSING node among the errors: the test misses a case")
	}
}

// TestTopLevel: the head runs past the imports, terminators and comments
// to the first declaration; an edit's range covers the nodes it touches.
func TestTopLevel(t *testing.T) {
	src := "package p\n\nimport \"fmt\"\nimport \"os\"\n\n// c\nfunc f() { fmt.Println(os.Args) }\n\nvar x = 1\n"
	tree, err := Lookup("go").Parse(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	f, v := strings.Index(src, "func"), strings.Index(src, "var")
	for _, c := range []struct{ start, end, ws, we int }{
		{f + 10, f + 10, f, v - 2},                   // inside f
		{f + 10, v + 3, f, len(src) - 1},             // f to x
		{v - 1, v - 1, v - 2, v},                     // between them: the terminator
		{len(src), len(src), len(src) - 1, len(src)}, // at the end
	} {
		ws, we, head := tree.TopLevel(c.start, c.end)
		if want := strings.Index(src, "\nfunc"); head != want {
			t.Errorf("TopLevel(%d, %d): head %d, want %d (after the imports and comments)", c.start, c.end, head, want)
		}
		if ws != c.ws || we != c.we {
			t.Errorf("TopLevel(%d, %d) = [%d, %d), want [%d, %d)", c.start, c.end, ws, we, c.ws, c.we)
		}
	}
}

// TestCheckStopsWhenCancelled: a request that has ended checks nothing on
// a large document; Check says why.
func TestCheckStopsWhenCancelled(t *testing.T) {
	src := bigGoFile(1 << 20)
	tree, err := Lookup("go").Parse(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cursor := strings.Index(src[len(src)/2:], "\t\ttotal += x") + len(src)/2
	if _, err := tree.Check(ctx, cursor, cursor, "total -= x\n\t\t"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Check with a cancelled context = %v, want context.Canceled", err)
	}
}

// cpuTime is the process's CPU time so far: on a loaded machine it
// compares runs better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bigGoFile is goFile by size: about size bytes of ordinary functions.
func bigGoFile(size int) string {
	var b strings.Builder
	b.WriteString(goFile(10))
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "func g%d(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n\t\ttotal += x\n\t}\n\treturn total\n}\n\n", i)
	}
	return b.String()
}

// BenchmarkCheckLarge measures validating one candidate in the middle of Go
// files of 0.25, 0.5 and 1 MB, clean and with the user's unfinished line at
// the cursor: ms/check must not grow with the size.
func BenchmarkCheckLarge(b *testing.B) {
	ctx := context.Background()
	lang := Lookup("go")
	for _, kb := range []int{256, 512, 1024} {
		src := bigGoFile(kb << 10)
		cursor := strings.Index(src[len(src)/2:], "\t\ttotal += x") + len(src)/2
		unfinished := src[:cursor] + "total += (x\n" + src[cursor:]
		for _, bc := range []struct{ name, doc, cand string }{
			{"clean", src, "total -= x / 2\n\t\t"},
			{"unfinished", unfinished, "total -= x / 2\n\t\t"},
		} {
			b.Run(fmt.Sprintf("%dKB/%s", len(bc.doc)>>10, bc.name), func(b *testing.B) {
				tree, err := lang.Parse(ctx, bc.doc)
				if err != nil {
					b.Fatal(err)
				}
				defer tree.Close()
				b.ReportAllocs()
				i := 0
				cpu0 := cpuTime()
				for b.Loop() {
					// a distinct candidate each time, as a model gives
					if _, err := tree.Check(ctx, cursor, cursor, fmt.Sprintf("total -= x / %d\n\t\t", i)); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/check")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N)/1000, "cpu-ms/check")
			})
		}
	}
}
