package infill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
)

// cancellingEngine ends the request while it fills (a request timeout
// expiring during generation) and still returns its candidates.
type cancellingEngine struct {
	cancel context.CancelFunc
	fills  []engine.Fill
}

func (e cancellingEngine) Infill(context.Context, engine.Request) (engine.Result, error) {
	e.cancel()
	return engine.Result{Candidates: e.fills, Steps: 1}, nil
}
func (cancellingEngine) Close() error { return nil }

// TestCompleteStopsWhenRequestEnds: once the request's context has ended,
// no candidate of a large document is checked (each check is a parse);
// Complete says why it stopped.
func TestCompleteStopsWhenRequestEnds(t *testing.T) {
	text := largeGoFile(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := New(cancellingEngine{cancel, []engine.Fill{fill("total *= 2"), fill("total *= 3"), fill("total++")}})
	defer c.Close()
	sugs, err := c.Complete(ctx, Document{Path: "big.go", Text: text}, largeCursor(text), Options{RepairRounds: -1})
	if !errors.Is(err, context.Canceled) || len(sugs) != 0 {
		t.Fatalf("Complete after the request ended = %+v, %v; want no suggestions and context.Canceled", sugs, err)
	}
	if st := c.Stats(); st.Candidates != 0 || st.Valid+st.Invalid != 0 {
		t.Errorf("%d candidates examined (%d valid, %d invalid) after the request ended; want none", st.Candidates, st.Valid, st.Invalid)
	}
}

// TestCheckOncePerCandidate: a candidate checked again is answered from
// the request's verdicts, the same as the first time.
func TestCheckOncePerCandidate(t *testing.T) {
	text := largeGoFile(64 << 10)
	cursor := largeCursor(text)
	c := New(fixedEngine{"x"})
	defer c.Close()
	d, err := c.prepare(context.Background(), Document{Path: "big.go", Text: text}, text, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	for _, cand := range []string{"total *= 2", "total *= (2", "total *= 2", "total *= (2"} {
		chk, err := d.check(context.Background(), cursor, cursor, cand)
		if err != nil {
			t.Fatal(err)
		}
		if want := !strings.Contains(cand, "("); chk.Valid != want {
			t.Errorf("check(%q).Valid = %v, want %v", cand, chk.Valid, want)
		}
	}
	if len(d.checks) != 2 {
		t.Errorf("%d checks kept for 2 distinct candidates: %v", len(d.checks), d.checks)
	}
	// a cancelled check is no verdict: it is not kept
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.check(ctx, cursor, cursor, "total--"); !errors.Is(err, context.Canceled) {
		t.Fatalf("check with a cancelled context = %v, want context.Canceled", err)
	}
	if _, kept := d.checks[checkKey{cursor, cursor, "total--"}]; kept {
		t.Error("a cancelled check was kept as a verdict")
	}
}

// TestGoJudgeOnTouchedDeclarations: go/parser judging the file's head and
// the declarations an edit touches agrees with judging the whole file,
// where the rest of the file parses.
func TestGoJudgeOnTouchedDeclarations(t *testing.T) {
	text := largeGoFile(16 << 10)
	cursor := largeCursor(text)
	fn := strings.LastIndex(text[:cursor], "\nfunc ") + 1 // the function holding the cursor
	between := strings.LastIndex(text[:fn], "\n\n") + 1   // the blank line before its comment
	c := New(fixedEngine{"x"})
	defer c.Close()
	d, err := c.prepare(context.Background(), Document{Path: "big.go", Text: text}, text, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	for _, e := range []struct {
		start, end int
		text       string
	}{
		{cursor, cursor, "total *= 2"},
		{cursor, cursor, "total *= (2"},
		{cursor, cursor, "for i := 0; i < 3; i := 1 {}"}, // tree-sitter lets it by
		{cursor, cursor, "return total, nil\n}\n\nfunc g() {"},
		{cursor, cursor, "return total, nil\n}\n\nimport \"os\"\n\nfunc g() {"}, // imports come first
		{between, between, "var v = 1\n\n"},
		{between, between, "var v = \n\n"},
		{fn, fn + len("func"), "fun"},
		{0, len("package big"), "package other"},
		{len("package big\n\nimport \"fmt\""), len("package big\n\nimport \"fmt\""), "\nimport \"os\""},
	} {
		want := LanguageAccepts("go", text, e.start, e.end, e.text)
		if got := d.languageAccepts(e.start, e.end, e.text); got != want {
			t.Errorf("languageAccepts(%d-%d, %q) = %v; the whole file's judge says %v", e.start, e.end, e.text, got, want)
		}
	}
}

// largeGoFile makes a Go file of about size bytes: ordinary functions with
// distinct names, loops, calls and composite literals.
func largeGoFile(size int) string {
	var b strings.Builder
	b.WriteString("package big\n\nimport \"fmt\"\n\n")
	for i := 0; b.Len() < size; i++ {
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

// largeCursor is the blank statement line in the middle of text.
func largeCursor(text string) int {
	return strings.Index(text[len(text)/2:], "}\n\t\n\ts :=") + len(text)/2 + 3
}

// fillsEngine returns the same candidates at every call, instantly.
type fillsEngine []engine.Fill

func (e fillsEngine) Infill(context.Context, engine.Request) (engine.Result, error) {
	return engine.Result{Candidates: e, Steps: 1}, nil
}
func (fillsEngine) Close() error { return nil }

// cpuTime is the process's CPU time so far: on a loaded machine it
// compares runs better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLargeDocument measures one completion in the middle of Go files
// of 0.25, 0.5 and 1 MB, with an engine that answers instantly, so the cost
// is infill's own: per-candidate checks must cost in proportion to the edit,
// not the document, and ms/completion must grow no faster than the size.
// Each iteration is a fresh request on a fresh document (no cached tree),
// as when a large file is opened, plus the same on a one-keystroke edit.
func BenchmarkLargeDocument(b *testing.B) {
	for _, kb := range []int{256, 512, 1024} {
		text := largeGoFile(kb << 10)
		cursor := largeCursor(text)
		// the user's unfinished line at the cursor: the document has an error
		typed := "total = total +"
		unfinished := text[:cursor] + typed + text[cursor:]
		for _, bc := range []struct {
			name, text string
			cursor     int
			fill, want string
			more       []string // more candidates, as a model gives several
		}{
			{"valid", text, cursor, "total *= 2", "total *= 2", nil},
			// truncated to its first line after the whole fails
			{"truncated", text, cursor, "total *= 2\n\tif total > {\n\t\tx :=", "total *= 2", nil},
			{"unfinished", unfinished, cursor + len(typed), " len(xs)", " len(xs)", nil},
			// a duplicate, another valid one and one cut to the first
			{"4-candidates", text, cursor, "total *= 2", "total *= 2", []string{"total *= 2", "total *= 3", "total *= 2\n\tif total > {"}},
		} {
			b.Run(fmt.Sprintf("%dKB/%s", kb, bc.name), func(b *testing.B) {
				e := fillsEngine{fill(bc.fill)}
				for _, m := range bc.more {
					e = append(e, fill(m))
				}
				c := New(e)
				defer c.Close()
				doc := Document{Path: "big.go", Text: bc.text}
				sugs, err := c.Complete(context.Background(), doc, bc.cursor, Options{RepairRounds: -1})
				if err != nil || len(sugs) == 0 || sugs[0].Text != bc.want {
					b.Fatalf("Complete = %+v, %v; want first the suggestion %q", sugs, err, bc.want)
				}
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := c.Complete(context.Background(), doc, bc.cursor, Options{RepairRounds: -1}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/completion")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N)/1000, "cpu-ms/completion")
			})
		}
	}
}

// TestGoJudgeAtAnUnfinishedEnd: a hole at the end of an unfinished last
// declaration (`var v = ` and then nothing, as batch sees a file whose
// marker was taken out) is reached by no top-level node, and the whole
// file judges it: `x + 1` finishes the file and is accepted. The windowed
// judge once saw only the package clause there and refused it.
func TestGoJudgeAtAnUnfinishedEnd(t *testing.T) {
	text := "package a\nvar v = \n"
	c := New(fixedEngine{"x"})
	defer c.Close()
	d, err := c.prepare(context.Background(), Document{Path: "a.go", Text: text}, text, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	at := len("package a\nvar v = ")
	if !d.languageAccepts(at, at, "x + 1") {
		t.Errorf("languageAccepts(%q at the end of %q) = false; the whole file's judge accepts it", "x + 1", text)
	}
}
