package batch

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dfim/dfim/infill"
)

// judgeDoc has three holes: a statement, an expression, a top-level one.
const judgeDoc = "package main\n\nfunc main() {\n\t<<fill>>\n}\n\nfunc g() int { return <<fill>> }\n\n<<fill>>\n"

func judgeHoles(text string) []infill.Hole {
	var holes []infill.Hole
	for off := 0; ; {
		i := strings.Index(text[off:], "<<fill>>")
		if i < 0 {
			return holes
		}
		holes = append(holes, infill.Hole{Start: off + i, End: off + i + len("<<fill>>")})
		off += i + len("<<fill>>")
	}
}

func TestJudge(t *testing.T) {
	holes := judgeHoles(judgeDoc)
	for _, tt := range []struct {
		name  string
		fills [3]string
		lang  string
		kept  []int // holes filled
	}{
		{"code", [3]string{"println(1)", "1 + 2", "func h() {}"}, "go", []int{0, 1, 2}},
		{"symbols only", [3]string{"// := := :=", ":= := :=", "}"}, "go", []int{2}},
		{"an operator, brackets", [3]string{"})", "==", "var _ = 1"}, "go", []int{0, 1, 2}},
		{"a second main", [3]string{"x := 1", "2", "func main() {}"}, "go", []int{0, 1}},
		{"a second g, a method is no clash", [3]string{"x := 1", "2", "func g() int { return 2 }\nfunc (t T) g() {}"}, "go", []int{0, 1}},
		{"init twice, a method", [3]string{"x := 1", "2", "func init() {}\n\nfunc (t *T) main() {}"}, "go", []int{0, 1, 2}},
		{"no second main in another language", [3]string{"x := 1", "2", "func main() {}"}, "", []int{0, 1, 2}},
		{"empty", [3]string{"", "2", ""}, "go", []int{1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sugs []infill.Suggestion
			for i, h := range holes {
				sugs = append(sugs, infill.Suggestion{Text: tt.fills[i], Start: h.Start, End: h.End})
			}
			fills, refused := Judge(tt.lang, judgeDoc, holes, sugs)
			var kept []int
			for _, f := range fills {
				kept = append(kept, f.Hole)
			}
			if len(kept)+len(refused) != 3 || !slices.Equal(kept, tt.kept) {
				t.Errorf("kept holes %v (refused %+v), want %v", kept, refused, tt.kept)
			}
		})
	}
}

// junkFiller answers every hole with a fill Judge refuses.
type junkFiller struct{ killFiller }

func (junkFiller) FillHoles(_ context.Context, _ infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
	junk := []string{"// := := :=", "func main() {}"}
	out := make([]infill.Suggestion, len(holes))
	for i, h := range holes {
		out[i] = infill.Suggestion{Text: junk[i%2], Start: h.Start, End: h.End}
	}
	return out, nil
}

func TestBatchRefusesJunk(t *testing.T) {
	text := "package main\n\nfunc main() {\n\t<<fill>>\n}\n\n<<fill>>\n"
	root := tree(t, map[string]string{"a.go": text})
	sum, err := Run(context.Background(), Config{Filler: junkFiller{}}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "a.go")); got != text || sum.HolesFilled != 0 {
		t.Errorf("junk written (%d filled):\n%s", sum.HolesFilled, got)
	}
	p := strings.Join(sum.Files[0].Problems, "\n")
	if !strings.Contains(p, "line 4: hole not filled: the fill \"// := := :=\" is symbols only") ||
		!strings.Contains(p, "line 7: hole not filled: the fill declares func main, which the file already has") {
		t.Errorf("problems:\n%s", p)
	}
}
