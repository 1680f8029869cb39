package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/eval"
	"github.com/dfim/dfim/eval/lspbench"
)

// emptyTestEngine fills every hole with nothing: no suggestion survives.
type emptyTestEngine struct{}

func (emptyTestEngine) Infill(context.Context, engine.Request) (engine.Result, error) {
	return engine.Result{Candidates: []engine.Fill{{Holes: []string{"  "}, Tokens: []int{1}, Confidence: 0.5}}, Steps: 2, Tokens: 1}, nil
}
func (emptyTestEngine) Close() error { return nil }

func init() {
	engine.Register("emptytest", func(engine.Config) (engine.Denoiser, error) { return emptyTestEngine{}, nil })
}

// runCLI runs dfim with args and returns the exit code, stdout and stderr
// (each both what run was given and what went to os.Stdout or os.Stderr).
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	oldErr := os.Stderr
	os.Stderr = errFile
	direct := captureStdout(t, func() { code = run(args, &out, &errb) })
	os.Stderr = oldErr
	directErr, _ := os.ReadFile(errFile.Name())
	return code, out.String() + direct, string(directErr) + errb.String()
}

// terminalStdin makes run see a person on stdin for the test.
func terminalStdin(t *testing.T, on bool) {
	old := stdinIsTerminal
	stdinIsTerminal = func() bool { return on }
	t.Cleanup(func() { stdinIsTerminal = old })
}

// TestBareDfimPrintsHelp: `dfim` typed in a terminal shows the commands
// instead of starting the language server and waiting on stdin.
func TestBareDfimPrintsHelp(t *testing.T) {
	terminalStdin(t, true)
	code, out, errs := runCLI(t)
	if code != exitOK || !strings.Contains(out, "commands:") || !strings.Contains(out, "fill") || !strings.Contains(out, "dfim serve") {
		t.Errorf("dfim: exit %d, stdout %q, stderr %q; want the help on stdout, exit 0", code, out, errs)
	}
}

// TestServeInTerminalSaysWhatItWaitsFor: `dfim serve` with a person on
// stdin says on stderr, in one line, that it waits for an LSP client and
// that editors start it; with an editor's pipe it says nothing.
func TestServeInTerminalSaysWhatItWaitsFor(t *testing.T) {
	for _, term := range []bool{true, false} {
		terminalStdin(t, term)
		empty, err := os.Open(os.DevNull) // EOF at once: the server ends
		if err != nil {
			t.Fatal(err)
		}
		oldIn := os.Stdin
		os.Stdin = empty
		_, _, b := runCLI(t, "serve", "--engine", "filltest")
		os.Stdin = oldIn
		empty.Close()
		said := strings.Contains(b, "waiting for an LSP client")
		if said != term {
			t.Errorf("terminal %v: stderr %q; want the waiting line only in a terminal", term, b)
		}
		if term && (!strings.Contains(b, "editors start `dfim serve`") || strings.Count(b, "waiting") != 1) {
			t.Errorf("the waiting line %q does not say once how editors start dfim", b)
		}
	}
}

