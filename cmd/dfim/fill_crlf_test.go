package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dfim fill fills a file with Windows or old-Mac line endings as the same
// file with "\n" ones, in the file's endings (issue 27, item 3).
func TestFillLineEndingsAlike(t *testing.T) {
	const lf = "package calc\n\n// Sub returns a minus b.\nfunc Sub(a, b int) int {\n\treturn a - b\n}\n\n// Add returns a plus b.\nfunc Add(a, b int) int {\n\t\n}\n\nfunc B() {\n}\n"
	dir := t.TempDir()
	var want string
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		src := filepath.Join(dir, "calc.go")
		os.WriteFile(src, []byte(strings.ReplaceAll(lf, "\n", eol)), 0o644)
		var stderr bytes.Buffer
		var code int
		out := captureStdout(t, func() {
			code = run([]string{"fill", "--json", "--no-context", src + ":10:2"}, &bytes.Buffer{}, &stderr)
		})
		var got fillJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%q: exit %d, stdout %q, stderr %q", eol, code, out, stderr.String())
		}
		if eol == "\n" {
			if got.Text == "" {
				t.Skipf("the built-in model filled nothing here: %s", stderr.String())
			}
			want = got.Text
		}
		if w := strings.ReplaceAll(want, "\n", eol); got.Text != w {
			t.Errorf("%q: filled %q (exit %d, %s), want the LF fill %q in the file's endings", eol, got.Text, code, stderr.String(), w)
		}
		if strings.Contains(got.Text, "func B") {
			t.Errorf("%q: the fill ran past the hole: %q", eol, got.Text)
		}
	}
}

// --max-tokens above what the model's context holds is capped, and said.
func TestFillMaxTokensCapped(t *testing.T) {
	src := filepath.Join(t.TempDir(), "a.go")
	os.WriteFile(src, []byte("package a\n\nfunc f(x int) int {\n\treturn \n}\n"), 0o644)
	var stderr bytes.Buffer
	var code int
	out := captureStdout(t, func() {
		code = run([]string{"fill", "--no-context", "--max-tokens", "4000", src + ":4:9"}, &bytes.Buffer{}, &stderr)
	})
	if code == exitFailed || strings.Contains(stderr.String(), "canvas needs") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want no canvas error", code, out, stderr.String())
	}
	if !strings.Contains(stderr.String(), "--max-tokens 4000 capped to") {
		t.Errorf("stderr %q does not say --max-tokens was capped", stderr.String())
	}
}
