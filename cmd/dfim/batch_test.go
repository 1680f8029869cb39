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
