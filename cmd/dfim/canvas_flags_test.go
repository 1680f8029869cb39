package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContextCanvasFlags: --canvas-tokens sizes the canvas `dfim context`
// prints (fill and batch share the flag), --whole-file lifts the latency
// budget, and the two together are refused.
func TestContextCanvasFlags(t *testing.T) {
	var b strings.Builder
	b.WriteString("package a\n\nfunc f() {\n")
	for i := range 300 {
		fmt.Fprintf(&b, "\tv%d := %d\n", i, i)
	}
	b.WriteString("}\n")
	path := filepath.Join(t.TempDir(), "a.go")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	canvas := func(flags ...string) (string, int) {
		var stderr bytes.Buffer
		var code int
		args := append(append([]string{"context", "--no-context"}, flags...), path+":150:1")
		out := captureStdout(t, func() { code = run(args, os.Stdout, &stderr) })
		return out, code
	}
	small, code := canvas("--canvas-tokens", "64")
	if code != exitOK || !strings.Contains(small, "<|hole|>") {
		t.Fatalf("--canvas-tokens 64: exit %d, output %q", code, small)
	}
	def, _ := canvas()
	whole, code := canvas("--whole-file")
	if code != exitOK || len(small) >= len(def) || len(whole) < len(def) {
		t.Errorf("canvas bytes: %d with --canvas-tokens 64, %d by default, %d with --whole-file (exit %d); want growing", len(small), len(def), len(whole), code)
	}
	if _, code := canvas("--whole-file", "--canvas-tokens", "64"); code == exitOK {
		t.Error("--whole-file with --canvas-tokens accepted")
	}
}
