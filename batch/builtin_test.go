package batch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
	_ "github.com/dfim/dfim/engine/native"
	"github.com/dfim/dfim/infill"
	"github.com/dfim/dfim/infill/syntax"
)

// builtinFiller opens the real native engine with the built-in model.
func builtinFiller(tb testing.TB) *infill.Completer {
	tb.Helper()
	d, err := engine.Open("native", engine.Config{})
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("built-in model: %v", err)
		}
		tb.Skipf("built-in model: %v", err)
	}
	c := infill.New(d)
	tb.Cleanup(func() { c.Close(); d.Close() })
	return c
}

// checkFilled asserts that every hole of the run was either filled, with
// the file parsing with no more errors than before (the markers left are
// errors themselves), or left exactly as it was and reported.
func checkFilled(t *testing.T, sum *Summary, before map[string]string, root string) {
	t.Helper()
	for _, f := range sum.Files {
		rel, _ := filepath.Rel(root, f.Path)
		got := read(t, f.Path)
		if f.Filled < f.Holes && len(f.Problems) == 0 {
			t.Errorf("%s: %d of %d holes filled but nothing reported", rel, f.Filled, f.Holes)
		}
		if !f.Changed {
			if got != before[rel] {
				t.Errorf("%s changed on disk though the run says it did not", rel)
			}
			continue
		}
		if after, was := syntaxErrors(t, f.Path, got), syntaxErrors(t, f.Path, before[rel]); after > was {
			t.Errorf("%s was written with %d syntax errors, %d before:\n%s", rel, after, was, got)
		}
	}
}

func syntaxErrors(t *testing.T, path, text string) int {
	t.Helper()
	tree, err := syntax.Lookup(syntax.Detect("", path)).Parse(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	return len(tree.Errors())
}

func TestBuiltinModelMarkersPlansAndQueries(t *testing.T) {
	filler := builtinFiller(t)
	files := map[string]string{
		"stack.go": "package stack\n\ntype Stack struct{ items []int }\n\n// Len returns the number of items.\nfunc (s *Stack) Len() int {\n\t<<fill>>\n}\n\n// Push adds v.\nfunc (s *Stack) Push(v int) {\n\t<<fill:2>>\n}\n",
		"util.py":  "def add(a, b):\n    <<fill>>\n\n\ndef sub(a, b):\n    return a - b\n",
		"todo.go":  "package stack\n\nfunc Sum(xs []int) int {\n\tpanic(\"unimplemented\")\n}\n",
	}
	root := tree(t, files)
	sum, err := Run(context.Background(), Config{Filler: filler, Jobs: 2}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if sum.HolesFound != 3 {
		t.Errorf("found %d marker holes, want 3", sum.HolesFound)
	}
	checkFilled(t, sum, files, root)
	t.Logf("markers: %d/%d filled", sum.HolesFilled, sum.HolesFound)

	plan, err := ReadPlan("plan", strings.NewReader(fmt.Sprintf(`{"path":%q,"start_line":6,"end_line":6}`, filepath.Join(root, "util.py"))))
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]string{"util.py": read(t, filepath.Join(root, "util.py"))}
	sum, err = Run(context.Background(), Config{Filler: filler, Plan: plan}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	checkFilled(t, sum, before, root)

	run, err := SyntaxQuery("go", `(function_declaration body: (block (expression_statement (call_expression function: (identifier) @f (#eq? @f "panic")))) @fill)`)
	if err != nil {
		t.Fatal(err)
	}
	before = map[string]string{"todo.go": read(t, filepath.Join(root, "todo.go")), "stack.go": read(t, filepath.Join(root, "stack.go"))}
	sum, err = Run(context.Background(), Config{Filler: filler, Query: "q", Lang: "go", RunQuery: run, DryRun: true}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if sum.HolesFound != 1 {
		t.Errorf("query found %d holes, want 1", sum.HolesFound)
	}
	if read(t, filepath.Join(root, "todo.go")) != before["todo.go"] {
		t.Error("dry run wrote todo.go")
	}
}

// BenchmarkBatch fills a generated tree of 200 files with 1,000 holes.
func BenchmarkBatch(b *testing.B) {
	filler := builtinFiller(b)
	for _, jobs := range []int{1, 2} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			holes, files := 0, 0
			for b.Loop() {
				b.StopTimer()
				root := b.TempDir()
				for i := 0; i < 200; i++ {
					var sb strings.Builder
					fmt.Fprintf(&sb, "package gen\n\n")
					for j := 0; j < 5; j++ {
						fmt.Fprintf(&sb, "// f%d_%d returns its argument plus %d.\nfunc f%d_%d(x int) int {\n\t<<fill>>\n}\n\n", i, j, j, i, j)
					}
					os.WriteFile(filepath.Join(root, fmt.Sprintf("f%03d.go", i)), []byte(sb.String()), 0o644)
				}
				b.StartTimer()
				sum, err := Run(context.Background(), Config{Filler: filler, Jobs: jobs}, []string{root})
				if err != nil {
					b.Fatal(err)
				}
				holes += sum.HolesFound
				files += len(sum.Files)
			}
			b.ReportMetric(float64(holes)/b.Elapsed().Seconds(), "holes/s")
			b.ReportMetric(float64(files)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
