package native

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/dfim/dfim/engine/native/kernels"
)

// CanvasTokens turns text into a canvas's token ids as the denoiser lays
// one out: the BOS token first when the model adds one, every "<|mask|>"
// (the mask token's text) a masked slot, the rest tokenized as fixed text.
func (d *Denoiser) CanvasTokens(text string) []int32 {
	var toks []int32
	if d.bos >= 0 {
		toks = append(toks, d.bos)
	}
	maskText := d.tok.Token(d.mask)
	for i, piece := range strings.Split(text, maskText) {
		if i > 0 {
			toks = append(toks, d.mask)
		}
		toks = d.tok.AppendEncoded(toks, piece)
	}
	return toks
}

// Logits runs one exact forward pass over tokens and returns the model's
// logits for every position, Vocab values each, as the sampler reads them:
// row p is the prediction for the token at p, taken from the hidden state
// at p-1 when the model shifts (position 0 then reads row 0, as llama.cpp's
// diffusion CLI does). dfim's own offsets (end-token bias, experts) are
// not in them, so they compare with another runtime's.
func (d *Denoiser) Logits(tokens []int32) ([]float32, error) {
	m := d.model
	if len(tokens) == 0 || len(tokens) > m.Context {
		return nil, fmt.Errorf("native: %d tokens; a canvas holds 1 to %d (the model's context)", len(tokens), m.Context)
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= m.Vocab {
			return nil, fmt.Errorf("native: token %d at position %d is outside the vocabulary of %d", t, i, m.Vocab)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("native: the model is closed")
	}
	all := allRows(len(tokens))
	var ws workspace
	out := m.forward(&ws, []pass{{tokens: tokens, kv: m.newKV(len(tokens)), rows: all, want: all}})
	return out[:len(tokens)*m.Vocab], nil
}

// A Candidate is one entry of a position's top list.
type Candidate struct {
	ID    int32
	Logit float32
}

// TopK returns the k largest logits of row, largest first (ties: lower id
// first).
func TopK(row []float32, k int) []Candidate {
	k = min(k, len(row))
	idx := make([]int, len(row))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
	out := make([]Candidate, k)
	for i := range out {
		out[i] = Candidate{ID: int32(idx[i]), Logit: row[idx[i]]}
	}
	return out
}

// TokenText is token id's text for people: the bytes it stands for, or
// its vocabulary text for a special token ("<|mask|>").
func (d *Denoiser) TokenText(id int32) string {
	if b := d.tok.TokenBytes(id); b != nil {
		return string(b)
	}
	return d.tok.Token(id)
}

// StepBench is the time of one denoising step on a canvas of Canvas
// tokens with a hole of HoleSlots masked slots in the middle.
type StepBench struct {
	Canvas, HoleSlots int
	// Forward is an exact pass over every position (logits for the hole);
	// CachedStep the approximate pass over the hole's rows only, against
	// the keys and values of the rest (Settings.RefreshEvery).
	Forward, CachedStep time.Duration
	// ForwardFlops and CachedFlops count the multiply-adds of each as 2
	// floating-point operations: matrix products and attention.
	ForwardFlops, CachedFlops float64
}

// BenchSlots is the hole of a StepBench: one line of code.
const BenchSlots = defaultMaxTok

// BenchStep times both kinds of step on a canvas of canvas random tokens,
// each repeated until it has run for at least minTime (and 3 times).
func (d *Denoiser) BenchStep(canvas int, minTime time.Duration) (StepBench, error) {
	m := d.model
	if canvas < BenchSlots+2 || canvas > m.Context {
		return StepBench{}, fmt.Errorf("native: a bench canvas of %d tokens; want %d to %d (the model's context)", canvas, BenchSlots+2, m.Context)
	}
	r := rand.New(rand.NewPCG(uint64(canvas), 1))
	toks := make([]int32, canvas)
	for i := range toks {
		for {
			t := int32(r.IntN(min(m.Vocab, d.tok.VocabSize())))
			if !d.tok.IsSpecial(t) {
				toks[i] = t
				break
			}
		}
	}
	start := (canvas - BenchSlots) / 2
	lay := &layout{tokens: toks, holes: []holeSpan{{start: start, n: BenchSlots}}}
	hole := make([]int, BenchSlots)
	for i := range hole {
		hole[i] = start + i
		toks[start+i] = d.mask
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return StepBench{}, fmt.Errorf("native: the model is closed")
	}
	var ws workspace
	kv := m.newKV(canvas)
	all, rows := allRows(canvas), d.holeRows(lay)
	timeIt := func(rows []int) time.Duration {
		passes := []pass{{tokens: toks, kv: kv, rows: rows, want: hole}}
		m.forward(&ws, passes) // warm: buffers, caches, pages
		n, t0 := 0, time.Now()
		for n < 3 || time.Since(t0) < minTime {
			m.forward(&ws, passes)
			n++
		}
		return time.Since(t0) / time.Duration(n)
	}
	b := StepBench{Canvas: canvas, HoleSlots: BenchSlots}
	b.Forward = timeIt(all)
	b.CachedStep = timeIt(rows)
	b.ForwardFlops = m.passFlops(canvas, len(all), len(hole))
	b.CachedFlops = m.passFlops(canvas, len(rows), len(hole))
	return b, nil
}

// passFlops counts the floating-point operations of a forward pass over
// rows of a canvas of T positions with logits for out of them, as forward
// does the work: the last layer goes on past its attention projections with
// the out rows alone.
func (m *Model) passFlops(T, rows, out int) float64 {
	d, qd, kvd := float64(m.Embd), float64(m.Heads*m.HeadDim), float64(m.KVHeads*m.HeadDim)
	qkv := 2 * d * (qd + 2*kvd)
	ffn := 6 * d * float64(m.FFN)
	if m.Experts > 0 { // the router, and the experts a position runs
		ffn = 2*d*float64(m.Experts) + 6*d*float64(m.ExpertsUsed*m.ExpertFFN)
	}
	rest := func(n float64) float64 { // attention over T keys, output projection, feed-forward
		return n * (4*float64(T)*qd + 2*qd*d + ffn)
	}
	L := float64(m.Layers)
	n := float64(rows)
	f := L*n*qkv + (L-1)*rest(n) + rest(float64(out))
	return f + 2*float64(out)*d*float64(m.Vocab)
}

// PeakGFLOPS measures the float32 multiply-add rate of the matrix kernel
// on data that stays in cache, over the threads the kernels use: the
// ceiling a forward pass is measured against.
func PeakGFLOPS() float64 { return kernels.PeakGFLOPS(100 * time.Millisecond) }
