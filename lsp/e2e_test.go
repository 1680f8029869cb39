package lsp

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfim/dfim/internal/dfimtest"
)

// The end-to-end tests build the dfim binary and drive `dfim serve` with two
// real clients: Node (vscode-languageserver-protocol, what VS Code's client
// is built on) and headless Neovim. They run against the default engine;
// DFIM_E2E_ENGINE=e2efake runs them against the test engine compiled in
// with -tags dfim_e2e_fake instead. Without node_modules or nvim they skip,
// except under CI=true, where they fail.

// e2eEngineArgs are the serve flags selecting the engine under test.
func e2eEngineArgs() []string {
	if e := os.Getenv("DFIM_E2E_ENGINE"); e != "" {
		return []string{"--engine", e}
	}
	return nil
}

// buildDfim is the dfim binary under test (with the e2efake engine linked
// in when DFIM_E2E_ENGINE=e2efake).
func buildDfim(t *testing.T) string {
	t.Helper()
	if os.Getenv("DFIM_E2E_ENGINE") == "e2efake" {
		return dfimtest.Binary(t, dfimtest.FakeEngineTag)
	}
	return dfimtest.Binary(t)
}

func TestE2ENode(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	node, err := exec.LookPath("node")
	dfimtest.NeedTool(t, err != nil, "node not found on PATH")
	_, err = os.Stat("testdata/e2e/node_modules/vscode-languageserver-protocol")
	dfimtest.NeedTool(t, err != nil, "node_modules missing: run `npm ci --prefix lsp/testdata/e2e`")
	bin := buildDfim(t)
	logFile := filepath.Join(t.TempDir(), "dfim.log")
	args := append([]string{"testdata/e2e/client.js", bin, "--log-file", logFile}, e2eEngineArgs()...)
	cmd := exec.Command(node, args...)
	out, err := cmd.Output()
	logs, _ := os.ReadFile(logFile)
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node client failed: %v\n%s%s\nserver log:\n%s", err, out, stderr, logs)
	}
	var report struct {
		OK              bool    `json:"ok"`
		CompletionItems int     `json:"completionItems"`
		InlineItems     int     `json:"inlineItems"`
		FillEdits       int     `json:"fillEdits"`
		FillText        *string `json:"fillText"`
		Storm           struct {
			Sent, Quiet, QuietItems int
			Failed                  *int
		} `json:"storm"`
	}
	if err := json.Unmarshal(out, &report); err != nil || !report.OK {
		t.Fatalf("node client report %q: %v", out, err)
	}
	if os.Getenv("DFIM_E2E_ENGINE") == "e2efake" && (report.CompletionItems == 0 || report.InlineItems == 0) {
		t.Errorf("the e2efake engine always fills, but the client got %d items and %d inline items", report.CompletionItems, report.InlineItems)
	}
	// The client asserts the storm itself; this checks it ran.
	if report.Storm.Sent == 0 || report.Storm.Quiet == 0 || report.Storm.Failed == nil || *report.Storm.Failed != 0 {
		t.Errorf("typing storm then quiet requests: %+v, want quiet requests answered and no failure inside the server", report.Storm)
	}
	if os.Getenv("DFIM_E2E_ENGINE") == "e2efake" && report.Storm.QuietItems != report.Storm.Quiet {
		t.Errorf("the e2efake engine always fills, but %d of %d quiet requests after the storm had items", report.Storm.QuietItems, report.Storm.Quiet)
	}
	if os.Getenv("DFIM_E2E_ENGINE") == "e2efake" && (report.FillEdits != 1 || report.FillText == nil || *report.FillText != "e2e_fill()") {
		t.Errorf("dfim.fillHoles with e2efake: %d applyEdit requests, text %v; want one edit with e2e_fill()", report.FillEdits, report.FillText)
	}
	t.Logf("node: %s", strings.TrimSpace(string(out)))
}

func TestE2ENeovim(t *testing.T) {
	src, err := os.ReadFile("testdata/e2e/main.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		OK    bool   `json:"ok"`
		Items int    `json:"items"`
		Error string `json:"error"`
		First string `json:"first"`
		Storm struct {
			Sent   int  `json:"sent"`
			Failed *int `json:"failed"`
		} `json:"storm"`
	}
	report, _ := runNeovimE2E(t, src, "testdata/e2e/nvim.lua", nil, nil, &r)
	if r.Storm.Sent == 0 || r.Storm.Failed == nil || *r.Storm.Failed != 0 {
		t.Errorf("typing storm then quiet requests: %+v, want no failure inside the server", r.Storm)
	}
	if os.Getenv("DFIM_E2E_ENGINE") == "e2efake" && r.First != "e2e_fill()" {
		t.Errorf("first item %q, want %q", r.First, "e2e_fill()")
	}
	t.Logf("neovim: %s", report)
}

// runNeovimE2E drives `dfim serve` from headless Neovim: it writes src to
// main.go in a fresh folder and runs the Lua script there, which finds the
// binary, that file, where to write its JSON report and the serve flags in
// DFIM_BIN, DFIM_FILE, DFIM_OUT and DFIM_ARGS. nvimArgs go before the
// script (such as --cmd to set the runtimepath), serveArgs after the log
// file's. It decodes the report into r and fails the test unless nvim
// succeeded and the report says ok; it returns the report and the
// server's log.
func runNeovimE2E(t *testing.T, src []byte, script string, nvimArgs, serveArgs []string, r any) (report, logs []byte) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	nvim, err := exec.LookPath("nvim")
	dfimtest.NeedTool(t, err != nil, "nvim not found on PATH (Debian: apt-get install neovim)")
	bin := buildDfim(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "main.go")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(dir, "report.json")
	logFile := filepath.Join(dir, "dfim.log")
	script, _ = filepath.Abs(script)
	args := append(append([]string{"--headless", "-u", "NONE", "-i", "NONE"}, nvimArgs...), "-c", "luafile "+script)
	cmd := exec.Command(nvim, args...)
	cmd.Dir = dir
	serve := append(append([]string{"--log-file", logFile}, serveArgs...), e2eEngineArgs()...)
	cmd.Env = append(os.Environ(), "DFIM_BIN="+bin, "DFIM_FILE="+file, "DFIM_OUT="+outFile,
		"DFIM_ARGS="+strings.Join(serve, " "))
	done := make(chan error, 1)
	var combined []byte
	go func() {
		var err error
		combined, err = cmd.CombinedOutput()
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("nvim did not finish in 3 minutes")
	}
	report, _ = os.ReadFile(outFile)
	logs, _ = os.ReadFile(logFile)
	var ok struct {
		OK bool `json:"ok"`
	}
	jerr := json.Unmarshal(report, r)
	if jerr == nil {
		jerr = json.Unmarshal(report, &ok)
	}
	if err != nil || jerr != nil || !ok.OK {
		t.Fatalf("neovim client failed: %v\nreport: %s\nnvim output: %s\nserver log:\n%s", err, report, combined, logs)
	}
	return report, logs
}
