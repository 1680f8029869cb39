package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBatchPlanOutsideRootsIsAUsageError: `dfim batch --plan` with a line
// naming a file outside the PATHs given exits 2 with the plan line named,
// and writes nothing there.
func TestBatchPlanOutsideRootsIsAUsageError(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "tree")
	os.Mkdir(root, 0o755)
	os.Mkdir(filepath.Join(base, "outside"), 0o755)
	victim := filepath.Join(base, "outside", "victim.go")
	src := "package v\n\nfunc f(x int) int {\n\treturn 0\n}\n"
	os.WriteFile(victim, []byte(src), 0o644)
	plan := filepath.Join(base, "plan.jsonl")
	os.WriteFile(plan, []byte(`{"path":"`+filepath.Join(root, "..", "outside", "victim.go")+`","start_line":4,"end_line":4}`+"\n"), 0o644)
	var stdout, stderr bytes.Buffer
	code := run([]string{"batch", "--engine", "filltest", "--plan", plan, root}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "plan line 1") || !strings.Contains(stderr.String(), "outside") {
		t.Errorf("exit %d, stderr %q; want 2 and the plan line named as outside", code, stderr.String())
	}
	if b, _ := os.ReadFile(victim); string(b) != src {
		t.Errorf("the file outside the root was written: %q", b)
	}
}

// TestBatchFillsOnlyCodeMarkers: `dfim batch` with the built-in model on a
// tree whose markers sit in a string literal, a comment, a Markdown file,
// a JSONL file and in code changes only the file with the marker in code,
// and only there; the dry run's summary counts the file that would change.
func TestBatchFillsOnlyCodeMarkers(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"stack.go":    "package stack\n\n// Marker syntax: <<fill>> asks dfim for code.\nconst usage = \"put <<fill>> where code goes\"\n\nfunc f(n int) (int, error) {\n\tif n < 0 {\n\t\t<<fill>>\n\t}\n\treturn n, nil\n}\n",
		"notes.md":    "# Notes\n\nType <<fill>> in a source file.\n",
		"tasks.jsonl": `{"prefix":"x = ","middle":"<<fill>>"}` + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, "batch", "--dry-run", root)
	if code != exitOK && code != exitFailed {
		t.Fatalf("dry run: exit %d, stderr %s", code, stderr)
	}
	if !strings.Contains(stderr, "1 hole found") || !strings.Contains(stderr, "left 2 markers in comments or string literals alone") ||
		!strings.Contains(stderr, "skipped 2 files: not source code") {
		t.Errorf("dry run: stderr %s", stderr)
	}
	if code == exitOK && (!strings.Contains(stderr, "1 file would change") || !strings.Contains(stdout, "-\t\t<<fill>>")) {
		t.Errorf("dry run: stdout %q, stderr %s; want the code marker's diff and 1 file would change", stdout, stderr)
	}
	for _, bad := range []string{"notes.md", "tasks.jsonl", "-// Marker", "-const usage"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("dry run diff touches %q:\n%s", bad, stdout)
		}
	}
	code, _, stderr = runCLI(t, "batch", root)
	for name, content := range files {
		got, _ := os.ReadFile(filepath.Join(root, name))
		if name != "stack.go" {
			if string(got) != content {
				t.Errorf("%s was changed: %q", name, got)
			}
			continue
		}
		if code == exitOK {
			want := strings.SplitAfter(content, "if n < 0 {\n")[0]
			if !strings.HasPrefix(string(got), want) || strings.Count(string(got), "<<fill>>") != 2 {
				t.Errorf("stack.go = %q; want only the marker in the body filled", got)
			}
		}
	}
	t.Logf("exit %d; %s", code, stderr)
}

// TestBatchUsageErrors: --dry-run with --check (a dry run writes nothing to
// check) and a malformed glob are usage errors, exit 2, before any work.
func TestBatchUsageErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.go"), []byte("package a\nvar v = <<fill>>\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"batch", "--engine", "filltest", "--dry-run", "--check", "go build ./...", dir}, "--check judges the files written and --dry-run writes none"},
		{[]string{"batch", "--engine", "filltest", "--include", "a/[b", dir}, `--include "a/[b"`},
		{[]string{"batch", "--engine", "filltest", "--exclude", "[", dir}, `--exclude "["`},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("dfim %q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.go")); string(b) != "package a\nvar v = <<fill>>\n" {
		t.Errorf("a refused run wrote a.go: %q", b)
	}
}

// TestBatchCheckPerFileCLI: with --check and {} a file whose check fails is
// restored and named on stderr, the exit status is 1, the other file keeps
// its fill.
func TestBatchCheckPerFileCLI(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.go"), []byte("package a\nvar v = <<fill>>\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.go"), []byte("package a\nvar w = <<fill>>\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.go"), []byte("package a\n\nvar x = 1\n"), 0o644) // the fill x + 1 compiles
	code, _, stderr := runCLI(t, "batch", "--engine", "filltest", "--check", "case {} in *b.go) exit 3;; esac", dir)
	if code != exitFailed || !strings.Contains(stderr, "b.go: --check failed on this file") || !strings.Contains(stderr, "kept the fills of 1 file, restored 1 file") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a.go"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.go"))
	if string(a) != "package a\nvar v = x + 1\n" || string(b) != "package a\nvar w = <<fill>>\n" {
		t.Errorf("a.go = %q, b.go = %q", a, b)
	}
}
