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
		// f16 weights meet activations rounded to f16, as in llama.cpp, and
		// the reference's float64 activations now and then round to the
		// other neighbour (a step of 2⁻¹¹): hence more than f32's 1e-4.
		{"llada/f16", llada(gguf.TypeF16), 5e-3},
		// q8_0 (and q4_0 below) meet activations quantized to q8_0 blocks,
		// the K-quants activations quantized to q8_K (one scale per 256
		// values), as in llama.cpp; the reference quantizes its activations
		// the same way. But they are float64, so now and then one rounds to
		// the other side of a quantization step, and attention spreads that
		// over every position: the tolerances allow a few such steps. The
		// kernels' own tests check the products tightly.
		{"llada/q8_0", llada(gguf.TypeQ8_0), 2e-2},
		{"dream/f32", dream(gguf.TypeF32), 1e-4},
		{"dream/f16", dream(gguf.TypeF16), 5e-3},
		{"dream/q8_0", dream(gguf.TypeQ8_0), 2e-2},
		{"llada/q4_0", llada(gguf.TypeQ4_0), 2e-2},
		{"llada/q4_K", kquant(gguf.TypeQ4_K), 0.15},
		{"llada/q5_K", kquant(gguf.TypeQ5_K), 0.15},
		{"llada/q6_K", kquant(gguf.TypeQ6_K), 0.15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ref := loadTiny(t, tc.cfg)
			toks := randomTokens(rand.New(rand.NewPCG(3, 4)), 37)
			want := ref.forward(toks)
			all := allRows(len(toks))
			var ws workspace
			got := m.forward(&ws, passesOf([][]int32{toks}, []*kvCache{m.newKV(len(toks))}, all, [][]int{all}))
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
			m.forward(&ws, passesOf([][]int32{a, b}, []*kvCache{kvA, kvB}, all, [][]int{{0}, {0}}))
			rows := []int{9, 10, 11, 12, 20}
			wantPos := [][]int{{10, 12}, {11, 20, 10}}
			if m.Shift {
				wantPos = [][]int{{10, 12}, {11, 10}} // 20 would read row 19, which is not in rows
			}
			got := m.forward(&ws, passesOf([][]int32{a, b}, []*kvCache{kvA, kvB}, rows, wantPos))
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
		{"unknown arch", func(c *tinyConfig) { c.arch = "gpt2" }, `architecture "gpt2" is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := llada(gguf.TypeF32)
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

// TestGraphFollowsLlamaCpp: a file means the model llama.cpp's graph
// (src/models/llada.cpp, dream.cpp) makes of it, and each tensor llama.cpp
// ignores or would refuse the file for gets a warning naming it.
func TestGraphFollowsLlamaCpp(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   tinyConfig
		shift bool
		warn  []string // substrings, one warning each, in order
	}{
		{"llada attn_output.bias is ignored", with(llada(gguf.TypeF32), func(c *tinyConfig) { c.extra = []string{"attn_output.bias"} }), false,
			[]string{"tensor blk.0.attn_output.bias (and 1 more layers) is ignored"}},
		{"llada ffn biases are ignored", with(llada(gguf.TypeF32), func(c *tinyConfig) { c.extra = []string{"ffn_up.bias", "ffn_down.bias"} }), false,
			[]string{"blk.0.ffn_up.bias (and 1 more layers) is ignored", "blk.0.ffn_down.bias (and 1 more layers) is ignored"}},
		{"llada q/k/v biases are added", with(llada(gguf.TypeF32), func(c *tinyConfig) { c.extra = []string{"attn_q.bias", "attn_k.bias", "attn_v.bias"} }), false, nil},
		{"llada without shift_logits shifts", with(llada(gguf.TypeF32), func(c *tinyConfig) { c.noShiftKey = true }), true,
			[]string{"diffusion.shift_logits is absent"}},
		{"llada QK-norm: llama.cpp refuses", with(llada(gguf.TypeF32), func(c *tinyConfig) { c.qkNorm = true }), false,
			[]string{"blk.0.attn_q_norm.weight (and 1 more layers) is used by dfim, but llama.cpp refuses", "attn_k_norm.weight (and 1 more layers) is used by dfim"}},
		{"dream without q/k/v biases", with(dream(gguf.TypeF32), func(c *tinyConfig) { c.noBias = true; c.qkNorm = false }), true, nil},
		{"dream attn_output.bias: used, llama.cpp refuses", with(dream(gguf.TypeF32), func(c *tinyConfig) { c.qkNorm = false; c.extra = []string{"attn_output.bias"} }), true,
			[]string{"blk.0.attn_output.bias (and 1 more layers) is used by dfim, but llama.cpp refuses"}},
		{"an unknown tensor", with(llada(gguf.TypeF32), func(c *tinyConfig) { c.extra = []string{"attn_sinks.weight"} }), false,
			[]string{"blk.0.attn_sinks.weight (and 1 more layers) is not part of a llada model: dfim ignores it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ref := loadTiny(t, tc.cfg)
			if m.Shift != tc.shift {
				t.Errorf("Shift = %v, want %v", m.Shift, tc.shift)
			}
			if len(m.Warnings) != len(tc.warn) {
				t.Fatalf("warnings %q, want %d", m.Warnings, len(tc.warn))
			}
			for i, w := range tc.warn {
				if !strings.Contains(m.Warnings[i], w) {
					t.Errorf("warning %d %q lacks %q", i, m.Warnings[i], w)
				}
			}
			toks := randomTokens(rand.New(rand.NewPCG(3, 4)), 29)
			want := ref.forward(toks)
			all := allRows(len(toks))
			var ws workspace
			got := m.forward(&ws, passesOf([][]int32{toks}, []*kvCache{m.newKV(len(toks))}, all, [][]int{all}))
			worst := 0.0
			for p := range toks {
				for v := range m.Vocab {
					worst = math.Max(worst, math.Abs(float64(got[p*m.Vocab+v])-want[p][v]))
				}
			}
			if worst > 1e-4 {
				t.Errorf("largest logit difference from llama.cpp's graph (the reference) %.3g, want ≤ 1e-4", worst)
			}
		})
	}
}

func with(c tinyConfig, f func(*tinyConfig)) tinyConfig {
	f(&c)
	return c
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 17)) }

// TestQuantizedWeightsStayMapped: block-quantized matrices are read in
// place from the file, so a q4_K model's heap holds only its vectors, and
// the bytes read in place are every matrix's (token_embd's included).
func TestQuantizedWeightsStayMapped(t *testing.T) {
	data, _ := buildTiny(t, kquant(gguf.TypeQ4_K))
	f, err := gguf.Parse("tiny.gguf", data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel("tiny.gguf", f)
	if err != nil {
		t.Fatal(err)
	}
	var matrices, vectors int64
	for _, ti := range f.Tensors {
		if len(ti.Dims) == 2 {
			matrices += int64(len(ti.Data))
		} else {
			vectors += int64(len(ti.Data))
		}
	}
	if m.MappedBytes != matrices || m.HeapBytes != vectors {
		t.Errorf("read in place %d bytes, heap %d; want the matrices' %d and the vectors' %d", m.MappedBytes, m.HeapBytes, matrices, vectors)
	}
	if want := int64(2 * 4 * 2 * 128 * 512); m.KVBytes != want { // k and v, float32, 2 layers, 2 heads of 64, 512 positions
		t.Errorf("KVBytes %d, want %d", m.KVBytes, want)
	}
}
