package native

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/native/gguf"
)

func loadTiny(t testing.TB, cfg tinyConfig) (*Model, *refModel) {
	t.Helper()
	data, ref := buildTiny(t, cfg)
	f, err := gguf.Parse("tiny.gguf", data)
	if err != nil {
		t.Fatalf("parsing the tiny model: %v", err)
	}
	m, err := LoadModel("tiny.gguf", f)
	if err != nil {
		t.Fatalf("loading the tiny model: %v", err)
	}
	return m, ref
}

func randomTokens(r *rand.Rand, n int) []int32 {
	toks := make([]int32, n)
	for i := range toks {
		if r.IntN(4) == 0 {
			toks[i] = tokMask
		} else {
			toks[i] = int32(firstByte + r.IntN(256))
		}
	}
	return toks
}

// TestForwardMatchesReference compares the forward pass with the float64
// reference on every position, for each weight type and architecture.
func TestForwardMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  tinyConfig
		tol  float64
	}{
		{"llada/f32", llada(gguf.TypeF32), 1e-4},
		{"llada/f16", llada(gguf.TypeF16), 1e-4},
		{"llada/q8_0", llada(gguf.TypeQ8_0), 2e-2}, // kernels may quantize activations too
		{"dream/f32", dream(gguf.TypeF32), 1e-4},
		{"dream/f16", dream(gguf.TypeF16), 1e-4},
		{"dream/q8_0", dream(gguf.TypeQ8_0), 2e-2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ref := loadTiny(t, tc.cfg)
			toks := randomTokens(rand.New(rand.NewPCG(3, 4)), 37)
			want := ref.forward(toks)
			all := allRows(len(toks))
			var ws workspace
			got := m.forward(&ws, [][]int32{toks}, []*kvCache{m.newKV(len(toks))}, all, [][]int{all})
			worst := 0.0
			for p := range toks {
				for v := range m.Vocab {
					worst = math.Max(worst, math.Abs(float64(got[p*m.Vocab+v])-want[p][v]))
				}
			}
			if worst > tc.tol {
				t.Errorf("largest logit difference from the reference %.3g, want ≤ %g", worst, tc.tol)
			}
		})
	}
}

// TestForwardRowsWithCache checks the cached path's mechanics: a pass over a
// few rows against keys and values a full pass left in the cache gives the
// full pass's logits when no token changed, and several sequences in one
// batch give each its own logits.
func TestForwardRowsWithCache(t *testing.T) {
	for _, cfg := range []tinyConfig{llada(gguf.TypeF32), dream(gguf.TypeF32)} {
		t.Run(cfg.arch, func(t *testing.T) {
			m, ref := loadTiny(t, cfg)
			r := rand.New(rand.NewPCG(5, 6))
			a, b := randomTokens(r, 29), randomTokens(r, 29)
			wantA, wantB := ref.forward(a), ref.forward(b)
			var ws workspace
			all := allRows(29)
			kvA, kvB := m.newKV(29), m.newKV(29)
			m.forward(&ws, [][]int32{a, b}, []*kvCache{kvA, kvB}, all, [][]int{{0}, {0}})
			rows := []int{9, 10, 11, 12, 20}
			wantPos := [][]int{{10, 12}, {11, 20, 10}}
			if m.Shift {
				wantPos = [][]int{{10, 12}, {11, 10}} // 20 would read row 19, which is not in rows
			}
			got := m.forward(&ws, [][]int32{a, b}, []*kvCache{kvA, kvB}, rows, wantPos)
			row := 0
			for s, ref := range [][][]float64{wantA, wantB} {
				for _, p := range wantPos[s] {
					worst := 0.0
					for v := range m.Vocab {
						worst = math.Max(worst, math.Abs(float64(got[row*m.Vocab+v])-ref[p][v]))
					}
					if worst > 1e-4 {
						t.Errorf("sequence %d position %d: logits differ from the reference by %.3g", s, p, worst)
					}
					row++
				}
			}
		})
	}
}

func TestLoadModelErrors(t *testing.T) {
	data, _ := buildTiny(t, llada(gguf.TypeF32))
	f, err := gguf.Parse("tiny.gguf", data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel("tiny.gguf", f)
	if err != nil {
		t.Fatal(err)
	}
	if m.Arch != "llada" || m.Layers != 2 || m.HeadDim != 16 || m.KVHeads != 2 || m.Vocab != tinyVocab || m.Shift || m.Neox {
		t.Errorf("hyper-parameters %+v", m.Hparams)
	}
	if m.Params == 0 {
		t.Error("parameter count is 0")
	}
	for _, tc := range []struct {
		name string
		cfg  func(*tinyConfig)
		want string
	}{
		{"missing tensor", func(c *tinyConfig) { c.omit = "blk.1.ffn_up.weight" }, "blk.1.ffn_up.weight is missing"},
		{"wrong shape", func(c *tinyConfig) { c.misshape = "blk.0.attn_k.weight" }, "blk.0.attn_k.weight: shape"},
		{"dream without bias", func(c *tinyConfig) { c.omit = "blk.0.attn_v.bias" }, "lacks attn_q/k/v.bias"},
		{"unknown arch", func(c *tinyConfig) { c.arch = "gpt2" }, `architecture "gpt2" is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := llada(gguf.TypeF32)
			if tc.name == "dream without bias" {
				cfg = dream(gguf.TypeF32)
			}
			tc.cfg(&cfg)
			data, _ := buildTiny(t, cfg)
			f, err := gguf.Parse("broken.gguf", data)
			if err != nil {
				t.Fatal(err)
			}
			_, err = LoadModel("broken.gguf", f)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "broken.gguf") {
				t.Errorf("error %v, want one naming broken.gguf and saying %q", err, tc.want)
			}
		})
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 17)) }
