package remote

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/internal/dfimtest"
)

// buildDfim is the dfim binary under test.
func buildDfim(t *testing.T) string { return dfimtest.Binary(t) }

// `dfim fill --engine inception --endpoint URL FILE:LINE:COL` sends the text
// around the position to the FIM API and prints the fill.
func TestFillCommandAgainstInception(t *testing.T) {
	bin := buildDfim(t)
	const key = "sk-e2e-0123456789"
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"message":"invalid api key"}}`))
			return
		}
		writeJSON(w, completion("answer * 2"))
	})
	dir := t.TempDir()
	file := filepath.Join(dir, "main.go")
	src := "package main\n\nfunc main() {\n\tanswer := 21\n\tx := \n\t_ = x\n}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(env ...string) (stdout, stderr string, code int) {
		cmd := exec.Command(bin, "fill", "--engine", "inception", "--endpoint", s.URL, "--timeout", "5s", file+":5:7")
		cmd.Env = append(os.Environ(), env...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			code = ee.ExitCode()
		case err != nil:
			t.Fatal(err)
		}
		return o.String(), e.String(), code
	}

	out, errOut, code := run(inceptionKeyEnv + "=" + key)
	if code != 0 {
		t.Fatalf("dfim fill exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(out, "answer * 2") {
		t.Errorf("stdout %q does not hold the server's fill", out)
	}
	b := s.lastBody()
	if p, _ := b["prompt"].(string); !strings.HasSuffix(p, "\tx := ") {
		t.Errorf("prompt %q should end at the position (line 5, column 7)", p)
	}
	if sfx, _ := b["suffix"].(string); !strings.HasPrefix(sfx, "\n\t_ = x") {
		t.Errorf("suffix %q should start after the position", sfx)
	}

	out, errOut, code = run(inceptionKeyEnv + "=")
	if code != 1 {
		t.Errorf("without a key: exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	t.Logf("without a key, dfim fill says: %s", strings.TrimSpace(errOut))
	if !strings.Contains(errOut, inceptionKeyEnv) {
		t.Errorf("without a key: stderr %q should name %s", errOut, inceptionKeyEnv)
	}
}

// `dfim fill --engine openai --endpoint ROOT` against llama-server's root
// URL (replayed) fills in the middle: the engine finds llama.cpp in
// /props and sends the suffix through /infill (issue 19, item 1).
func TestFillCommandAgainstLlamaCppRoot(t *testing.T) {
	bin := buildDfim(t)
	rp := newReplay(t, map[string][]string{
		"GET /props":   {"llamacpp/props"},
		"POST /infill": {"llamacpp/infill-stream-probs"},
	})
	file := filepath.Join(t.TempDir(), "add.py")
	if err := os.WriteFile(file, []byte("def add(a, b):\n    return \n\nprint(add(1, 2))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "fill", "--engine", "openai", "--endpoint", rp.URL, "--timeout", "5s", file+":2:12")
	cmd.Env = append(os.Environ(), openaiKeyEnv+"=", templateEnv+"=")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("dfim fill: %v\nstdout: %s\nstderr: %s\nrequests: %v", err, o.String(), e.String(), rp.requests())
	}
	if !strings.Contains(o.String(), "a + b") {
		t.Errorf("stdout %q does not hold the server's fill", o.String())
	}
	if rp.count("POST /v1/completions") != 0 || rp.count("POST /infill") == 0 {
		t.Fatalf("requests %v, want /infill and no /v1/completions", rp.requests())
	}
	b := rp.last("POST /infill")
	if p, _ := b["input_prefix"].(string); !strings.HasSuffix(p, "    return ") {
		t.Errorf("input_prefix %q should end at the position", p)
	}
	if s, _ := b["input_suffix"].(string); !strings.HasPrefix(s, "\n\nprint(add(1, 2))") {
		t.Errorf("input_suffix %q should be the text after the position", s)
	}
}
