package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dfim/dfim/infill"
)

// TestOnlyCodeMarkersFilledByDefault: a marker in a string literal, in a
// comment, in a Markdown file and in a JSONL file is left as it is; only
// the marker in code is filled (a run used to fill all five, and on
// dfim's own tree its help text and docs). --include names other files,
// --anywhere takes markers in comments and strings too.
func TestOnlyCodeMarkersFilledByDefault(t *testing.T) {
	files := map[string]string{
		"a.go":        "package a\n\n// Use <<fill>> to ask for code.\nconst help = \"put <<fill>> where code goes\"\n\nfunc f() int {\n\treturn <<fill>>\n}\n",
		"b.py":        "def g():\n    \"\"\"Write <<fill>> here.\"\"\"\n    # or <<fill>>\n    return f\"{<<fill>>}\"\n",
		"notes.md":    "# Notes\n\nType <<fill>> in a file.\n",
		"tasks.jsonl": "{\"prefix\":\"x = \",\"middle\":\"<<fill>>\"}\n",
	}
	root := tree(t, files)
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	wantGo := strings.Replace(files["a.go"], "return <<fill>>", "return x := 1", 1)
	if got := read(t, filepath.Join(root, "a.go")); got != wantGo {
		t.Errorf("a.go = %q, want only the marker in code filled: %q", got, wantGo)
	}
	wantPy := strings.Replace(files["b.py"], "{<<fill>>}", "{x := 1}", 1) // an f-string's interpolation is code
	if got := read(t, filepath.Join(root, "b.py")); got != wantPy {
		t.Errorf("b.py = %q, want %q", got, wantPy)
	}
	for _, name := range []string{"notes.md", "tasks.jsonl"} {
		if got := read(t, filepath.Join(root, name)); got != files[name] {
			t.Errorf("%s was changed: %q", name, got)
		}
	}
	if sum.HolesFound != 2 || sum.HolesFilled != 2 || sum.FilesChanged != 2 || sum.MarkersLeft != 4 || !sum.Complete() {
		t.Errorf("summary = %+v; want 2 holes, 4 markers left in comments and strings", sum)
	}
	if sum.Skipped[skipNotSource] != 2 {
		t.Errorf("skipped = %v, want the .md and the .jsonl counted as not source", sum.Skipped)
	}
	var rep bytes.Buffer
	sum.Report(&rep, false)
	if !strings.Contains(rep.String(), "left 4 markers in comments or string literals alone (--anywhere") {
		t.Errorf("report = %q", rep.String())
	}

	// --include: only the files named, of any kind, every marker counting.
	root = tree(t, files)
	sum, err = Run(context.Background(), Config{Filler: &fakeFiller{}, Include: []string{"*.md"}}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "notes.md")); !strings.Contains(got, "Type x := 1 in") {
		t.Errorf("--include '*.md': notes.md = %q", got)
	}
	if read(t, filepath.Join(root, "a.go")) != files["a.go"] || sum.FilesChanged != 1 {
		t.Errorf("--include '*.md' filled other files: %+v", sum)
	}
	// --anywhere: markers in comments and strings too; --exclude wins.
	root = tree(t, files)
	sum, err = Run(context.Background(), Config{Filler: &fakeFiller{}, Anywhere: true, Exclude: []string{"*.py"}}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "a.go")); strings.Contains(got, "<<fill>>") || sum.HolesFilled != 3 {
		t.Errorf("--anywhere: a.go = %q, %d filled", got, sum.HolesFilled)
	}
	if read(t, filepath.Join(root, "b.py")) != files["b.py"] || sum.Skipped[skipExcluded] != 1 {
		t.Errorf("--exclude '*.py': b.py was filled, or not counted: %v", sum.Skipped)
	}
}

