package sample

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/kernels"
)

// Params steer how one masked position picks its token.
type Params struct {
	Temperature float32          // 0 = greedy (argmax)
	TopP        float32          // 0 or ≥1 = off
	Algorithm   engine.Algorithm // which confidence the pick reports
	// Banned tokens may not be picked (pad and EOS when a hole's length is
	// fixed). A position whose every token is banned picks the best banned one.
	Banned []int32
	// Bias is added to the logits of some tokens before anything else: a
	// calibrated offset on the end (pad/EOS) tokens corrects a model that
	// predicts the end of a hole more often than it happens.
	Bias []Bias
}

// A Bias is an offset added to one token's logit.
type Bias struct {
	Token int32
	Logit float32
}

// A Pick is the token a masked position would take now, and how sure the
// model is of it.
type Pick struct {
	Token int32
	// Prob is the probability of Token under the model's own distribution
	// (temperature 1, no top-p, bans applied): what Fill.Confidence averages.
	Prob float32
	// LogProb is log(Prob), kept in float64 so sums over a fill stay exact.
	LogProb float64
	// Conf orders positions for commit: the sampling distribution's
	// probability of Token (low-confidence, maskgit_plus, threshold), top-1
	// minus top-2 (topk_margin), negative entropy (entropy) or a uniform draw
	// (origin).
	Conf float32
}

// Choose picks a token for one masked position from its logits. scratch,
// if it has room for len(logits) floats, avoids an allocation. logits are
// not modified.
func Choose(logits []float32, p Params, rng *rand.Rand, scratch []float32) Pick {
	n := len(logits)
	if n == 0 {
		return Pick{Token: -1}
	}
	probs := scratch
	if cap(probs) < n {
		probs = make([]float32, n)
	}
	probs = probs[:n]
	if len(p.Bias) > 0 {
		// The biased logits are the model's distribution from here on.
		biased := make([]float32, n)
		copy(biased, logits)
		for _, b := range p.Bias {
			if b.Token >= 0 && int(b.Token) < n {
				biased[b.Token] += b.Logit
			}
		}
		logits = biased
	}
	copy(probs, logits)
	ninf := float32(math.Inf(-1))
	banned := 0
	for _, t := range p.Banned {
		if t >= 0 && int(t) < n && probs[t] != ninf {
			probs[t] = ninf
			banned++
		}
	}
	if banned == n { // nothing left: ignore the bans rather than return nothing
		copy(probs, logits)
	}

	// The model's own distribution (temperature 1): Prob and LogProb.
	best := argmax(probs)
	maxLogit := float64(probs[best])
	var sum float64
	for _, l := range probs {
		sum += math.Exp(float64(l) - maxLogit)
	}
	logZ := maxLogit + math.Log(sum)

	// The sampling distribution: temperature, then top-p.
	tok := int32(best)
	temp := p.Temperature
	if temp > 0 {
		softmaxT(probs, temp)
		if p.TopP > 0 && p.TopP < 1 {
			topP(probs, p.TopP)
		}
		tok = int32(draw(probs, rng))
	} else {
		softmaxT(probs, 1)
	}
	// probs now holds the sampling distribution (greedy: temperature 1).
	pick := Pick{Token: tok}
	pick.LogProb = float64(logits[tok]) - logZ
	pick.Prob = float32(math.Exp(pick.LogProb))
	switch p.Algorithm {
	case engine.TopKMargin:
		t1, t2 := top2(probs)
		pick.Conf = t1 - t2
	case engine.Entropy:
		var h float64
		for _, q := range probs {
			if q > 0 {
				h -= float64(q) * math.Log(float64(q))
			}
		}
		pick.Conf = float32(-h)
	case engine.Origin:
		pick.Conf = rng.Float32()
	default:
		pick.Conf = probs[tok]
	}
	return pick
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// softmaxT turns logits into probabilities at temperature t, in place,
// with the kernels' vector softmax (a vocabulary of exponentials per slot
// per step is a tenth of a fill's time in scalar math.Exp).
func softmaxT(x []float32, t float32) {
	if t != 1 {
		kernels.Scale(x, 1/t)
	}
	kernels.Softmax(x)
}

// topP zeroes every token outside the smallest set whose probability
// reaches p, and renormalises.
func topP(probs []float32, p float32) {
	idx := make([]int32, len(probs))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return int(a - b)
	})
	var cum float32
	keep := len(idx)
	for i, t := range idx {
		cum += probs[t]
		if cum >= p {
			keep = i + 1
			break
		}
	}
	for _, t := range idx[keep:] {
		probs[t] = 0
	}
	inv := 1 / cum
	for _, t := range idx[:keep] {
		probs[t] *= inv
	}
}

