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
)

// fillTestEngine fills every hole with "x + 1".
type fillTestEngine struct{}

func (fillTestEngine) Infill(_ context.Context, req engine.Request) (engine.Result, error) {
	return engine.Result{Candidates: []engine.Fill{{Holes: []string{"x + 1"}, Tokens: []int{3}, Confidence: 0.8}}, Steps: 5, Tokens: 3}, nil
}
func (fillTestEngine) Close() error { return nil }

func init() {
	engine.Register("filltest", func(engine.Config) (engine.Denoiser, error) { return fillTestEngine{}, nil })
}

// captureStdout runs f with os.Stdout sent to a file and returns what it wrote.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = tmp
	defer func() { os.Stdout = old }()
	f()
	b, _ := os.ReadFile(tmp.Name())
	return string(b)
}

func TestFill(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.go")
	os.WriteFile(src, []byte("package a\n\nfunc f(x int) int {\n\t// héllo\n\treturn \n}\n"), 0o644)
	bin := filepath.Join(dir, "b.go")
	os.WriteFile(bin, []byte("package a\x00\x01"), 0o644)
	noext := filepath.Join(dir, "README")
	os.WriteFile(noext, []byte("text\n"), 0o644)

	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{src + ":5:9"}, exitOK, "x + 1\n", ""},
		{[]string{"--json", src + ":5:9"}, exitOK, `"text":"x + 1"`, ""},
		{[]string{src + ":5:10"}, exitUsage, "", "column 10 is past the end of line 5"},
		{[]string{src + ":9:1"}, exitUsage, "", "past the end of the file"},
		{[]string{src + ":0:1"}, exitUsage, "", "numbers from 1"},
		{[]string{src}, exitUsage, "", "not FILE:LINE:COL"},
		{[]string{bin + ":1:1"}, exitUsage, "", "binary file"},
		{[]string{noext + ":1:1"}, exitUsage, "", "unknown language"},
		{[]string{filepath.Join(dir, "gone.go") + ":1:1"}, exitFailed, "", "no such file"},
		{[]string{"--engine", "nosuch", src + ":5:9"}, exitUsage, "", `unknown --engine "nosuch"; use one of: copy, `},
	} {
		var stderr bytes.Buffer
		var code int
		out := captureStdout(t, func() {
			code = run(append([]string{"fill", "--engine", "filltest"}, tc.args...), &bytes.Buffer{}, &stderr)
		})
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(stderr.String(), tc.err) {
			t.Errorf("dfim fill %v: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, out, stderr.String(), tc.code, tc.out, tc.err)
		}
	}
}

func TestFillJSONShape(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.go")
	os.WriteFile(src, []byte("package a\n\nfunc f(x int) int {\n\treturn \n}\n"), 0o644)
	out := captureStdout(t, func() {
		run([]string{"fill", "--engine", "filltest", "--json", src + ":4:9"}, &bytes.Buffer{}, &bytes.Buffer{})
	})
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %q", out)
	}
	for _, k := range []string{"text", "candidates", "steps", "latency_ms", "tokens"} {
		if _, ok := got[k]; !ok {
			t.Errorf("--json output lacks %q: %s", k, out)
		}
	}
	if got["steps"].(float64) != 5 || got["tokens"].(float64) != 3 {
		t.Errorf("steps/tokens = %v/%v, want 5/3", got["steps"], got["tokens"])
	}
}

func TestByteOffsetRunes(t *testing.T) {
	text := "héllo wörld\nx"
	off, err := byteOffset(text, 1, 8) // the 'ö' is the 8th character
	if err != nil || !strings.HasPrefix(text[off:], "ö") {
		t.Errorf("byteOffset(1, 8) = %d, %v; want the offset of ö", off, err)
	}
	if off, err := byteOffset(text, 2, 2); err != nil || off != len(text) {
		t.Errorf("byteOffset(2, 2) = %d, %v; want %d (end of file)", off, err, len(text))
	}
}
