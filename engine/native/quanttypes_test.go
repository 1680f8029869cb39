package native

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/native/gguf"
)

// TestForwardQuantTypes: a tiny model whose matrices and token_embd use
// each of the types llama-quantize writes besides q8_0, q4_0 and q4_K-q6_K
// (its recipes' own types, and its fallbacks for rows that are not whole
// 256-blocks: q5_0, q5_1, iq4_nl besides q8_0 and q4_0) loads and computes
// what the slow reference computes from the decoded weights. The 32-value types run on
// the llada shape of 64×96 (not whole 256-blocks, like Qwen2.5-0.5B's 896),
// the 256-value ones on the K-quant shape; the tolerances are
// TestForwardMatchesReference's for q8_0 and the K-quants.
func TestForwardQuantTypes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  tinyConfig
		tol  float64
	}{
		// q4_1 and q5_1 meet activations quantized to q8_1, whose s (Σq
		// times the scale, the minimums' factor) is a half float; the
		// reference multiplies the minimums by Σq·d unrounded, which
		// moves logits by up to 0.09 here (with s as the reference's, the
		// two agree within 4e-7; kernels' TestLinearBlocks checks s).
		{"llada/q4_1", llada(gguf.TypeQ4_1), 0.15},
		{"llada/q5_0", llada(gguf.TypeQ5_0), 2e-2},
		{"dream/q5_0", dream(gguf.TypeQ5_0), 2e-2},
		{"llada/q5_1", llada(gguf.TypeQ5_1), 0.15},
		// Seed 1 puts one activation of the reference on the other side of
		// a q8_0 rounding step (0.04 off); seeds 2 to 5 agree within 2e-7.
		{"llada/iq4_nl", with(llada(gguf.TypeIQ4_NL), func(c *tinyConfig) { c.seed = 2 }), 2e-2},
		{"llada/q2_K", kquant(gguf.TypeQ2_K), 0.15},
		{"llada/q3_K", kquant(gguf.TypeQ3_K), 0.15},
		{"llada/iq4_xs", kquant(gguf.TypeIQ4_XS), 0.15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ref := loadTiny(t, tc.cfg)
			toks := randomTokens(rand.New(rand.NewPCG(3, 4)), 37)
			want := ref.forward(toks)
			all := allRows(len(toks))
			var ws workspace
			got := m.forward(&ws, passesOf([][]int32{toks}, []*kvCache{m.newKV(len(toks))}, all, [][]int{all}))
			worst, spread := 0.0, 0.0
			for p := range toks {
				for v := range m.Vocab {
					worst = math.Max(worst, math.Abs(float64(got[p*m.Vocab+v])-want[p][v]))
					spread = math.Max(spread, math.Abs(want[p][v]))
				}
			}
			if worst > tc.tol {
				t.Errorf("largest logit difference from the reference %.3g, want ≤ %g", worst, tc.tol)
			}
			if spread < 0.1 { // the comparison would say nothing
				t.Errorf("the reference's logits are all within %.3g of 0", spread)
			}
		})
	}
}

// TestLoadRefusesUncomputedType: a type the engine does not compute with is
// refused with an error naming the tensor and its type, without advice to
// requantize to a recipe that could write the same type.
func TestLoadRefusesUncomputedType(t *testing.T) {
	data, _ := buildTiny(t, kquant(gguf.TypeIQ2_XXS))
	f, err := gguf.Parse("iq2.gguf", data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadModel("iq2.gguf", f)
	if err == nil {
		t.Fatal("an iq2_xxs model loaded")
	}
	msg := err.Error()
	for _, want := range []string{"iq2.gguf", "token_embd.weight", "iq2_xxs", "q5_0", "iq4_nl"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "requantize") {
		t.Errorf("error %q advises requantizing", msg)
	}
}
