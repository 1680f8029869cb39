package syntax

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// goFile makes a Go file of about n lines: functions with loops, calls and
// composite literals, like ordinary code.
func goFile(n int) string {
	var b strings.Builder
	b.WriteString("package bench\n\nimport \"fmt\"\n\n")
	for i := 0; strings.Count(b.String(), "\n") < n; i++ {
		fmt.Fprintf(&b, `// f%d sums what it is given.
func f%d(xs []int, m map[string]int) (int, error) {
	total := 0
	for i, x := range xs {
		if x < 0 {
			return 0, fmt.Errorf("negative %%d at %%d", x, i)
		}
		total += x * m["k"]
	}
	s := struct{ a, b int }{a: total, b: len(xs)}
	return s.a + s.b, nil
}

`, i, i)
	}
	return b.String()
}

// BenchmarkCheck measures validating one candidate in a 2,000-line Go file
// with incremental parsing (the target is ≤ 2 ms), next to a full parse.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	src := goFile(2000)
	lang := Lookup("go")
	// mid-file, at the start of a statement
	cursor := strings.Index(src[len(src)/2:], "\t\ttotal += x") + len(src)/2
	for _, bc := range []struct{ name, cand string }{
		{"single-line", "total -= x / 2\n\t\t"},
		{"multi-line", "if x > 100 {\n\t\t\tx = 100\n\t\t}\n\t\t"},
		{"invalid", "total -= (x / 2\n\t\t"},
	} {
		b.Run("incremental/"+bc.name, func(b *testing.B) {
			tree, err := lang.Parse(ctx, src)
			if err != nil {
				b.Fatal(err)
			}
			defer tree.Close()
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tree.Check(ctx, cursor, cursor, bc.cand); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/check")
		})
	}
	b.Run("full-parse", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			t, err := lang.Parse(ctx, src)
			if err != nil {
				b.Fatal(err)
			}
			t.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/parse")
	})
}
