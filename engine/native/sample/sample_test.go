package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/dfim/dfim/engine"
)

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

func randomLogits(r *rand.Rand, n int) []float32 {
	l := make([]float32, n)
	for i := range l {
		l[i] = float32(r.NormFloat64() * 3)
	}
	return l
}

func TestChooseGreedyIsArgmaxWithModelProb(t *testing.T) {
	logits := []float32{0, 2, 1, -1}
	p := Choose(logits, Params{}, rng(1), nil)
	if p.Token != 1 {
		t.Fatalf("greedy token = %d, want 1", p.Token)
	}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l))
	}
	want := math.Exp(2) / z
	if math.Abs(float64(p.Prob)-want) > 1e-6 || math.Abs(p.LogProb-math.Log(want)) > 1e-6 {
		t.Errorf("prob %v logprob %v, want %v", p.Prob, p.LogProb, want)
	}
	if p.Conf != p.Prob {
		t.Errorf("low-confidence conf %v != prob %v", p.Conf, p.Prob)
	}
}

func TestChooseBanned(t *testing.T) {
	logits := []float32{5, 1, 0}
	p := Choose(logits, Params{Banned: []int32{0}}, rng(1), nil)
	if p.Token != 1 {
		t.Fatalf("token %d picked, want 1 (0 is banned)", p.Token)
	}
	// The model's distribution renormalises over what is allowed.
	want := math.Exp(1) / (math.Exp(1) + 1)
	if math.Abs(float64(p.Prob)-want) > 1e-6 {
		t.Errorf("prob %v, want %v", p.Prob, want)
	}
	for seed := range uint64(50) {
		p := Choose(logits, Params{Temperature: 2, Banned: []int32{0, 1}}, rng(seed), nil)
		if p.Token != 2 {
			t.Fatalf("seed %d: sampled banned token %d", seed, p.Token)
		}
	}
	// All banned: still picks something rather than failing.
	if p := Choose(logits, Params{Banned: []int32{0, 1, 2}}, rng(1), nil); p.Token != 0 {
		t.Errorf("all banned: token %d, want 0", p.Token)
	}
}

func TestChooseDeterministicForSeed(t *testing.T) {
	r := rng(7)
	logits := randomLogits(r, 300)
	params := Params{Temperature: 1, TopP: 0.9}
	var a, b []int32
	ra, rb := rng(42), rng(42)
	for range 100 {
		a = append(a, Choose(logits, params, ra, nil).Token)
		b = append(b, Choose(logits, params, rb, nil).Token)
	}
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different samples")
	}
	rc := rng(43)
	var c []int32
	for range 100 {
		c = append(c, Choose(logits, params, rc, nil).Token)
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave the same 100 samples")
	}
}

func TestTopPKeepsNucleus(t *testing.T) {
	// Probabilities ≈ .63 .23 .09 .03 …: top-p .8 keeps tokens 0 and 1 only.
	logits := []float32{4, 3, 2, 1, 0}
	seen := map[int32]bool{}
	r := rng(3)
	for range 2000 {
		seen[Choose(logits, Params{Temperature: 1, TopP: 0.8}, r, nil).Token] = true
	}
	if !seen[0] || !seen[1] || len(seen) != 2 {
		t.Errorf("top-p 0.8 sampled %v, want exactly {0,1}", seen)
	}
}

func TestConfidenceOrders(t *testing.T) {
	logits := []float32{2, 1, 0}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l))
	}
	p0, p1, p2 := math.Exp(2)/z, math.Exp(1)/z, 1/z
	margin := Choose(logits, Params{Algorithm: engine.TopKMargin}, rng(1), nil)
	if math.Abs(float64(margin.Conf)-(p0-p1)) > 1e-6 {
		t.Errorf("topk_margin conf %v, want %v", margin.Conf, p0-p1)
	}
	ent := Choose(logits, Params{Algorithm: engine.Entropy}, rng(1), nil)
	h := -(p0*math.Log(p0) + p1*math.Log(p1) + p2*math.Log(p2))
	if math.Abs(float64(ent.Conf)+h) > 1e-6 {
		t.Errorf("entropy conf %v, want %v", ent.Conf, -h)
	}
	// Origin: a random order, so confidences differ between draws.
	r := rng(1)
	a := Choose(logits, Params{Algorithm: engine.Origin}, r, nil).Conf
	b := Choose(logits, Params{Algorithm: engine.Origin}, r, nil).Conf
	if a == b || a < 0 || a >= 1 {
		t.Errorf("origin confs %v %v: want distinct uniform draws", a, b)
	}
}

