package lspbench

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// buildDFIM builds the dfim binary with the test-only e2efake engine
// (cmd/dfim/e2efake_test_engine.go), so the benchmark runs end to end
// without a model.
func buildDFIM(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the dfim binary; skipped with -short")
	}
	for _, f := range []string{"../../cmd/dfim/serve.go", "../../cmd/dfim/e2efake_test_engine.go"} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s is not here yet: %v", f, err)
		}
	}
	exe := filepath.Join(t.TempDir(), "dfim")
	if out, err := exec.Command("go", "build", "-tags", "dfim_e2e_fake", "-o", exe, "github.com/dfim/dfim/cmd/dfim").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

func TestBenchLSPEndToEnd(t *testing.T) {
	exe := buildDFIM(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(exe, "bench", "lsp", "--chars", "40", "--pace", "0.2", "--", "--engine", "e2efake")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dfim bench lsp: %v\nstderr:\n%s", err, stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the report JSON: %v\n%s", err, stdout.String())
	}
	if rep.Chars != 40 || rep.Keystrokes == 0 || rep.RequestsSent != rep.Keystrokes {
		t.Errorf("typed %d chars, %d keystrokes, %d requests; want 40 chars and a request per keystroke", rep.Chars, rep.Keystrokes, rep.RequestsSent)
	}
	if rep.Answered+rep.RequestsCancelled+rep.Errors != rep.RequestsSent || rep.Errors != 0 {
		t.Errorf("answered %d, cancelled %d, errors %d (%s) of %d sent", rep.Answered, rep.RequestsCancelled, rep.Errors, rep.FirstError, rep.RequestsSent)
	}
	if rep.Answered == 0 || rep.SuggestionsShown == 0 || rep.Latency.P50 <= 0 {
		t.Errorf("answered %d, shown %d, latency %+v: the last keystroke's answer at least must arrive", rep.Answered, rep.SuggestionsShown, rep.Latency)
	}
	if !bytes.Contains(stderr.Bytes(), []byte("keystroke to answer")) {
		t.Errorf("no table on stderr:\n%s", stderr.String())
	}
}
