package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/native/gguf"
)

// TestModelInfoFailsOnIncompleteFile: a file with the keys of a llada model
// but no tensors prints what it can, names the missing tensor and exits 1.
func TestModelInfoFailsOnIncompleteFile(t *testing.T) {
	w := gguf.NewWriter()
	w.SetString("general.architecture", "llada")
	for k, v := range map[string]uint32{"context_length": 64, "embedding_length": 32, "block_count": 1,
		"feed_forward_length": 64, "attention.head_count": 2} {
		w.SetUint32("llada."+k, v)
	}
	w.SetString("tokenizer.ggml.model", "gpt2")
	if err := w.AddF32("output_norm.weight", []uint64{32}, make([]float32, 32)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "broken.gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	failed := modelInfo(&out, path, mustOpen(t, path))
	if failed == 0 {
		t.Fatalf("no check failed on a file without tensors:\n%s", out.String())
	}
	for _, want := range []string{"architecture  llada", "FAIL", "token_embd.weight"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"model", "info", path}, &stdout, &stderr); code != exitFailed {
		t.Errorf("exit code %d, want %d; stderr %s", code, exitFailed, stderr.String())
	}
	if code := run([]string{"model", "info", filepath.Join(t.TempDir(), "none.gguf")}, &stdout, &stderr); code != exitFailed {
		t.Errorf("missing file: exit code %d, want %d", code, exitFailed)
	}
}

func mustOpen(t *testing.T, path string) *gguf.File {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
