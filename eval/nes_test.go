package eval

import (
	"testing"
	"time"
)

func TestNESTaskFromDiff(t *testing.T) {
	before := "a\nb\nc\nd\ne\n"
	diff := "diff --git a/x.go b/x.go\nindex 1..2 100644\n--- a/x.go\n+++ b/x.go\n" +
		"@@ -2 +2 @@\n-b\n+B\n" + // line 2 replaced
		"@@ -3,0 +4,2 @@\n+c1\n+c2\n" + // two lines inserted after line 3
		"@@ -5 +7,0 @@\n-e\n" + // line 5 deleted
		"diff --git a/new.go b/new.go\nnew file mode 100644\n--- /dev/null\n+++ b/new.go\n@@ -0,0 +1 @@\n+x\n"
	files := parseDiff(diff)
	if len(files) != 1 || files[0].path != "x.go" || len(files[0].hunks) != 3 {
		t.Fatalf("parseDiff = %+v, want x.go's three hunks (the new file left out)", files)
	}
	task, ok := nesTask(before, files[0].hunks)
	if !ok {
		t.Fatal("nesTask refused")
	}
	if task.Edit != (NESEdit{Start: 2, Old: "b\n", New: "B\n"}) || task.Text() != "a\nB\nc\nd\ne\n" {
		t.Errorf("user's edit %+v", task.Edit)
	}
	text := task.Text()
	for i := len(task.Expected) - 1; i >= 0; i-- {
		h := task.Expected[i]
		text = text[:h.Start] + h.Text + text[h.End:]
	}
	if text != "a\nB\nc\nc1\nc2\nd\n" {
		t.Errorf("the expected hunks give %q", text)
	}
}

func TestScoreNES(t *testing.T) {
	m := ScoreNES([]NESResult{
		{Shown: true, Location: true, Exact: true, Latency: time.Millisecond},
		{Shown: true, Location: true, Latency: 3 * time.Millisecond},
		{Shown: true, Latency: 2 * time.Millisecond},
		{Latency: 4 * time.Millisecond},
	})
	if m.ShownShare != 0.75 || m.LocationAccuracy != 0.5 || m.ExactMatch != 0.25 || m.Precision != 2.0/3 || m.P50LatencyMS != 2 {
		t.Errorf("metrics %+v", m)
	}
	if !overlaps(5, 5, 5, 9) || !overlaps(3, 6, 5, 9) || overlaps(3, 5, 5, 9) || !overlaps(9, 9, 5, 9) {
		t.Error("overlaps: an insertion touches a hunk it borders; two ranges that only touch do not overlap")
	}
}
