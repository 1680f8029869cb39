package infill

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/dfim/dfim/engine"
)

// lfEngine is a model trained on "\n" files: it fills a block and records
// whether any canvas it was sent held a "\r".
type lfEngine struct {
	fill string
	mu   sync.Mutex
	sawR bool
}

func (e *lfEngine) Infill(_ context.Context, req engine.Request) (engine.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var holes []string
	for _, s := range req.Segments {
		if strings.Contains(s.Text, "\r") {
			e.sawR = true
		}
		if s.Hole {
			holes = append(holes, e.fill)
		}
	}
	if req.Observe != nil {
		req.Observe(engine.Step{Holes: []engine.HoleState{{Text: e.fill}}})
	}
	return engine.Result{Candidates: []engine.Fill{fill(holes...)}, Steps: 1}, nil
}

func (*lfEngine) Close() error { return nil }

// withEOL rewrites text's "\n" line endings to eol.
func withEOL(text, eol string) string { return strings.ReplaceAll(text, "\n", eol) }

func apply(text string, s Suggestion) string { return text[:s.Start] + s.Text + text[s.End:] }

// A file with Windows or old-Mac line endings is filled exactly as the
// same file with "\n" ones: the model never sees a "\r", the fill gets the
// file's endings, and its range maps back to the file's bytes.
func TestLineEndingsFilledAlike(t *testing.T) {
	const lf = "package a\n\n// A adds.\nfunc A(a, b int) int {\n\t\n}\n\n// B does nothing.\nfunc B() {\n}\n"
	const fillText = "sum := a + b\n\treturn sum"
	var want, wantHoles []Suggestion
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		e := &lfEngine{fill: fillText}
		c := New(e)
		text := withEOL(lf, eol)
		pos := strings.Index(text, "{"+eol+"\t") + len("{"+eol+"\t")
		var steps []string
		sugs, err := c.Complete(context.Background(), Document{Path: "a.go", Text: text}, pos,
			Options{Observe: func(st Step) { steps = append(steps, st.Holes...) }})
		c.Close()
		if err != nil || len(sugs) != 1 {
			t.Fatalf("%q: Complete = %+v, %v; want one suggestion", eol, sugs, err)
		}
		if e.sawR {
			t.Errorf("%q: the model was sent a \"\\r\"", eol)
		}
		s := sugs[0]
		if want == nil {
			want = sugs
		}
		if s.Text != withEOL(want[0].Text, eol) {
			t.Errorf("%q: fill %q, want %q (the LF fill in the file's endings)", eol, s.Text, withEOL(want[0].Text, eol))
		}
		if got, w := apply(text, s), withEOL(apply(lf, want[0]), eol); got != w {
			t.Errorf("%q: filled file\n%q\nwant\n%q", eol, got, w)
		}
		if len(steps) == 0 || steps[len(steps)-1] != withEOL(fillText, eol) {
			t.Errorf("%q: observed steps %q, want the fill in the file's endings", eol, steps)
		}

		// FillHoles, as batch calls it: the hole's range comes back as given.
		e2 := &lfEngine{fill: fillText}
		c2 := New(e2)
		got, err := c2.FillHoles(context.Background(), Document{Path: "a.go", Text: text}, []Hole{{Start: pos, End: pos}}, Options{})
		c2.Close()
		if err != nil || len(got) != 1 || got[0].Text == "" {
			t.Fatalf("%q: FillHoles = %+v, %v", eol, got, err)
		}
		if e2.sawR {
			t.Errorf("%q: FillHoles sent the model a \"\\r\"", eol)
		}
		if wantHoles == nil {
			wantHoles = got
		}
		if w := withEOL(wantHoles[0].Text, eol); got[0].Start != pos || got[0].End != pos || got[0].Text != w {
			t.Errorf("%q: FillHoles = %q at %d-%d, want %q at %d", eol, got[0].Text, got[0].Start, got[0].End, w, pos)
		}
	}
}

func TestEOLMapOffsets(t *testing.T) {
	text := "a\r\nbc\r\n\r\nd\re\nf"
	m := newEOLMap(text)
	if m.lf != "a\nbc\n\nd\ne\nf" || m.eol != "\r\n" {
		t.Fatalf("newEOLMap(%q) = %q, eol %q", text, m.lf, m.eol)
	}
	// Every offset of the normalised text maps back to the same place
	// in the original: the bytes before it are the same up to endings.
	for off := 0; off <= len(m.lf); off++ {
		o := m.fromLF(off)
		if m.toLF(o) != off {
			t.Errorf("toLF(fromLF(%d) = %d) = %d", off, o, m.toLF(o))
		}
		if got := newEOLMap(text[:o]).lf; got != m.lf[:off] {
			t.Errorf("fromLF(%d) = %d: original before it %q, want %q", off, o, got, m.lf[:off])
		}
	}
	if i := strings.Index(text, "\r\n"); m.toLF(i+1) != 1 { // between "\r" and "\n"
		t.Errorf("toLF(%d) = %d, want 1 (before the line break)", i+1, m.toLF(i+1))
	}
	if m := newEOLMap("x\ry\rz\n"); m.eol != "\r" || m.lf != "x\ny\nz\n" || m.fromLF(4) != 4 {
		t.Errorf("CR text: lf %q, eol %q", m.lf, m.eol)
	}
	if m := newEOLMap("plain\n"); !m.identity() || m.text("a\nb") != "a\nb" {
		t.Errorf("LF text is not left alone")
	}
}