// TestUsageErrors: every mistake on the command line exits 2 with what
// was wrong, the valid values or the nearest name, and one usage line, not
// the whole help.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.go")
	os.WriteFile(src, []byte("package a\n\nfunc f(x int) int {\n\treturn \n}\n"), 0o644)
	pos := src + ":4:9"
	for _, tc := range []struct {
		args []string
		want []string // all in stderr
	}{
		{[]string{"fil", pos}, []string{`unknown command "fil"; did you mean "fill"?`}},
		{[]string{"servr"}, []string{`did you mean "serve"?`}},
		{[]string{"xyzzy"}, []string{`unknown command "xyzzy"`}},
		{[]string{"model"}, []string{`"model" needs a subcommand: info`}},
		{[]string{"model", "inf"}, []string{`did you mean "model info"?`}},
		{[]string{"--steps", "3", "fill"}, []string{"flags go after it"}},
		{[]string{"fill", "--bogus", pos}, []string{"flag provided but not defined: -bogus", "usage: dfim fill"}},
		{[]string{"fill", "--stesp", "3", pos}, []string{"did you mean --steps?"}},
		{[]string{"fill", "--steps", "x", pos}, []string{`invalid value "x" for flag -steps`}},
		{[]string{"fill", "--algorithm", "foo", pos}, []string{`unknown --algorithm "foo"; use one of: low-confidence, maskgit_plus`}},
		{[]string{"fill", "--steps", "-3", pos}, []string{"--steps -3: want a number from 1 to 1024, or 0"}},
		{[]string{"fill", "--threads", "-1", pos}, []string{"--threads -1: want a number of threads from 1, or 0"}},
		{[]string{"fill", "--log-level", "loud", pos}, []string{`unknown --log-level "loud"; use debug, info`}},
		{[]string{"fill", "--engine", "nosuch", pos}, []string{`unknown --engine "nosuch"; use one of:`, "native"}},
		{[]string{"fill", "--engine", "filltest", "--model", dir, pos}, []string{"--model " + dir + " is a folder, not a file"}},
		{[]string{"fill", "--engine", "filltest", dir + ":1:1"}, []string{"not a regular file"}},
		{[]string{"batch", "--engine", "filltest", "--lang", "cobol", dir}, []string{`unknown --lang "cobol"; use one of: go, python`}},
		{[]string{"batch", "--engine", "filltest", "--steps", "-3", dir}, []string{"--steps -3"}},
		{[]string{"eval", "gen", "--root", dir, "--lang", "cobol"}, []string{`unknown --lang "cobol"; use go or python`}},
		{[]string{"eval", "--engine", "filltest", "--tasks", dir}, []string{"--tasks " + dir + " is a folder, not a file"}},
		{[]string{"eval", "--engine", "filltest", "--threads", "-1", "--tasks", src}, []string{"--threads -1"}},
		{[]string{"serve", "--engine", "nosuch"}, []string{`unknown --engine "nosuch"`}},
		{[]string{"model", "info", dir}, []string{"a folder, not a regular file"}},
		{[]string{"bench", "lsp", "--file", dir}, []string{"--file " + dir + " is a folder"}},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage {
			t.Errorf("dfim %q: exit %d, want 2; stderr %q", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("dfim %q: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n") + 1; n > 2 || strings.Contains(stderr, "flags:") {
			t.Errorf("dfim %q: stderr has %d lines, want the error and one usage line:\n%s", tc.args, n, stderr)
		}
	}
	// --help still shows the whole help, on stdout.
	code, out, _ := runCLI(t, "fill", "--help")
	if code != exitOK || !strings.Contains(out, "flags:") || !strings.Contains(out, "-explain") {
		t.Errorf("dfim fill --help: exit %d, stdout %q; want the flags, exit 0", code, out)
	}
	if code, out, _ := runCLI(t, "help", "fill"); code != exitOK || !strings.Contains(out, "usage: dfim fill") {
		t.Errorf("dfim help fill: exit %d, stdout %q", code, out)
	}
}

func TestNearest(t *testing.T) {
	names := []string{"batch", "bench", "context", "eval", "fill", "model", "serve", "version"}
	for word, want := range map[string]string{"fil": "fill", "fiil": "fill", "FILL": "fill", "serv": "serve", "evl": "eval",
		"versoin": "version", "xyzzy": "", "b": "", "": ""} {
		if got := nearest(word, names); got != want {
			t.Errorf("nearest(%q) = %q, want %q", word, got, want)
		}
	}
}

// TestConfigFile: --config is read by fill, batch and eval as by serve
// (the LSP's initializationOptions), the flags given on the command line
// win over it, and a missing or invalid file is a usage error.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	src := write("a.go", "package a\n\nfunc f(x int) int {\n\treturn \n}\n")
	pos := src + ":4:9"
	useFill := write("fill.json", `{"engine": "filltest", "steps": 4, "showThreshold": 0}`) // a test engine: no learned filter over its fixed fill
	useEmpty := write("empty.json", `{"dfim": {"engine": "emptytest"}}`)
	badJSON := write("bad.json", `{"engine": `)
	badValue := write("value.json", `{"steps": -2}`)
	badEngine := write("engine.json", `{"engine": "nosuch"}`)
	missing := filepath.Join(dir, "missing.json")

	// The file's engine is used when no --engine is given ...
	if code, out, errs := runCLI(t, "fill", "--config", useFill, pos); code != exitOK || out != "x + 1\n" {
		t.Errorf("fill --config (engine filltest): exit %d, stdout %q, stderr %q; want x + 1", code, out, errs)
	}
	// ... and an explicit --engine wins over it.
	if code, out, errs := runCLI(t, "fill", "--config", useEmpty, "--engine", "filltest", pos); code != exitOK || out != "x + 1\n" {
		t.Errorf("fill --config (engine emptytest) --engine filltest: exit %d, stdout %q, stderr %q; want the flag's engine", code, out, errs)
	}
	if code, _, errs := runCLI(t, "fill", "--config", useEmpty, pos); code != exitFailed || !strings.Contains(errs, "no suggestion") {
		t.Errorf("fill --config (engine emptytest): exit %d, stderr %q; want the file's engine (no suggestion)", code, errs)
	}

	tasks := write("tasks.jsonl", `{"id":"t1","lang":"go","path":"a.go","prefix":"package a\n\nfunc f(x int) int {\n\treturn ","middle":"x + 1","suffix":"\n}\n","kind":"single-line"}`+"\n")
	code, out, errs := runCLI(t, "eval", "--config", useFill, "--tasks", tasks)
	var rep struct {
		N          int     `json:"n"`
		ExactMatch float64 `json:"exact_match"`
	}
	if err := json.Unmarshal([]byte(out), &rep); code != exitOK || err != nil || rep.N != 1 || rep.ExactMatch != 1 {
		t.Errorf("eval --config (engine filltest): exit %d, metrics %+v (%v), stderr %q; want the file's engine, exact match 1", code, rep, err, errs)
	}

	marked := write("b.go", "package a\n\nfunc f(x int) int {\n\treturn <<fill>>\n}\n")
	if code, out, errs := runCLI(t, "batch", "--config", useFill, "--dry-run", marked); code != exitOK || !strings.Contains(out, "x + 1") {
		t.Errorf("batch --config (engine filltest) --dry-run: exit %d, stdout %q, stderr %q; want a diff with x + 1", code, out, errs)
	}

	for _, cmd := range [][]string{{"fill", pos}, {"batch", "--dry-run", marked}, {"eval", "--tasks", tasks}, {"serve"}} {
		for file, want := range map[string]string{missing: "no such file", badJSON: "not a JSON object",
			badValue: `"steps" = -2 rejected`, badEngine: "unknown engine", dir: "not a regular file"} {
			args := append([]string{cmd[0], "--config", file}, cmd[1:]...)
			if code, _, errs := runCLI(t, args...); code != exitUsage || !strings.Contains(errs, want) {
				t.Errorf("dfim %q: exit %d, stderr %q; want 2 and %q", args, code, errs, want)
			}
		}
	}
}

