package infill

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
)

// fixedEngine returns the same fill at every call, instantly.
type fixedEngine struct{ text string }

func (e fixedEngine) Infill(context.Context, engine.Request) (engine.Result, error) {
	return engine.Result{Candidates: []engine.Fill{fill(e.text)}, Steps: 1}, nil
}
func (fixedEngine) Close() error { return nil }

// BenchmarkPipeline measures infill's own cost per completion (canvas,
// incremental reparse of the document, validation, post-processing) on a
// 2,000-line Go file, with an engine that answers instantly. The document
// changes by one keystroke each time, as in an editor.
func BenchmarkPipeline(b *testing.B) {
	var src strings.Builder
	src.WriteString("package bench\n\n")
	for i := 0; strings.Count(src.String(), "\n") < 2000; i++ {
		fmt.Fprintf(&src, "func f%d(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n\t\ttotal += x\n\t}\n\t\n\treturn total\n}\n\n", i)
	}
	text := src.String()
	cursor := strings.Index(text[len(text)/2:], "\t\n\treturn") + len(text)/2 + 1
	for _, bc := range []struct{ name, fill string }{
		{"valid", "total *= 2"},
		{"invalid-truncated", "total *= 2\n\tif total >"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := New(fixedEngine{bc.fill})
			defer c.Close()
			if sugs, err := c.Complete(context.Background(), Document{Path: "bench.go", Text: text}, cursor, Options{RepairRounds: -1}); err != nil || len(sugs) != 1 || sugs[0].Text != "total *= 2" {
				b.Fatalf("Complete = %+v, %v; want one suggestion \"total *= 2\"", sugs, err)
			}
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				// one keystroke: a letter typed in a comment at the top
				doc := Document{Path: "bench.go", Text: text[:14] + "// " + strings.Repeat("a", i%50) + "\n" + text[14:]}
				pos := cursor + len("// \n") + i%50
				if _, err := c.Complete(context.Background(), doc, pos, Options{RepairRounds: -1}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/completion")
		})
	}
}
