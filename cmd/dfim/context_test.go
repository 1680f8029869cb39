package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestContextCommand(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":      "module example.com/app\n",
		"store/db.go": "package store\n\n// Open opens the database at path.\nfunc Open(path string) (*DB, error) { return &DB{}, nil }\n\ntype DB struct{}\n",
		"cmd/main.go": "package main\n\nfunc main() {\n\tdb, err := store.Open(\"x\")\n\t_ = \n}\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(text), 0o644)
	}
	main := filepath.Join(dir, "cmd", "main.go")

	var stderr bytes.Buffer
	var code int
	out := captureStdout(t, func() { code = run([]string{"context", main + ":5:6"}, os.Stdout, &stderr) })
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	want := "// store/db.go\n// Open opens the database at path.\nfunc Open(path string) (*DB, error) { return &DB{}, nil }\n"
	if !strings.HasPrefix(out, want) {
		t.Errorf("output does not start with Open's definition under its path (the root should be the go.mod folder):\n%s", out)
	}
	if !strings.HasSuffix(out, "\t_ = <|hole|>\n}\n") || !strings.Contains(out, "package main\n\nfunc main() {\n") {
		t.Errorf("output lacks prefix, marker and suffix:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"context"}, exitUsage, "want one FILE:LINE:COL"},
		{[]string{"context", main + ":9:1"}, exitUsage, "past the end of the file"},
		{[]string{"context", "--root", filepath.Join(dir, "nope"), main + ":5:6"}, exitFailed, "indexing"},
		{[]string{"context", filepath.Join(dir, "missing.go") + ":1:1"}, exitFailed, "reading"},
	} {
		stderr.Reset()
		captureStdout(t, func() { code = run(tc.args, os.Stdout, &stderr) })
		if code != tc.code || !strings.Contains(stderr.String(), tc.err) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.err)
		}
	}
}
