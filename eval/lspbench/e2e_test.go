package lspbench

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

// buildDFIM is the dfim binary with the test-only e2efake engine
// (cmd/dfim/e2efake_test_engine.go), so the benchmark runs end to end
// without a model.
func buildDFIM(t *testing.T) string { return dfimtest.Binary(t, dfimtest.FakeEngineTag) }

// benchLSP runs `dfim bench lsp` with args and returns its report.
func benchLSP(t *testing.T, exe string, args ...string) (Report, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(exe, append([]string{"bench", "lsp"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dfim bench lsp: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the report JSON: %v\n%s", err, stdout.String())
	}
	return rep, stderr.String()
}

// TestBenchLSPStormThenQuiet types with short pauses (1.5–10 ms) and no debounce,
// so that nearly every request is cancelled while the server parses and
// validates, then requires the quiet requests after it to succeed and the
// server to count no failure: cancelled parses once broke every later one.
func TestBenchLSPStormThenQuiet(t *testing.T) {
	exe := buildDFIM(t)
	cfg := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(cfg, []byte(`{"debounceMs": 0, "crossFileContext": false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, stderr := benchLSP(t, exe, "--chars", "600", "--pace", "0.05", "--quiet", "20", "--", "--engine", "e2efake", "--config", cfg)
	// Most cancellations are the server's own (a newer version supersedes
	// a request), which the client does not see; its count is only logged.
	t.Logf("sent %d, cancelled by the client %d, answered %d", rep.RequestsSent, rep.RequestsCancelled, rep.Answered)
	if rep.ServerFailures != 0 || rep.QuietSent != 20 || rep.QuietFailed != 0 || rep.Errors != 0 {
		t.Errorf("%d requests failed inside the server, %d of %d quiet requests failed, %d errors (first: %s)\n%s",
			rep.ServerFailures, rep.QuietFailed, rep.QuietSent, rep.Errors, rep.FirstError, stderr)
	}
}

func TestBenchLSPEndToEnd(t *testing.T) {
	exe := buildDFIM(t)
	rep, stderr := benchLSP(t, exe, "--chars", "40", "--pace", "0.2", "--", "--engine", "e2efake")
	if rep.Chars != 40 || rep.Keystrokes == 0 || rep.RequestsSent != rep.Keystrokes {
		t.Errorf("typed %d chars, %d keystrokes, %d requests; want 40 chars and a request per keystroke", rep.Chars, rep.Keystrokes, rep.RequestsSent)
	}
	if rep.Answered+rep.RequestsCancelled+rep.Errors != rep.RequestsSent || rep.Errors != 0 || rep.ServerFailures != 0 {
		t.Errorf("answered %d, cancelled %d, errors %d (%s) of %d sent", rep.Answered, rep.RequestsCancelled, rep.Errors, rep.FirstError, rep.RequestsSent)
	}
	if rep.Answered == 0 || rep.SuggestionsShown == 0 || rep.Latency.P50 <= 0 {
		t.Errorf("answered %d, shown %d, latency %+v: the last keystroke's answer at least must arrive", rep.Answered, rep.SuggestionsShown, rep.Latency)
	}
	if !strings.Contains(stderr, "keystroke to answer") || !strings.Contains(stderr, "failed inside the server") {
		t.Errorf("no table on stderr:\n%s", stderr)
	}
}
