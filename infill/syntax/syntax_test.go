package syntax

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the -- errors -- sections of testdata/check/*.txtar")

// TestCheck runs the cases of testdata/check: each archive holds a sentence,
// one document whose «old» marker is the range a candidate replaces, a
// -- candidate -- and the -- errors -- the candidate adds ("none" when
// valid), written as the test expects them.
func TestCheck(t *testing.T) {
	files, _ := filepath.Glob("testdata/check/*.txtar")
	if len(files) == 0 {
		t.Fatal("no testdata/check/*.txtar")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var doc, docName, cand string
			wantIdx := -1
			for i, f := range ar.Files {
				switch f.Name {
				case "candidate":
					cand = strings.TrimSuffix(string(f.Data), "\n")
				case "errors":
					wantIdx = i
				default:
					doc, docName = string(f.Data), f.Name
				}
			}
			lang := Lookup(Detect("", docName))
			if lang == nil {
				t.Fatalf("no grammar for %s", docName)
			}
			start := strings.Index(doc, "«")
			end := strings.Index(doc, "»")
			if start < 0 || end < start {
				t.Fatalf("%s: no «» marker", docName)
			}
			old := doc[start+len("«") : end]
			text := doc[:start] + old + doc[end+len("»"):]
			tree, err := lang.Parse(context.Background(), text)
			if err != nil {
				t.Fatal(err)
			}
			defer tree.Close()
			c, err := tree.Check(context.Background(), start, start+len(old), cand)
			if err != nil {
				t.Fatal(err)
			}
			edited := text[:start] + cand + text[start+len(old):]
			got := describe(edited, c)
			// The verdict must agree with a full, non-incremental parse.
			full, err := lang.Parse(context.Background(), edited)
			if err != nil {
				t.Fatal(err)
			}
			defer full.Close()
			if tree.HasErrors() == false && c.Valid == full.HasErrors() {
				t.Errorf("incremental verdict valid=%v, full parse has errors=%v", c.Valid, full.HasErrors())
			}
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "errors"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wantIdx < 0 {
				t.Fatalf("no -- errors -- section; run with -update")
			}
			if want := string(ar.Files[wantIdx].Data); got != want {
				t.Errorf("errors added by %q:\ngot:\n%swant:\n%s", cand, got, want)
			}
		})
	}
}

// describe writes the added errors as "ERROR 3:5-3:9" or
// "MISSING \"}\" 4:1", lines and columns 1-based.
func describe(text string, c Check) string {
	if c.Valid {
		return "none\n"
	}
	var b strings.Builder
	pos := func(off int) string {
		p := pointAt(text, off)
		return fmt.Sprintf("%d:%d", p.Row+1, p.Column+1)
	}
	for _, e := range c.Added {
		if e.Missing {
			fmt.Fprintf(&b, "MISSING %q %s\n", e.Node, pos(e.Start))
		} else {
			fmt.Fprintf(&b, "ERROR %s-%s\n", pos(e.Start), pos(e.End))
		}
	}
	return b.String()
}