func TestGlobs(t *testing.T) {
	for _, tc := range []struct {
		glob string
		yes  []string
		no   []string
	}{
		{"*.go", []string{"a.go", "x/y/b.go"}, []string{"a.go.txt", "a.py"}},
		{"testdata", []string{"testdata/a.go", "x/testdata/y/b.go"}, []string{"testdata.go", "x/mytestdata/a.go"}},
		{"cmd/dfim", []string{"cmd/dfim/batch.go", "cmd/dfim/x/y.go"}, []string{"x/cmd/dfim/a.go", "cmd/dfimx/a.go"}},
		{"cmd/*/b*.go", []string{"cmd/dfim/batch.go"}, []string{"cmd/dfim/fill.go", "cmd/a/b/batch.go"}},
		{"**/gen/*.go", []string{"gen/a.go", "x/y/gen/a.go"}, []string{"gen/x/a.go", "xgen/a.go"}},
		{"internal/**/*_test.go", []string{"internal/a_test.go", "internal/x/y/a_test.go"}, []string{"internal/a.go", "x/internal/a_test.go"}},
		{"./src/", []string{"src/a.go"}, []string{"x/src/a.go"}},
		{"vendor/", []string{"vendor/a.go", "x/vendor/a.go"}, []string{"vendors/a.go"}},
	} {
		gs, err := newGlobSet("--include", []string{tc.glob})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tc.yes {
			if !gs.match(p) {
				t.Errorf("%q does not match %q", tc.glob, p)
			}
		}
		for _, p := range tc.no {
			if gs.match(p) {
				t.Errorf("%q matches %q", tc.glob, p)
			}
		}
	}
	if err := CheckGlobs("--exclude", []string{"a/[b"}); err == nil || !strings.Contains(err.Error(), `--exclude "a/[b"`) {
		t.Errorf("bad glob: err = %v", err)
	}
}

// pathFiller fills every hole with fill(path), "" leaving it unfilled.
type pathFiller struct {
	fill func(path string, i int) string
}

func (f pathFiller) Complete(context.Context, infill.Document, int, infill.Options) ([]infill.Suggestion, error) {
	return nil, errors.New("batch fills holes only")
}

func (f pathFiller) FillHoles(_ context.Context, doc infill.Document, holes []infill.Hole, _ infill.Options) ([]infill.Suggestion, error) {
	out := make([]infill.Suggestion, len(holes))
	for i, h := range holes {
		out[i] = infill.Suggestion{Start: h.Start, End: h.End, Text: f.fill(filepath.Base(doc.Path), i)}
	}
	return out, nil
}

// checkTree is four files with a hole each: bad.go's fill is "BAD", the
// second hole of part.go stays unfilled.
func checkTree(t *testing.T) (string, map[string]string) {
	files := map[string]string{
		"a.go":    "package a\n\nvar v = <<fill>>\n",
		"b.go":    "package a\n\nvar w = <<fill>>\n",
		"bad.go":  "package a\n\nvar x = <<fill>>\n",
		"part.go": "package a\n\nvar y = <<fill>>\nvar z = <<fill>>\n",
	}
	return tree(t, files), files
}

var checkFiller = pathFiller{func(p string, i int) string {
	switch {
	case p == "bad.go":
		return "BAD"
	case p == "part.go" && i == 1:
		return ""
	}
	return "1"
}}

