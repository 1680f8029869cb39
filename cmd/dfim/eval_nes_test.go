package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalNESFromGitHistory makes next-edit tasks from a two-commit
// repository (the second renames a field at its declaration and its
// three uses) and runs them: the copy-only baseline must find the next
// use, and so must the model column (the emptytest engine, whose blank
// fills neither confirm nor deny).
func TestEvalNESFromGitHistory(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not found")
	}
	repo := t.TempDir()
	gitRun := func(args ...string) {
		t.Helper()
		cmd := exec.Command(gitBin, append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	src := "package p\n\ntype person struct {\n\tnmae string\n}\n\nfunc a(p person) string {\n\treturn p.nmae\n}\n\nfunc b(p person) string {\n\treturn \"<\" + p.nmae\n}\n"
	write := func(text string) {
		if err := os.WriteFile(filepath.Join(repo, "p.go"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun("init", "-q")
	write(src)
	gitRun("add", "p.go")
	gitRun("commit", "-q", "-m", "one")
	write(strings.ReplaceAll(src, "nmae", "name"))
	gitRun("commit", "-q", "-am", "rename")

	tasks := filepath.Join(t.TempDir(), "nes.jsonl")
	code, _, stderr := runCLI(t, "eval", "gen", "--nes", "--repo", repo, "--out", tasks)
	if code != 0 || !strings.Contains(stderr, "1 tasks") {
		t.Fatalf("eval gen --nes: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "eval", "nes", "--engine", "emptytest", "--tasks", tasks)
	if code != 0 {
		t.Fatalf("eval nes: exit %d: %s", code, stderr)
	}
	var rep nesReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("eval nes printed %q: %v", stdout, err)
	}
	if rep.Tasks != 1 || rep.CopyOnly.LocationHits != 1 || rep.CopyOnly.ExactMatches != 1 || rep.Model.ExactMatches != 1 {
		t.Errorf("report %+v, want the next use found and its edit exact, by both", rep)
	}
	if code, _, _ := runCLI(t, "eval", "gen", "--nes"); code != 2 {
		t.Errorf("eval gen --nes without --repo: exit %d, want a usage error (2)", code)
	}
}
