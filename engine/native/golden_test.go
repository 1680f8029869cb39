package native

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/dfim/dfim/engine/native/builtin"
	"github.com/dfim/dfim/engine/native/gguf"
)

// golden is the parity file train/ exports next to the built-in model
// (data/golden.json): a canvas of token ids (masks included), the
// positions whose logits PyTorch computed, and those logits (one row of the
// full vocabulary per position, already shifted for a shifted-logits model:
// row i is the prediction for token positions[i]).
type golden struct {
	Tokens    []int32     `json:"tokens"`
	Positions []int       `json:"positions"`
	Logits    [][]float32 `json:"logits"`
}

// TestGoldenParity compares the built-in model's logits with PyTorch's.
// Tolerance: the model is stored in q8_0 (or f16) and its matmuls quantize
// their activations to int8 per block, as llama.cpp's do, while PyTorch ran
// in float32, so logits may differ by about a tenth; the top token must
// agree almost everywhere.
func TestGoldenParity(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("builtin", "data", "golden.json"))
	if err != nil {
		t.Fatalf("train/export.py writes golden.json beside the built-in model: %v", err)
	}
	data, ok := builtin.Model()
	if !ok {
		t.Fatal("a golden file without the built-in model")
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("golden.json: %v", err)
	}
	f, err := gguf.Parse(builtin.Name, data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(builtin.Name, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Positions) != len(g.Logits) || len(g.Tokens) == 0 || len(g.Tokens) > m.Context {
		t.Fatalf("golden.json: %d tokens, %d positions, %d logit rows", len(g.Tokens), len(g.Positions), len(g.Logits))
	}
	for _, p := range g.Positions {
		if p < 0 || p >= len(g.Tokens) {
			t.Fatalf("golden.json: position %d outside the %d tokens", p, len(g.Tokens))
		}
	}
	if len(m.Warnings) > 0 || m.Shift {
		t.Errorf("the built-in model loads with Shift %v and warnings %q; want unshifted and none", m.Shift, m.Warnings)
	}
	all := allRows(len(g.Tokens))
	var ws workspace
	got := m.forward(&ws, passesOf([][]int32{g.Tokens}, []*kvCache{m.newKV(len(g.Tokens))}, all, [][]int{g.Positions}))
	worst, agree := 0.0, 0
	for i, row := range g.Logits {
		if len(row) != m.Vocab {
			t.Fatalf("golden.json: logits row %d has %d values, want %d", i, len(row), m.Vocab)
		}
		mine := got[i*m.Vocab : (i+1)*m.Vocab]
		for v := range row {
			worst = math.Max(worst, math.Abs(float64(mine[v]-row[v])))
		}
		if argmax32(mine) == argmax32(row) {
			agree++
		}
	}
	t.Logf("largest logit difference %.4g; top-1 agrees on %d of %d positions", worst, agree, len(g.Logits))
	if worst > 0.15 || float64(agree) < 0.95*float64(len(g.Logits)) {
		t.Errorf("logits differ from PyTorch by up to %.4g (want ≤ 0.15), top-1 agrees on %d of %d (want ≥ 95%%)", worst, agree, len(g.Logits))
	}
}

func argmax32(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
