package main

import (
	"bytes"
	"encoding/json"
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
	for _, want := range []string{"architecture  llada", "family        llada (from the architecture)", "FAIL", "token_embd.weight"} {
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

// TestModelProbe: one forward pass of the built-in model over a canvas
// given as ids or as text with <|mask|> slots; each position lists its top
// logits, largest first, and bad input is a usage error (exit 2) or, for
// ids the model does not have, a failure (exit 1).
func TestModelProbe(t *testing.T) {
	code, out, errs := runCLI(t, "model", "probe", "--tokens", "10, 20,30", "--top", "3")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var got probeOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not the probe's JSON: %v\n%s", err, out)
	}
	if len(got.Tokens) != 3 || got.Tokens[0] != 10 || got.Tokens[2] != 30 || len(got.Positions) != 3 {
		t.Fatalf("tokens %v, %d positions; want [10 20 30] and 3", got.Tokens, len(got.Positions))
	}
	for p, pos := range got.Positions {
		if len(pos.Top) != 3 {
			t.Fatalf("position %d has %d entries, want 3", p, len(pos.Top))
		}
		for i := 1; i < len(pos.Top); i++ {
			if pos.Top[i].Logit > pos.Top[i-1].Logit {
				t.Errorf("position %d: entries not in descending order: %+v", p, pos.Top)
			}
		}
	}
	if !strings.Contains(out, `"positions":[{"top":[{"id":`) {
		t.Errorf("JSON keys differ from DESIGN.md's {tokens, positions: [{top: [{id, text, logit}]}]}:\n%s", out)
	}

	code, out, errs = runCLI(t, "model", "probe", "--text", "x := <|mask|><|mask|>\n", "--top", "1")
	if code != exitOK {
		t.Fatalf("--text: exit %d, stderr %s", code, errs)
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	masks := 0
	for _, id := range got.Tokens {
		if id == 4094 { // the built-in model's <|mask|>
			masks++
		}
	}
	if masks != 2 || len(got.Positions) != len(got.Tokens) {
		t.Errorf("--text with two <|mask|>: tokens %v (%d masks), %d positions", got.Tokens, masks, len(got.Positions))
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"model", "probe"}, exitUsage, "exactly one of --text and --tokens"},
		{[]string{"model", "probe", "--text", "a", "--tokens", "1"}, exitUsage, "exactly one"},
		{[]string{"model", "probe", "--tokens", "1,x"}, exitUsage, `"x" is not a token id`},
		{[]string{"model", "probe", "--tokens", "1", "--top", "0"}, exitUsage, "--top"},
		{[]string{"model", "probe", "--tokens", "1", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"model", "probe", "--tokens", "1,99999"}, exitFailed, "outside the vocabulary"},
		{[]string{"model", "probe", "--tokens", "1", "--model", t.TempDir()}, exitUsage, "is a folder"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
		if tc.code == exitUsage && strings.Count(errs, "usage:") != 1 {
			t.Errorf("%v: want one usage line, stderr %q", tc.args, errs)
		}
	}
}

// TestModelInfoExperts: a mixture-of-experts file (llama.cpp's llada-moe
// layout, from engine/native's parity data) says its experts.
func TestModelInfoExperts(t *testing.T) {
	code, out, stderr := runCLI(t, "model", "info", "../../engine/native/testdata/llamacpp/llada-moe-f32.gguf")
	if code != exitOK || !strings.Contains(out+stderr, "architecture  llada-moe") || !strings.Contains(out+stderr, "experts       4, 2 used per token, each 32 wide") {
		t.Errorf("dfim model info: exit %d\n%s%s", code, out, stderr)
	}
}
