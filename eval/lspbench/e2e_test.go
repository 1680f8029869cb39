package lspbench

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/eval"
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

// lineEdit is the task of a rename made on one line of before (the
// user's edit) and expected on the lines after it, whole lines each, as
// dfim eval gen --nes makes them.
func lineEdit(id, file, lang, before, old, new string, editLine int) eval.NESTask {
	lines := strings.SplitAfter(before, "\n")
	t := eval.NESTask{ID: id, Commit: "0000000", Path: file, Lang: lang, Before: before}
	off := 0
	for i, l := range lines {
		if i == editLine {
			t.Edit = eval.NESEdit{Start: off, Old: l, New: strings.ReplaceAll(l, old, new)}
		} else if i > editLine && strings.Contains(l, old) {
			shift := len(t.Edit.New) - len(t.Edit.Old)
			t.Expected = append(t.Expected, eval.NESHunk{Start: off + shift, End: off + shift + len(l), Text: strings.ReplaceAll(l, old, new)})
		}
		off += len(l)
	}
	return t
}

// TestBenchLSPNextEdits replays two renames (a Go field, a Python
// function) into dfim serve with the test engine: each must get an
// answer, the server must not fail, and each rename's next use, which the
// copy of the user's edit finds (the test engine's fills do not deny it),
// must be proposed exactly and scored so.
func TestBenchLSPNextEdits(t *testing.T) {
	exe := buildDFIM(t)
	goSrc := "package p\n\ntype person struct {\n\tnmae string\n}\n\nfunc a(p person) string {\n\treturn p.nmae\n}\n\nfunc b(p person) string {\n\treturn \"<\" + p.nmae\n}\n"
	pySrc := "def area(w, h):\n    return w * h\n\n\ndef main():\n    print(area(2, 3))\n    print(area(4, 5))\n"
	tasks := []eval.NESTask{
		lineEdit("go-rename", "p/person.go", "go", goSrc, "nmae", "name", 3),
		lineEdit("py-rename", "shapes.py", "python", pySrc, "area", "surface", 0),
	}
	var jsonl bytes.Buffer
	for _, task := range tasks {
		if len(task.Expected) != 2 {
			t.Fatalf("bad task %s: %d expected hunks", task.ID, len(task.Expected))
		}
		b, _ := json.Marshal(task)
		jsonl.Write(append(b, '\n'))
	}
	file := filepath.Join(t.TempDir(), "nes.jsonl")
	if err := os.WriteFile(file, jsonl.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, stderr := benchLSP(t, exe, "--chars", "10", "--pace", "0", "--quiet", "0", "--nes-tasks", file, "--", "--engine", "e2efake")
	n := rep.NextEdit
	if n == nil {
		t.Fatalf("no next_edit in the report\n%s", stderr)
	}
	t.Logf("next edits: %+v", *n)
	if n.Tasks != 2 || n.Errors != 0 || n.ServerFailures != 0 || n.TimedOut != 0 {
		t.Errorf("%d tasks, %d errors (%d timed out, %d failed inside the server; first: %s); want 2 tasks, no error",
			n.Tasks, n.Errors, n.TimedOut, n.ServerFailures, n.FirstError)
	}
	if n.Shown != 2 || n.LocationHits != 2 || n.ExactMatches != 2 {
		t.Errorf("shown %d, at an expected place %d, exact %d; want each rename's next use, exactly", n.Shown, n.LocationHits, n.ExactMatches)
	}
	if n.Latency.P50 <= 0 || n.Latency.P95 < n.Latency.P50 {
		t.Errorf("latency %+v: want positive and ordered", n.Latency)
	}
	for _, want := range []string{"next edits: 2 edits replayed", "edit to answer", "equals an expected hunk", "per 100 keystrokes"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the table lacks %q:\n%s", want, stderr)
		}
	}
}
