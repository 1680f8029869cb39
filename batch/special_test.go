//go:build unix

package batch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPlanReadsOnlyRegularFilesUnderTheLimit: a plan naming a FIFO used to
// hang the run, and one naming a huge file read it all; both are reported
// and skipped now.
func TestPlanReadsOnlyRegularFilesUnderTheLimit(t *testing.T) {
	root := tree(t, map[string]string{"big.go": "package a\n" + strings.Repeat("// padding\n", 100)})
	if err := syscall.Mkfifo(filepath.Join(root, "pipe.go"), 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	line := func(p string) string {
		return `{"path":"` + filepath.Join(root, p) + `","start_line":1,"end_line":1}` + "\n"
	}
	plan, err := ReadPlan("plan.jsonl", strings.NewReader(line("big.go")+line("pipe.go")))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *Summary, 1)
	go func() {
		sum, err := Run(context.Background(), Config{Filler: &fakeFiller{}, Plan: plan, MaxFileSize: 200}, []string{root})
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	var sum *Summary
	select {
	case sum = <-done:
	case <-time.After(10 * time.Second):
		// Unblock the reader so the test can end.
		if f, err := os.OpenFile(filepath.Join(root, "pipe.go"), os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("the run hung on a FIFO named by the plan")
	}
	if sum == nil {
		return
	}
	var probs []string
	for _, f := range sum.Files {
		probs = append(probs, f.Problems...)
	}
	all := strings.Join(probs, "\n")
	if !strings.Contains(all, "not a regular file") || !strings.Contains(all, "more than the 200 allowed") {
		t.Errorf("problems %q, want the FIFO and the oversized file reported", all)
	}
}
