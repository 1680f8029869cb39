package infill

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/dfim/dfim/engine"
)

var update = flag.Bool("update", false, "rewrite the -- want -- sections of testdata/complete/*.txtar")

// TestMarkers runs the cases of testdata/complete, as gopls's marker tests
// do. Each archive holds a sentence saying what it shows; one source file
// with «» at the cursor (or «text» around each hole of a multi-hole case);
// "fill N" files with the scripted engine's fill for call N ("fill N.M"
// for its M-th candidate); optional "options" (key=value lines); and a
// "want" golden: the canvas of every engine call and the suggestions.
func TestMarkers(t *testing.T) {
	files, _ := filepath.Glob("testdata/complete/*.txtar")
	if len(files) == 0 {
		t.Fatal("no testdata/complete/*.txtar")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var src, name string
			opts := Options{}
			fills := map[string]string{}
			wantIdx := -1
			joint := true
			for i, f := range ar.Files {
				switch {
				case f.Name == "want":
					wantIdx = i
				case f.Name == "options":
					for _, kv := range strings.Fields(string(f.Data)) {
						k, v, _ := strings.Cut(kv, "=")
						n, _ := strconv.Atoi(v)
						switch k {
						case "shape":
							opts.Shape = v
						case "repair":
							opts.RepairRounds = n
						case "candidates":
							opts.Candidates = n
						case "joint":
							joint = v == "true"
						case "context":
							opts.ContextTokens = n
						case "extra":
							opts.ExtraContext = strings.ReplaceAll(v, `\n`, "\n")
						default:
							t.Fatalf("unknown option %q", k)
						}
					}
				case strings.HasPrefix(f.Name, "fill "):
					fills[strings.TrimPrefix(f.Name, "fill ")] = strings.TrimSuffix(string(f.Data), "\n")
				default:
					src, name = string(f.Data), f.Name
				}
			}
			eng := &scripted{jointUnsupported: !joint}
			eng.calls = scriptedCalls(t, fills)
			text, holes := parseMarkers(src)
			comp := New(eng)
			defer comp.Close()
			doc := Document{Path: name, Text: text}
			var sugs []Suggestion
			if len(holes) == 1 && holes[0].Start == holes[0].End {
				sugs, err = comp.Complete(context.Background(), doc, holes[0].Start, opts)
			} else {
				sugs, err = comp.FillHoles(context.Background(), doc, holes, opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := render(eng.reqs, text, sugs, comp.Stats())
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wantIdx < 0 {
				t.Fatal("no -- want -- section; run go test -update")
			}
			if want := string(ar.Files[wantIdx].Data); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
			// Whatever the case, no suggestion may be blank.
			for _, s := range sugs {
				if s.Reason == "" && strings.TrimSpace(s.Text) == "" {
					t.Errorf("blank suggestion %+v", s)
				}
			}
		})
	}
}

// scriptedCalls orders the "fill N" and "fill N.M" files into calls.
func scriptedCalls(t *testing.T, fills map[string]string) [][]engine.Fill {
	var keys []string
	for k := range fills {
		keys = append(keys, k)
	}
	num := func(k string) (int, int) {
		a, b, _ := strings.Cut(k, ".")
		x, err := strconv.Atoi(a)
		if err != nil {
			t.Fatalf("bad fill name %q", k)
		}
		y, _ := strconv.Atoi(b)
		return x, y
	}
	sort.Slice(keys, func(i, j int) bool {
		a1, a2 := num(keys[i])
		b1, b2 := num(keys[j])
		return a1 < b1 || a1 == b1 && a2 < b2
	})
	var calls [][]engine.Fill
	for _, k := range keys {
		c, _ := num(k)
		for len(calls) < c {
			calls = append(calls, nil)
		}
		// Holes of one fill are separated by a line "|||".
		f := fill(strings.Split(fills[k], "\n|||\n")...)
		f.Confidence = 1 / float64(len(calls[c-1])+2) // first candidate most confident
		calls[c-1] = append(calls[c-1], f)
	}
	return calls
}

// parseMarkers removes « and » from src and returns the holes they mark.
func parseMarkers(src string) (string, []Hole) {
	var b strings.Builder
	var holes []Hole
	for {
		i := strings.Index(src, "«")
		if i < 0 {
			break
		}
		j := strings.Index(src[i:], "»") + i
		b.WriteString(src[:i])
		start := b.Len()
		inner := src[i+len("«") : j]
		b.WriteString(inner)
		holes = append(holes, Hole{Start: start, End: b.Len(), MaxLines: strings.Count(inner, "\n") + 1})
		if inner == "" {
			holes[len(holes)-1].MaxLines = 0
		}
		src = src[j+len("»"):]
	}
	b.WriteString(src)
	return b.String(), holes
}

// render writes what a case shows: every canvas sent (holes as
// ⟦N tokens, block B⟧), then every suggestion with its range.
func render(reqs []engine.Request, text string, sugs []Suggestion, st Stats) string {
	var b strings.Builder
	for i, r := range reqs {
		fmt.Fprintf(&b, "call %d: candidates=%d\n", i+1, r.Opts.Candidates)
		for _, s := range r.Segments {
			if s.Hole {
				fmt.Fprintf(&b, "⟦%d tokens, block %d⟧", s.MaxTok, r.Opts.Block)
			} else {
				b.WriteString(s.Text)
			}
		}
		b.WriteString("\n⁂\n")
	}
	for i, s := range sugs {
		fmt.Fprintf(&b, "suggestion %d: bytes %d-%d %s", i+1, s.Start, s.End, s.Syntax)
		if s.Repaired {
			b.WriteString(" repaired")
		}
		if s.Reason != "" {
			fmt.Fprintf(&b, " reason=%q", s.Reason)
		}
		fmt.Fprintf(&b, "\n%s\n⁂\n", s.Text)
	}
	if len(sugs) == 0 {
		b.WriteString("no suggestions\n")
	}
	fmt.Fprintf(&b, "stats: valid=%d invalid=%d truncated=%d repaired=%d/%d suffix-trimmed=%d empty=%d\n",
		st.Valid, st.Invalid, st.Truncated, st.RepairRescued, st.RepairTried, st.SuffixTrimmed, st.Empty)
	return b.String()
}