// TestFillNoSuggestion: with no suggestion, --json exits as plain mode
// does (1, the reason on stderr), and --explain (or --log-level debug)
// lists what the engine returned and why it was dropped.
func TestFillNoSuggestion(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.go")
	os.WriteFile(src, []byte("package a\n\nfunc f(x int) int {\n\treturn \n}\n"), 0o644)
	pos := src + ":4:9"
	code, out, errs := runCLI(t, "fill", "--engine", "emptytest", pos)
	if code != exitFailed || out != "" || !strings.Contains(errs, "no suggestion") || !strings.Contains(errs, "--explain says why") {
		t.Errorf("plain: exit %d, stdout %q, stderr %q; want 1, nothing, no suggestion", code, out, errs)
	}
	code, out, errs = runCLI(t, "fill", "--engine", "emptytest", "--json", pos)
	var got fillJSON
	if code != exitFailed || !strings.Contains(errs, "no suggestion") || json.Unmarshal([]byte(out), &got) != nil || got.Text != "" {
		t.Errorf("--json: exit %d, stdout %q, stderr %q; want 1 and the JSON with no text", code, out, errs)
	}
	for _, flag := range []string{"--explain", "--log-level=debug"} {
		code, _, errs = runCLI(t, "fill", "--engine", "emptytest", flag, pos)
		for _, want := range []string{`call 1, candidate 1 (confidence 0.50): "  "`, "dropped: 1 empty or only whitespace", "kept: none"} {
			if code != exitFailed || !strings.Contains(errs, want) {
				t.Errorf("%s: exit %d, stderr %q lacks %q", flag, code, errs, want)
			}
		}
	}
	code, out, errs = runCLI(t, "fill", "--engine", "filltest", "--explain", pos)
	if code != exitOK || out != "x + 1\n" || !strings.Contains(errs, `kept 1 (confidence 0.80, syntax valid): "x + 1"`) || !strings.Contains(errs, "dropped: none") {
		t.Errorf("--explain with a suggestion: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestBenchTableSaysNA: a latency row with no samples reads n/a, not
// 0.0 ms (an instant answer).
func TestBenchTableSaysNA(t *testing.T) {
	var b bytes.Buffer
	writeBenchTable(&b, lspbench.Report{File: "x.go", Latency: eval.Latency{P50: 12.5, P95: 20, Max: 31}})
	table := b.String()
	if !strings.Contains(table, "keystroke to shown suggestion") || strings.Count(table, "n/a") != 3 || !strings.Contains(table, "12.5") {
		t.Errorf("no suggestion shown, 1 answer latency:\n%s\nwant n/a in the suggestion row only", table)
	}
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, "keystroke to shown suggestion") && strings.Contains(l, "0.0") {
			t.Errorf("row %q still says 0.0", l)
		}
	}
	b.Reset()
	writeBenchTable(&b, lspbench.Report{File: "x.go", SuggestionsShown: 2, Latency: eval.Latency{P50: 1, P95: 2, Max: 3},
		SuggestionLatency: eval.Latency{P50: 4, P95: 5, Max: 6}})
	if strings.Contains(b.String(), "n/a") {
		t.Errorf("with samples:\n%s\nwant numbers", b.String())
	}
}
