package batch

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dfim/dfim/infill"
)

// fakeFiller fills every hole with a text derived from its size hint, and
// can run a hook while "filling" (to change a file under the run's feet).
type fakeFiller struct {
	mu     sync.Mutex
	calls  int
	during func(path string)
	refuse bool // return empty fills
}

// Complete is not batch's: it fills holes only.
func (f *fakeFiller) Complete(context.Context, infill.Document, int, infill.Options) ([]infill.Suggestion, error) {
	return nil, errors.New("batch fills holes only")
}

func (f *fakeFiller) FillHoles(_ context.Context, doc infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if f.during != nil {
		f.during(doc.Path)
	}
	out := make([]infill.Suggestion, len(holes))
	for i, h := range holes {
		out[i] = infill.Suggestion{Start: h.Start, End: h.End}
		if !f.refuse {
			out[i].Text = "x := " + strings.Repeat("1", max(h.MaxLines, 1))
		}
	}
	return out, nil
}

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMarkersFilledAndModeKept(t *testing.T) {
	root := tree(t, map[string]string{
		"a.go":       "package a\n\nfunc f() {\n\t<<fill>>\n\t<<fill:3>>\n}\n",
		"b.go":       "package b\n",
		".gitignore": "gen/\n",
		"gen/c.go":   "package c\n// <<fill>>\n",
	})
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Jobs: 2}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := "package a\n\nfunc f() {\n\tx := 1\n\tx := 111\n}\n"
	if got := read(t, filepath.Join(root, "a.go")); got != want {
		t.Errorf("a.go = %q, want %q", got, want)
	}
	if got := read(t, filepath.Join(root, "gen/c.go")); !strings.Contains(got, "<<fill>>") {
		t.Errorf("ignored file was filled: %q", got)
	}
	info, _ := os.Stat(filepath.Join(root, "a.go"))
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", info.Mode().Perm())
	}
	if sum.HolesFound != 2 || sum.HolesFilled != 2 || sum.FilesChanged != 1 || !sum.Complete() {
		t.Errorf("summary = %+v", sum)
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, ".*dfim-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestDryRunWritesNothingAndPrintsDiff(t *testing.T) {
	src := "package a\nvar v = <<fill>>\n"
	root := tree(t, map[string]string{"a.go": src})
	var out bytes.Buffer
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}, DryRun: true, Out: &out}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "a.go")); got != src {
		t.Errorf("dry run changed the file: %q", got)
	}
	if !strings.Contains(out.String(), "-var v = <<fill>>") || !strings.Contains(out.String(), "+var v = x := 1") {
		t.Errorf("diff = %q", out.String())
	}
	if sum.FilesChanged != 1 || sum.HolesFilled != 1 { // 1: would change
		t.Errorf("summary = %+v", sum)
	}
}

func TestFileChangedDuringRunIsNotOverwritten(t *testing.T) {
	root := tree(t, map[string]string{"a.go": "package a\nvar v = <<fill>>\n"})
	p := filepath.Join(root, "a.go")
	edited := "package a\n// the user typed this meanwhile\nvar v = <<fill>>\n"
	f := &fakeFiller{during: func(string) { os.WriteFile(p, []byte(edited), 0o644) }}
	sum, err := Run(context.Background(), Config{Filler: f}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != edited {
		t.Errorf("file = %q, want the user's edit kept", got)
	}
	if sum.Complete() || sum.FilesChanged != 0 || !strings.Contains(strings.Join(sum.Files[0].Problems, ""), "changed on disk") {
		t.Errorf("summary = %+v", sum)
	}
}

func TestFailingCheckRestoresEverything(t *testing.T) {
	orig := map[string]string{"a.go": "package a\nvar v = <<fill>>\n", "b/b.go": "package b\nvar v = <<fill>>\n"}
	root := tree(t, orig)
	var out bytes.Buffer
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Check: "false", Out: &out}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	for rel, content := range orig {
		if got := read(t, filepath.Join(root, rel)); got != content {
			t.Errorf("%s = %q, want restored %q", rel, got, content)
		}
	}
	if !sum.CheckFailed || sum.Restored != 2 || sum.Complete() {
		t.Errorf("summary = %+v", sum)
	}
	if !strings.Contains(out.String(), `--check "false" failed`) {
		t.Errorf("output = %q", out.String())
	}
}

