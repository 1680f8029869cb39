package eval

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/internal/dfimtest"
)

// TestEvalCommandEndToEnd runs `dfim eval` built with the test-only
// e2efake engine (cmd/dfim/e2efake_test_engine.go) on a task file with a
// malformed line.
func TestEvalCommandEndToEnd(t *testing.T) {
	exe := dfimtest.Binary(t, dfimtest.FakeEngineTag)
	dir := t.TempDir()
	var lines []string
	for _, tk := range runTasks {
		b, _ := json.Marshal(tk)
		lines = append(lines, string(b))
	}
	lines = append(lines[:1], append([]string{`{"id": "torn`}, lines[1:]...)...)
	tasks := filepath.Join(dir, "tasks.jsonl")
	if err := os.WriteFile(tasks, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(exe, "eval", "--engine", "e2efake", "--tasks", tasks, "--jobs", "2", "--out", filepath.Join(dir, "metrics.json"), "--results", filepath.Join(dir, "results.jsonl"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dfim eval: %v\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "tasks.jsonl:2:") {
		t.Errorf("the malformed line 2 is not reported on stderr:\n%s", stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the metrics JSON: %v\n%s", err, stdout.String())
	}
	if rep.N != len(runTasks) || rep.ByLang["go"].N != 2 || rep.ByKind["single-line"].N != 2 {
		t.Errorf("metrics n %d, by_lang %v, by_kind %v", rep.N, rep.ByLang, rep.ByKind)
	}
	results, err := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	if err != nil || bytes.Count(results, []byte("\n")) != len(runTasks) {
		t.Errorf("--results holds %d lines (err %v), want one per task", bytes.Count(results, []byte("\n")), err)
	}
	if saved, err := os.ReadFile(filepath.Join(dir, "metrics.json")); err != nil || !bytes.Equal(saved, stdout.Bytes()) {
		t.Errorf("--out file differs from the metrics on stdout (err %v)", err)
	}
}