// TestCheckPerFile: a --check with {} runs once per file written; the file
// whose fills fail it gets its old content back, the others keep theirs,
// and a file with a hole left unfilled keeps that marker and its other
// fills when its own check passes (a leftover marker used to make every
// fill be thrown away).
func TestCheckPerFile(t *testing.T) {
	root, files := checkTree(t)
	var log bytes.Buffer
	sum, err := Run(context.Background(), Config{Filler: checkFiller, Check: "! grep -q BAD {}", Log: &log}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a.go":    "package a\n\nvar v = 1\n",
		"b.go":    "package a\n\nvar w = 1\n",
		"bad.go":  files["bad.go"],
		"part.go": "package a\n\nvar y = 1\nvar z = <<fill>>\n",
	}
	for name, w := range want {
		if got := read(t, filepath.Join(root, name)); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
	if sum.CheckRuns != 4 || sum.Restored != 1 || sum.FilesChanged != 3 || !sum.CheckFailed {
		t.Errorf("summary = %+v; want 4 runs, bad.go restored, 3 files kept", sum)
	}
	var rep bytes.Buffer
	sum.Report(&rep, false)
	if !strings.Contains(rep.String(), "bad.go: --check failed on this file") || !strings.Contains(rep.String(), "kept the fills of 3 files, restored 1 file: "+filepath.Join(root, "bad.go")) {
		t.Errorf("report = %s", rep.String())
	}
	if !strings.Contains(log.String(), "bad.go") || strings.Contains(log.String(), "a.go'") {
		t.Errorf("log = %q, want the failing check of bad.go only", log.String())
	}
}

// TestCheckTreeBisects: a --check of the whole tree that fails with every
// fill in place is run again to find the files to blame; the others keep
// their fills. One that fails with no fills either cannot judge them: every
// file is restored, and the markers left unfilled are named as the
// likely cause.
func TestCheckTreeBisects(t *testing.T) {
	root, files := checkTree(t)
	check := "! grep -rq BAD " + shellQuote(root)
	sum, err := Run(context.Background(), Config{Filler: checkFiller, Check: check}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "bad.go")); got != files["bad.go"] {
		t.Errorf("bad.go = %q, want it restored", got)
	}
	for _, name := range []string{"a.go", "b.go", "part.go"} {
		if got := read(t, filepath.Join(root, name)); !strings.Contains(got, "= 1\n") {
			t.Errorf("%s = %q, want its fill kept", name, got)
		}
	}
	if sum.Restored != 1 || sum.FilesChanged != 3 || sum.CheckRuns > 6 {
		t.Errorf("summary = %+v; want bad.go alone restored in at most 6 runs", sum)
	}
	for _, f := range sum.Files {
		if strings.HasSuffix(f.Path, "bad.go") != f.Restored {
			t.Errorf("%s: restored %v", f.Path, f.Restored)
		}
	}

	// A check the leftover marker of part.go breaks, with or without fills.
	root, files = checkTree(t)
	sum, err = Run(context.Background(), Config{Filler: checkFiller, Check: "! grep -rq '<<fill>>' " + shellQuote(root)}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if got := read(t, filepath.Join(root, name)); got != content {
			t.Errorf("%s = %q, want it restored", name, got)
		}
	}
	if sum.Restored != 4 || sum.CheckRuns != 2 {
		t.Errorf("summary = %+v, want 4 restored after 2 runs", sum)
	}
	probs := strings.Join(sum.Files[0].Problems, "\n")
	if !strings.Contains(probs, "fails without dfim's fills too") || !strings.Contains(probs, "part.go may be why") {
		t.Errorf("problems = %q", probs)
	}
}

func TestDryRunWithCheckRefused(t *testing.T) {
	root, files := checkTree(t)
	_, err := Run(context.Background(), Config{Filler: checkFiller, Check: "true", DryRun: true}, []string{root})
	if err == nil || !strings.Contains(err.Error(), "dry run") {
		t.Errorf("err = %v, want --check with a dry run refused", err)
	}
	if read(t, filepath.Join(root, "a.go")) != files["a.go"] {
		t.Error("a refused run wrote a file")
	}
}

// TestUnfilledHolesInLineOrder: line 63 comes before line 103 (they were
// sorted as strings).
func TestUnfilledHolesInLineOrder(t *testing.T) {
	lines := []int{63, 82, 103, 116, 125}
	var b strings.Builder
	b.WriteString("package a\n\nfunc f() {\n")
	for n := 4; n <= 130; n++ {
		if n == lines[0] || n == 82 || n == 103 || n == 116 || n == 125 {
			b.WriteString("\t<<fill>>\n")
		} else {
			b.WriteString("\t_ = 0\n")
		}
	}
	b.WriteString("}\n")
	root := tree(t, map[string]string{"a.go": b.String()})
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{refuse: true}}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, p := range sum.Files[0].Problems {
		n, _ := strconv.Atoi(regexp.MustCompile(`^line (\d+):`).FindStringSubmatch(p)[1])
		got = append(got, n)
	}
	if fmt.Sprint(got) != fmt.Sprint(lines) {
		t.Errorf("unfilled holes listed at lines %v, want %v", got, lines)
	}
}