// draw samples an index from a probability vector.
func draw(probs []float32, rng *rand.Rand) int {
	u := rng.Float32()
	var cum float32
	last := 0
	for i, q := range probs {
		if q <= 0 {
			continue
		}
		cum += q
		last = i
		if u < cum {
			return i
		}
	}
	return last // rounding left u above the total
}

func top2(probs []float32) (float32, float32) {
	var a, b float32
	for _, q := range probs {
		if q > a {
			a, b = q, a
		} else if q > b {
			b = q
		}
	}
	return a, b
}

// CommitCount is how many of masked positions a step must commit so that
// the rest fit in stepsLeft steps (this one included): LLaDA's even
// schedule, rounded up. At least 1 while anything is masked.
func CommitCount(masked, stepsLeft int) int {
	if masked <= 0 {
		return 0
	}
	if stepsLeft <= 1 {
		return masked
	}
	return (masked + stepsLeft - 1) / stepsLeft
}

// A Slot is one masked position a step may commit.
type Slot struct {
	Conf float32 // from Pick.Conf
	End  bool    // the pick is pad or EOS
}

// Select returns the indices (into slots, ascending) a step commits:
// the k most confident, and with threshold > 0 also every slot whose
// confidence reaches it (Fast-dLLM parallel decoding; k ≥ 1 keeps it
// moving). Ties go to the earlier slot, so left-to-right order breaks them.
func Select(slots []Slot, k int, threshold float32) []int {
	if len(slots) == 0 {
		return nil
	}
	k = min(max(k, 0), len(slots))
	order := make([]int, len(slots))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case slots[a].Conf > slots[b].Conf:
			return -1
		case slots[a].Conf < slots[b].Conf:
			return 1
		}
		return 0
	})
	chosen := make([]bool, len(slots))
	for _, i := range order[:k] {
		chosen[i] = true
	}
	if threshold > 0 {
		for i, s := range slots {
			if s.Conf >= threshold {
				chosen[i] = true
			}
		}
	}
	var out []int
	for i, c := range chosen {
		if c {
			out = append(out, i)
		}
	}
	return out
}

// PadAfterEnd applies a hole's pad rule: once an end token (pad or EOS) is
// committed at slot j, every slot after j is pad. tokens and committed
// describe one hole's slots in order; masked or committed slots after the
// first committed end are overwritten with pad and marked committed. It
// returns the number of slots it changed, and the hole's length in content
// slots (the index of the first committed end, or len(tokens) if none).
func PadAfterEnd(tokens []int32, committed []bool, isEnd func(int32) bool, pad int32) (changed, length int) {
	length = len(tokens)
	for j, t := range tokens {
		if committed[j] && isEnd(t) {
			length = j
			break
		}
	}
	for j := length + 1; j < len(tokens); j++ {
		if !committed[j] || tokens[j] != pad {
			tokens[j], committed[j] = pad, true
			changed++
		}
	}
	return changed, length
}

// SelectRun returns the slots a left-to-right step commits: the first k
// (at least one; the step budget's share), then each next slot while it is
// adjacent to the one before (adjacent[j]: slot j follows slot j-1
// directly), the one before is not an end, and its confidence reaches
// threshold. It is for picks made in order with the earlier picks as
// tentative context, where a slot is only as sure as the run before it.
func SelectRun(slots []Slot, adjacent []bool, k int, threshold float32) []int {
	if len(slots) == 0 {
		return nil
	}
	k = min(max(k, 1), len(slots))
	out := make([]int, k)
	for j := range k {
		out[j] = j
	}
	for j := k; j < len(slots) && adjacent[j] && !slots[j-1].End && slots[j].Conf >= threshold; j++ {
		out = append(out, j)
	}
	return out
}