func TestCommitCountSpendsTheBudget(t *testing.T) {
	for masked := 1; masked <= 20; masked++ {
		for steps := 1; steps <= 10; steps++ {
			left, used := masked, 0
			for s := steps; s >= 1 && left > 0; s-- {
				k := CommitCount(left, s)
				if k < 1 {
					t.Fatalf("masked %d steps %d: committed %d in a step", masked, steps, k)
				}
				left -= k
				used++
			}
			if left != 0 {
				t.Fatalf("masked %d steps %d: %d left after the budget", masked, steps, left)
			}
			if want := min(masked, steps); used != want {
				t.Fatalf("masked %d steps %d: used %d steps, want %d", masked, steps, used, want)
			}
		}
	}
}

func TestSelectTopK(t *testing.T) {
	slots := []Slot{{Conf: .2}, {Conf: .9}, {Conf: .5}, {Conf: .9}}
	if got := Select(slots, 2, 0); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("top-2 = %v, want [1 3]", got)
	}
	if got := Select(slots, 1, 0); !slices.Equal(got, []int{1}) {
		t.Errorf("top-1 = %v, want [1] (ties go left)", got)
	}
}

func TestSelectThreshold(t *testing.T) {
	slots := []Slot{{Conf: .95}, {Conf: .3}, {Conf: .91}, {Conf: .89}}
	if got := Select(slots, 1, 0.9); !slices.Equal(got, []int{0, 2}) {
		t.Errorf("threshold .9 = %v, want [0 2]", got)
	}
	// Nothing reaches it: still commits the best one.
	low := []Slot{{Conf: .2}, {Conf: .4}}
	if got := Select(low, 1, 0.9); !slices.Equal(got, []int{1}) {
		t.Errorf("below threshold = %v, want [1]", got)
	}
	// The budget can demand more than the threshold gives.
	if got := Select(slots, 3, 0.9); !slices.Equal(got, []int{0, 2, 3}) {
		t.Errorf("threshold with k=3 = %v, want [0 2 3]", got)
	}
}

func TestPadAfterEnd(t *testing.T) {
	const pad, eos = 100, 101
	isEnd := func(t int32) bool { return t == pad || t == eos }
	tokens := []int32{5, 0, eos, 7, 0, 8}
	committed := []bool{true, false, true, true, false, false}
	changed, length := PadAfterEnd(tokens, committed, isEnd, pad)
	if length != 2 || changed != 3 {
		t.Fatalf("length %d changed %d, want 2 and 3", length, changed)
	}
	if !slices.Equal(tokens, []int32{5, 0, eos, pad, pad, pad}) {
		t.Errorf("tokens %v", tokens)
	}
	if !slices.Equal(committed, []bool{true, false, true, true, true, true}) {
		t.Errorf("committed %v", committed)
	}
	// No end committed: nothing changes.
	tokens = []int32{1, 2, pad}
	committed = []bool{true, true, false}
	if changed, length := PadAfterEnd(tokens, committed, isEnd, pad); changed != 0 || length != 3 {
		t.Errorf("no end: changed %d length %d", changed, length)
	}
}

func BenchmarkChoose(b *testing.B) {
	for _, vocab := range []int{8192, 32768, 151936} {
		logits := randomLogits(rng(1), vocab)
		scratch := make([]float32, vocab)
		for _, tc := range []struct {
			name string
			p    Params
		}{{"greedy", Params{}}, {"temp", Params{Temperature: 0.7}}, {"topp", Params{Temperature: 0.7, TopP: 0.9}}} {
			b.Run(tc.name+"/vocab="+strconv.Itoa(vocab), func(b *testing.B) {
				r := rng(1)
				b.ReportAllocs()
				for b.Loop() {
					Choose(logits, tc.p, r, scratch)
				}
			})
		}
	}
}

func TestChooseBias(t *testing.T) {
	logits := []float32{3, 1, 0}
	if p := Choose(logits, Params{}, rng(1), nil); p.Token != 0 {
		t.Fatalf("unbiased pick = %d, want 0", p.Token)
	}
	p := Choose(logits, Params{Bias: []Bias{{Token: 0, Logit: -4}}}, rng(1), nil)
	if p.Token != 1 {
		t.Errorf("biased pick = %d, want 1", p.Token)
	}
	// Prob is under the biased distribution: softmax(-1, 1, 0)[1].
	want := math.Exp(1) / (math.Exp(-1) + math.Exp(1) + 1)
	if math.Abs(float64(p.Prob)-want) > 1e-5 {
		t.Errorf("prob = %v, want %v", p.Prob, want)
	}
	if logits[0] != 3 {
		t.Error("Choose modified the logits")
	}
}
