package infill

import (
	"context"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
)

// editingEngine is a Denoiser with its own next-edit model: it answers
// each NextEdit with rewrite(region) and keeps the requests.
type editingEngine struct {
	scripted
	rewrite func(region string) string
	asked   []engine.NextEditRequest
}

func (e *editingEngine) NextEdit(ctx context.Context, req engine.NextEditRequest) (string, error) {
	e.asked = append(e.asked, req)
	return e.rewrite(req.Text[req.RegionStart:req.RegionEnd]), nil
}

const engineEditSrc = `package p

func add(a, b, c int) int { return a + b + c }

func use() int {
	x := add(1, 2)
	y := add(3, 4)
	return x + y
}
`

func TestNextEditsFromTheEnginesModel(t *testing.T) {
	at := strings.Index(engineEditSrc, "add(1, 2)") + len("add(1, 2")
	text := engineEditSrc[:at] + ", 0" + engineEditSrc[at:]
	h := []Edit{{Start: at, New: ","}, {Start: at + 1, New: " "}, {Start: at + 2, New: "0"}}
	eng := &editingEngine{rewrite: func(r string) string { return strings.Replace(r, "add(3, 4)", "add(3, 4, 0)", 1) }}
	c := New(eng)
	defer c.Close()
	got, err := c.NextEdits(context.Background(), Document{Path: "p.go", Text: text}, h, at+3, NextEditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Index(text, "add(3, 4)") + len("add(3, 4")
	if len(got) != 1 || got[0].Start != want || got[0].End != want || got[0].Text != ", 0" || got[0].Source != "engine" {
		t.Fatalf("got %+v, want \", 0\" inserted at %d by the engine", got, want)
	}
	if len(eng.reqs) != 0 {
		t.Errorf("%d denoising requests besides the engine's next edit", len(eng.reqs))
	}
	req := eng.asked[0]
	if req.Path != "p.go" || req.Cursor != at+3 || req.RegionStart > req.Cursor || req.RegionEnd < req.Cursor || req.RegionStart != 0 {
		t.Errorf("request %+v: want the region around the cursor, from the file's top here", req)
	}
	if len(req.History) != 1 || !strings.Contains(req.History[0], "-\tx := add(1, 2)\n+\tx := add(1, 2, 0)\n") ||
		!strings.HasPrefix(req.History[0], "--- p.go\n+++ p.go\n@@ -6,1 +6,1 @@\n") {
		t.Errorf("history %q: want the three keystrokes as one diff of line 6", req.History)
	}

	// CopyOnly (the baseline of dfim eval nes) never asks the engine.
	if _, err := c.NextEdits(context.Background(), Document{Path: "p.go", Text: text}, h, at+3, NextEditOptions{CopyOnly: true}); err != nil {
		t.Fatal(err)
	}
	if len(eng.asked) != 1 {
		t.Errorf("CopyOnly asked the engine")
	}
}

func TestNextEditsFromTheEngineAreGated(t *testing.T) {
	at := strings.Index(engineEditSrc, "add(1, 2)") + len("add(1, 2")
	text := engineEditSrc[:at] + ", 0" + engineEditSrc[at:]
	h := []Edit{{Start: at, New: ", 0"}}
	doc := Document{Path: "p.go", Text: text}
	for name, rewrite := range map[string]func(string) string{
		"no change": func(r string) string { return r },
		"undoes it": func(r string) string { return strings.Replace(r, "add(1, 2, 0)", "add(1, 2)", 1) },
		"breaks it": func(r string) string { return strings.Replace(r, "y := add(3, 4)", "y := add(3, 4", 1) },
	} {
		c := New(&editingEngine{rewrite: rewrite})
		got, err := c.NextEdits(context.Background(), doc, h, at+3, NextEditOptions{})
		c.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 0 {
			t.Errorf("%s: got %+v, want none", name, got)
		}
	}
}

func TestHistoryDiffsGroupKeystrokesByPlace(t *testing.T) {
	// In "a\nb\nc\nd\ne\n", "b" became "bx" (two keystrokes on line 2), then "e" became "ey".
	h := []Edit{{Start: 3, New: "x"}, {Start: 4, New: "z"}, {Start: 4, Old: "z"}, {Start: 10, New: "y"}}
	after := "a\nbx\nc\nd\ney\n"
	got := historyDiffs("f.txt", after, h, 5)
	want := []string{
		"--- f.txt\n+++ f.txt\n@@ -2,1 +2,1 @@\n-b\n+bx\n",
		"--- f.txt\n+++ f.txt\n@@ -5,1 +5,1 @@\n-e\n+ey\n",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("historyDiffs = %q, want %q", got, want)
	}
	if got := historyDiffs("f.txt", after, h, 1); len(got) != 1 || got[0] != want[1] {
		t.Errorf("limit 1: %q, want the newest diff", got)
	}
}

func TestLineRegion(t *testing.T) {
	text := "0\n1\n2\n3\n4\n5\n6\n"
	pos := strings.Index(text, "3")
	s, e := lineRegion(text, pos, 1, 1)
	if text[s:e] != "2\n3\n4\n" {
		t.Errorf("region %q, want lines 2 to 4", text[s:e])
	}
	s, e = lineRegion(text, 0, 5, 50)
	if s != 0 || e != len(text) {
		t.Errorf("region [%d, %d), want the whole text", s, e)
	}
}