// TestDryRunDiffApplies: the diff a dry run prints, applied with patch to
// a copy of the tree, gives what the real run writes, and every hunk
// header's new-file numbers say where its lines are in the new file (they
// used to miss the unchanged lines between two edits of one hunk).
func TestDryRunDiffApplies(t *testing.T) {
	var src strings.Builder
	src.WriteString("package a\n\nfunc f() {\n")
	for n := 0; n < 40; n++ {
		if n%13 == 2 || n%13 == 5 { // two edits in a hunk, then the next hunk
			src.WriteString("\t<<fill:3>>\n")
		} else {
			fmt.Fprintf(&src, "\t_ = %d\n", n)
		}
	}
	src.WriteString("}\n")
	multi := pathFiller{func(_ string, i int) string { return strings.Repeat("y := 1\n\t", i%3) + "z := 2" }}
	dry := tree(t, map[string]string{"a.go": src.String(), "sub/b.go": src.String()})
	real := tree(t, map[string]string{"a.go": src.String(), "sub/b.go": src.String()})
	var out bytes.Buffer
	t.Chdir(dry)
	if _, err := Run(context.Background(), Config{Filler: multi, DryRun: true, Out: &out}, []string{"."}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Config{Filler: multi}, []string{real}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.go", "sub/b.go"} {
		checkHunks(t, out.String(), name, read(t, filepath.Join(real, name)))
	}
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("no patch here")
	}
	cmd := exec.Command("patch", "-p1", "--no-backup-if-mismatch")
	cmd.Dir, cmd.Stdin = dry, bytes.NewReader(out.Bytes())
	msg, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(msg), "offset") || strings.Contains(string(msg), "fuzz") {
		t.Fatalf("patch: %v\n%s\n%s", err, msg, out.String())
	}
	for _, name := range []string{"a.go", "sub/b.go"} {
		if got, want := read(t, filepath.Join(dry, name)), read(t, filepath.Join(real, name)); got != want {
			t.Errorf("%s: the dry run's diff applied gives\n%s\nthe run wrote\n%s", name, got, want)
		}
	}
}

// checkHunks checks every hunk of name's diff in diff against the new file.
func checkHunks(t *testing.T, diff, name, newText string) {
	t.Helper()
	newLines := strings.SplitAfter(newText, "\n")
	part := diff[strings.Index(diff, "+++ b/"+name+"\n"):]
	if i := strings.Index(part[1:], "\n--- "); i >= 0 {
		part = part[:i+2]
	}
	hdr := regexp.MustCompile(`(?m)^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@\n`)
	locs := hdr.FindAllStringSubmatchIndex(part, -1)
	if len(locs) < 2 {
		t.Fatalf("%s: %d hunks, want several:\n%s", name, len(locs), part)
	}
	for k, loc := range locs {
		start, _ := strconv.Atoi(part[loc[2]:loc[3]])
		end := len(part)
		if k+1 < len(locs) {
			end = locs[k+1][0]
		}
		n := start - 1
		for _, l := range strings.SplitAfter(strings.TrimSuffix(part[loc[1]:end], "\n"), "\n") {
			if l == "" || l[0] == '-' {
				continue
			}
			if n >= len(newLines) || strings.TrimSuffix(newLines[n], "\n") != strings.TrimSuffix(l[1:], "\n") {
				t.Errorf("%s: hunk %q: line %d of the new file is not %q", name, part[loc[0]:loc[1]-1], n+1, l[1:])
				break
			}
			n++
		}
	}
}

func TestUnifiedDiffEdges(t *testing.T) {
	if got := unifiedDiff("a/x", "b/x", "", "a\nb\n"); !strings.Contains(got, "@@ -0,0 +1,2 @@\n+a\n+b\n") {
		t.Errorf("into an empty file: %q", got)
	}
	if got := unifiedDiff("a/x", "b/x", "a\n", ""); !strings.Contains(got, "@@ -1 +0,0 @@\n-a\n") {
		t.Errorf("to an empty file: %q", got)
	}
	if got := unifiedDiff("a/x", "b/x", "a", "b"); !strings.Contains(got, "-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n") {
		t.Errorf("no final newline: %q", got)
	}
}

func TestProgressAndReport(t *testing.T) {
	root := tree(t, map[string]string{
		"a.go": "package a\nvar v = <<fill>>\nvar w = <<fill>>\n",
		"b.go": "package a\nvar x = <<fill>>\n",
		"c.go": "package a\n",
	})
	var prog bytes.Buffer
	sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Progress: &prog, DryRun: true}, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"filled 0/3 holes in 0/2 files\r", "filled 2/3 holes in 1/2 files (a.go)", "filled 3/3 holes in 2/2 files (b.go)"} {
		if !strings.Contains(prog.String(), want) {
			t.Errorf("progress %q lacks %q", prog.String(), want)
		}
	}
	if !strings.HasSuffix(prog.String(), "\r\033[K") {
		t.Errorf("progress %q does not clear its line at the end", prog.String())
	}
	var rep bytes.Buffer
	sum.Report(&rep, true)
	if !strings.HasPrefix(rep.String(), "dfim batch: 3 files, 3 holes found, 3 filled, 0 not filled; 2 files would change in ") {
		t.Errorf("report = %q", rep.String())
	}
	if _, err := os.Stat(filepath.Join(root, "a.go")); err != nil {
		t.Fatal(err)
	}
}
