package eval

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func firstHumanEvalTask(t *testing.T) Task {
	t.Helper()
	tasks, _, err := LoadTasks(filepath.Join(humanEvalDir, "HumanEval-SingleLineInfilling.jsonl.gz"))
	if err != nil {
		t.Fatalf("HumanEval-Infilling: %v", err)
	}
	return tasks[0]
}

func TestExecCanonicalSolutionPasses(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	task := firstHumanEvalTask(t)
	e := &Executor{Timeout: 20 * time.Second}
	if pass, detail := e.Check(context.Background(), &task, task.Middle); !pass {
		t.Fatalf("canonical solution of %s failed: %s\nprogram:\n%s", task.ID, detail, Program(&task, task.Middle))
	}
	// A wrong line must fail, or pass@1 would measure nothing.
	if pass, _ := e.Check(context.Background(), &task, "    for idx, elem in enumerate([]):\n"); pass {
		t.Errorf("a wrong completion of %s passed its test", task.ID)
	}
}

func TestExecTimesOut(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	task := Task{ID: "loop", Prefix: "def f():\n", Middle: "", Suffix: "", Test: &PythonTest{
		Test: "def check(c):\n    while True:\n        pass\n", EntryPoint: "f"}}
	e := &Executor{Timeout: 300 * time.Millisecond}
	pass, detail := e.Check(context.Background(), &task, "    return 1\n")
	if pass || !strings.Contains(detail, "timed out") {
		t.Fatalf("endless test: pass %v, detail %q; want a timeout", pass, detail)
	}
}