func TestPlanRanges(t *testing.T) {
	root := tree(t, map[string]string{"a.go": "package a\n\nfunc f() {\n\told()\n\tolder()\n}\n"})
	p := filepath.Join(root, "a.go")
	plan, err := ReadPlan("plan.jsonl", strings.NewReader(
		`{"path":"`+p+`","start_line":4,"end_line":5}`+"\n"+
			`{"path":"`+p+`","start_line":40,"end_line":41}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Plan: plan}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := read(t, p), "package a\n\nfunc f() {\n\tx := 11\n}\n"; got != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	probs := strings.Join(sum.Files[0].Problems, "\n")
	if !strings.Contains(probs, "plan line 2: lines 40..41 are past the end of the file (6 lines)") {
		t.Errorf("problems = %q", probs)
	}
}

func TestReadPlanReportsBadLines(t *testing.T) {
	_, err := ReadPlan("p.jsonl", strings.NewReader("{\"path\":\"a\",\"start_line\":1,\"end_line\":1}\nnot json\n{\"path\":\"a\",\"start_line\":3,\"end_line\":2}\n"))
	if err == nil || !strings.Contains(err.Error(), "p.jsonl:2:") || !strings.Contains(err.Error(), "p.jsonl:3:") {
		t.Errorf("err = %v", err)
	}
}

func TestUnreadableFileAndUnfilledHoleReported(t *testing.T) {
	if os.Getuid() == 0 {
		t.Log("running as root: unreadable files are readable; checking the unfilled hole only")
	}
	root := tree(t, map[string]string{"a.go": "package a\nvar v = <<fill>>\n", "b.go": "package b\n"})
	os.Chmod(filepath.Join(root, "b.go"), 0)
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{refuse: true}}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Complete() || sum.HolesFilled != 0 || !strings.Contains(strings.Join(sum.Files[0].Problems, ""), "line 2: hole not filled") {
		t.Errorf("summary = %+v", sum)
	}
	if os.Getuid() != 0 && !strings.Contains(strings.Join(sum.Files[1].Problems, ""), "cannot read") {
		t.Errorf("unreadable file not reported: %+v", sum.Files[1])
	}
	if _, err := Run(context.Background(), Config{Filler: &fakeFiller{}}, []string{filepath.Join(root, "missing")}); err == nil {
		t.Error("a missing path gave no error")
	}
}

func TestLineRangeHoleCRLFAndLastLine(t *testing.T) {
	h, err := LineRangeHole("x\n\t\tif y {\n", 2, 2)
	if err != nil || h.Start != 4 || h.End != 10 {
		t.Errorf("indented line: hole %+v, %v; want the content after the indentation", h, err)
	}
	text := "a\r\nbb\r\ncc"
	h, err = LineRangeHole(text, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := text[h.Start:h.End]; got != "bb\r\ncc" {
		t.Errorf("hole = %q", got)
	}
	h, _ = LineRangeHole(text, 1, 1)
	if got := text[h.Start:h.End]; got != "a" {
		t.Errorf("hole = %q", got)
	}
}

func TestMarkerSyntaxCustom(t *testing.T) {
	m, err := infill.NewMarkerSyntax("TODO_FILL")
	if err != nil {
		t.Fatal(err)
	}
	if hs := m.Holes("a TODO_FILL b TODO_FILL"); len(hs) != 2 || hs[1].Start != 14 {
		t.Errorf("holes = %+v", hs)
	}
	if _, err := infill.NewMarkerSyntax(" "); err == nil {
		t.Error("blank marker accepted")
	}
}

func TestQueryHoles(t *testing.T) {
	root := tree(t, map[string]string{
		"a.go": "package a\n\nfunc f() {\n\tpanic(\"unimplemented\")\n}\n\nfunc g() {}\n",
		"b.py": "def f():\n    pass\n",
	})
	run, err := SyntaxQuery("go", `(function_declaration body: (block (expression_statement (call_expression function: (identifier) @f (#eq? @f "panic")))) @fill)`)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Query: "q", Lang: "go", RunQuery: run}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := read(t, filepath.Join(root, "a.go")), "package a\n\nfunc f() x := 111\n\nfunc g() {}\n"; got != want {
		t.Errorf("a.go = %q, want %q", got, want)
	}
	if sum.HolesFound != 1 {
		t.Errorf("summary = %+v", sum)
	}
	if _, err := SyntaxQuery("go", "(function_declaration"); err == nil {
		t.Error("bad query accepted")
	}
	if _, err := SyntaxQuery("go", "(function_declaration) @body"); err == nil || !strings.Contains(err.Error(), "@fill") {
		t.Errorf("query without @fill: err = %v", err)
	}
	if _, err := SyntaxQuery("cobol", "(x) @fill"); err == nil {
		t.Error("unknown language accepted")
	}
}

// TestPlanPathsStayInsideTheRoots: a plan line naming a file outside the
// folders given (by "..", an absolute path, or an in-tree link pointing
// out) is refused before anything is filled, and nothing outside is
// written; a link inside the tree is written through.
func TestPlanPathsStayInsideTheRoots(t *testing.T) {
	base := t.TempDir()
	victim := "package v\n\nfunc f() {\n\told()\n}\n"
	for _, d := range []string{"tree", "outside"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root, outside := filepath.Join(base, "tree"), filepath.Join(base, "outside", "victim.go")
	if err := os.WriteFile(outside, []byte(victim), 0o644); err != nil {
		t.Fatal(err)
	}
	inTree := filepath.Join(root, "a.go")
	if err := os.WriteFile(inTree, []byte(victim), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "link.go")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(inTree, filepath.Join(root, "inlink.go")); err != nil {
		t.Fatal(err)
	}
	// "dirlink/../outside/victim.go" reads, to the kernel, the victim
	// beside the link's target; cleaned first it looked like this decoy.
	if err := os.Symlink(filepath.Join(base, "outside"), filepath.Join(root, "dirlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "outside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "outside", "victim.go"), []byte(victim), 0o644); err != nil {
		t.Fatal(err)
	}
	line := func(p string) string { return `{"path":"` + p + `","start_line":4,"end_line":4}` }
	t.Chdir(root)
	for _, p := range []string{"../outside/victim.go", outside, filepath.Join(root, "..", "outside", "victim.go"), "link.go", "../../../../../../etc/passwd", "dirlink/../outside/victim.go"} {
		plan, err := ReadPlan("plan.jsonl", strings.NewReader(line(inTree)+"\n"+line(p)+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(context.Background(), Config{Filler: &fakeFiller{}, Plan: plan}, []string{root})
		if err == nil || !strings.Contains(err.Error(), "plan line 2") || !strings.Contains(err.Error(), "outside") {
			t.Errorf("plan path %q: err = %v, want it refused as outside the root", p, err)
		}
		// With no PATH the current folder is the root.
		if _, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Plan: plan}, nil); err == nil {
			t.Errorf("plan path %q with no PATH: not refused", p)
		}
		if got := read(t, outside); got != victim {
			t.Fatalf("plan path %q: the file outside the root was written: %q", p, got)
		}
		if got := read(t, inTree); got != victim {
			t.Fatalf("plan path %q: a refused plan still filled the file in the tree: %q", p, got)
		}
	}
	plan, err := ReadPlan("plan.jsonl", strings.NewReader(line("inlink.go")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Plan: plan}, []string{"."}); err != nil {
		t.Fatalf("a link inside the tree to a file inside it: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "inlink.go")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the in-tree link was replaced by a file: %v %v", fi.Mode(), err)
	}
	if got := read(t, inTree); got == victim {
		t.Errorf("the link's target was not filled")
	}
}

// TestLinksAndReadOnlyFiles: a read-only file is left alone (it used to be
// rewritten with its mode kept); a symlink inside the tree is written
// through and stays a link (it used to become a regular file); hard links
// keep sharing the new text (the other name used to keep the old); and a
// relative root does not make in-tree links look like they leave the tree.
func TestLinksAndReadOnlyFiles(t *testing.T) {
	src := "package a\n\nfunc f() {\n\t<<fill>>\n}\n"
	filled := "package a\n\nfunc f() {\n\tx := 1\n}\n"
	base := t.TempDir()
	root := filepath.Join(base, "tree")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ro.go", "target.go", "h1.go"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "ro.go"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target.go", filepath.Join(root, "link.go")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(root, "h1.go"), filepath.Join(root, "h2.go")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	for _, jobs := range []int{1, 3} {
		sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Jobs: jobs}, []string{"tree"})
		if err != nil {
			t.Fatal(err)
		}
		if n := sum.Skipped["symlink out of tree"]; n != 0 {
			t.Errorf("jobs %d: %d in-tree links reported as leaving the tree", jobs, n)
		}
		if got := read(t, filepath.Join(root, "ro.go")); got != src {
			t.Errorf("jobs %d: the read-only file was rewritten: %q", jobs, got)
		}
		if fi, _ := os.Stat(filepath.Join(root, "ro.go")); fi.Mode().Perm() != 0o444 {
			t.Errorf("jobs %d: the read-only file's mode is now %v", jobs, fi.Mode().Perm())
		}
		var probs []string
		for _, f := range sum.Files {
			for _, p := range f.Problems {
				probs = append(probs, f.Path+": "+p)
			}
		}
		if len(probs) != 1 || !strings.Contains(probs[0], "ro.go: read-only") {
			t.Errorf("jobs %d: problems %q, want only the read-only file's", jobs, probs)
		}
		if fi, err := os.Lstat(filepath.Join(root, "link.go")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("jobs %d: the in-tree link was replaced by a file", jobs)
		}
		for _, name := range []string{"target.go", "h1.go", "h2.go"} {
			if got := read(t, filepath.Join(root, name)); got != filled {
				t.Errorf("jobs %d: %s = %q, want it filled", jobs, name, got)
			}
		}
		a, _ := os.Stat(filepath.Join(root, "h1.go"))
		b, _ := os.Stat(filepath.Join(root, "h2.go"))
		if !os.SameFile(a, b) {
			t.Errorf("jobs %d: the hard link was broken", jobs)
		}
		// Put the holes back for the next round.
		for _, name := range []string{"target.go", "h1.go"} {
			if err := os.WriteFile(filepath.Join(root, name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(root, ".*dfim*")); len(left) > 0 {
			t.Errorf("jobs %d: temporary files left: %v", jobs, left)
		}
	}
}
