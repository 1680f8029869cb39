package native

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/sample"
)

// Defaults for Options left at zero (see ../../shared/eval/FINDINGS.md:
// left-to-right blocks with threshold decoding inside the block measured
// as the cheapest decent order).
const (
	defaultBlock     = 4
	defaultThreshold = 0.9
	// candidateTemperature is what candidates after the first sample at
	// when the request is greedy: identical greedy copies would be useless.
	candidateTemperature = 0.5
)

// candidate is one fill of the canvas being denoised.
type candidate struct {
	tokens    []int32
	committed []bool
	prob      []float32 // per position: model probability when committed
	logProb   []float64
	rng       *rand.Rand
	kv        *kvCache
	params    sample.Params
}

// A schedule is a request's resolved options: how it is denoised, block by
// block and step by step.
type schedule struct {
	block, steps int // slots per block; step budget per block
	nBlocks      int
	threshold    float32
	algorithm    engine.Algorithm
	banned       []int32
	candidates   int
	temperature  float32
	topP         float32
	refreshEvery int
	usePrefixKV  bool
	maxSlots     int
	copy         bool // the copy expert is on
	chain        bool // commit left-to-right runs of confident slots (SelectRun)
	ident        bool // the identifier expert is on
}

func (d *Denoiser) schedule(opts engine.Options, lay *layout) schedule {
	p := schedule{algorithm: opts.Algorithm, block: opts.Block, threshold: opts.Threshold,
		candidates:  max(opts.Candidates, 1),
		temperature: opts.Temperature, topP: opts.TopP, refreshEvery: d.settings.RefreshEvery}
	for _, h := range lay.holes {
		p.maxSlots = max(p.maxSlots, h.n)
	}
	if p.algorithm == "" {
		p.algorithm = engine.Threshold
		if p.block == 0 {
			p.block = defaultBlock
		}
	}
	if p.block <= 0 || p.block > p.maxSlots {
		p.block = p.maxSlots
	}
	p.nBlocks = (p.maxSlots + p.block - 1) / p.block
	total := opts.Steps
	if total <= 0 {
		total = max(p.maxSlots/2, 1)
	}
	p.steps = max((total+p.nBlocks-1)/p.nBlocks, 1)
	if p.algorithm == engine.Threshold {
		if p.threshold <= 0 {
			p.threshold = defaultThreshold
		}
	} else {
		p.threshold = 0 // only Threshold commits by confidence level
	}
	p.banned = slices.Clone(d.special)
	if opts.ExactLength {
		for _, t := range []int32{d.pad, d.eos} {
			if t >= 0 {
				p.banned = append(p.banned, t)
			}
		}
	}
	if p.refreshEvery <= 0 {
		p.refreshEvery = 1
	}
	p.copy = opts.Expert(engine.ExpertCopy) && d.settings.Copy.MaxMatch > 0
	p.ident = opts.Expert(engine.ExpertIdent) && d.settings.Ident > 0 && !d.settings.CopyOnly
	if d.settings.CopyOnly {
		// Strictly left to right, one slot a step: each slot sees the
		// committed text before it, which is all the copy expert reads.
		p.copy, p.block, p.nBlocks, p.steps, p.threshold = true, 1, p.maxSlots, 1, 0
	}
	p.chain = p.copy && p.algorithm == engine.Threshold && !d.settings.CopyOnly
	return p
}

// Infill fills every hole of the canvas, once per candidate. With
// Settings.Batch above 1, concurrent calls step together: each forward
// pass carries a step of every request under way (see batch.go).
func (d *Denoiser) Infill(ctx context.Context, req engine.Request) (engine.Result, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return engine.Result{}, err
	}
	lay, err := d.buildLayout(req.Segments, d.model.Context)
	if err != nil {
		return engine.Result{}, err
	}
	r := &denoising{d: d, ctx: ctx, req: req, lay: lay, p: d.schedule(req.Opts, lay)}
	var res engine.Result
	switch {
	case d.spans != nil && !d.settings.CopyOnly:
		res, err = d.variable(r) // a hole's length changes as it is denoised
	case d.settings.Batch > 1:
		res, err = d.batched(r)
	default:
		res, err = d.alone(r)
	}
	if err != nil {
		return engine.Result{}, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// alone runs a denoising to its end, one forward pass at a time, holding
// the Denoiser: the workspace and caches are shared, and two passes on
// two cores would only slow each other down.
func (d *Denoiser) alone(r *denoising) (engine.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return engine.Result{}, errClosed
	}
	r.begin()
	for r.next() {
		if err := r.stopped(); err != nil {
			return engine.Result{}, err
		}
		r.apply(d.forward(r.plan()))
	}
	return r.result(), nil
}

// forward runs the passes of one step, or of a batch of steps; nil
// without any (CopyOnly).
func (d *Denoiser) forward(passes []pass) []float32 {
	if len(passes) == 0 {
		return nil
	}
	return d.model.forward(&d.ws, passes)
}

// errClosed is the error of a request made, or still under way, after Close.
var errClosed = errors.New("native: Infill called after Close")

// A denoising is one Infill request under way: its canvas, its candidates
// and where it stands. Each step finds the masked slots of the current
// block (next), lays out the step's forward passes (plan) and, given
// their logits, lets every candidate pick and commit (apply); alone runs
// one request's steps in turn, a batch many requests' steps in one pass.
type denoising struct {
	d       *Denoiser
	ctx     context.Context
	req     engine.Request
	lay     *layout
	p       schedule
	cands   []*candidate
	names   *sample.Names // the identifier expert's names; nil when it is off
	scratch []float32     // the sampler's, Vocab floats

	block, sib int          // the current block, and the step within it
	active     []*candidate // this step's candidates with masked slots
	want       [][]int      // and those slots
	shared     bool         // this step's logits are one pass's, read by every candidate
	steps      int
	sinceExact int   // steps since the last exact pass
	reused     reuse // what the first pass took from the cache across requests
	// fresh are the rows the first pass computed, every row but those
	// reused: an exact pass recomputes them, the reused ones keep the
	// keys the cache gave them (the cache's bound, Settings.PrefixReuse,
	// is what refreshes those).
	fresh []int

	// A batched request's outcome, set by the round that ends it, which
	// then closes done.
	res  engine.Result
	err  error
	over bool
	done chan struct{}
}

// begin makes the candidates (under d.mu: they take spare caches).
func (r *denoising) begin() {
	d := r.d
	r.cands = d.newCandidates(r.lay, r.p, r.req.Opts.Seed)
	r.scratch = make([]float32, d.model.Vocab)
	if r.p.ident {
		// The canvas as the experts read it: sources and fixed text, masks
		// left out (decoded, "<|mask|>" would count as the name "mask").
		r.names = sample.NewNames(sample.NewTextCanvas(r.cands[0].tokens, d.known(r.cands[0]), d.tok.TokenBytes, r.req.Sources...).Text)
	}
}

// stopped is the request's context error, wrapped to say how far it got.
func (r *denoising) stopped() error {
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("native: denoising stopped after %d steps: %w", r.steps, err)
	}
	return nil
}

// next finds the step's candidates and masked slots in the current block,
// moving on to the next block when this one is done. It reports false
// when every block is.
func (r *denoising) next() bool {
	for ; r.block < r.p.nBlocks; r.block, r.sib = r.block+1, 0 {
		r.active, r.want = r.masked(r.block*r.p.block, (r.block+1)*r.p.block)
		if len(r.active) > 0 {
			return true
		}
	}
	return false
}

// apply lets the step's candidates commit from the logits of its passes
// (plan's, in order; nil without a model) and counts the step.
func (r *denoising) apply(logits []float32) {
	if r.shared {
		for _, cd := range r.cands[1:] {
			cd.kv.copyRows(r.cands[0].kv, 0, len(r.lay.tokens), r.d.model.HeadDim)
		}
	}
	off := 0
	for i, cd := range r.active {
		var rows []float32 // nil without a model (CopyOnly)
		if logits != nil {
			rows = logits[off*r.d.model.Vocab:]
		}
		r.commit(cd, r.want[i], rows, r.p.steps-r.sib)
		if !r.shared {
			off += len(r.want[i])
		}
	}
	r.steps++
	r.sib++
}

// wanted is how many logit rows the step's passes return.
func (r *denoising) wanted() int {
	if r.d.settings.CopyOnly {
		return 0
	}
	if r.shared {
		return len(r.want[0])
	}
	n := 0
	for _, w := range r.want {
		n += len(w)
	}
	return n
}

// newCandidates makes the request's candidates: each a copy of the canvas
// with its hole slots masked, its own random stream and cache.
func (d *Denoiser) newCandidates(lay *layout, p schedule, seed uint64) []*candidate {
	T := len(lay.tokens)
	cands := make([]*candidate, p.candidates)
	for c := range cands {
		cd := &candidate{
			tokens:    slices.Clone(lay.tokens),
			committed: make([]bool, T),
			prob:      make([]float32, T),
			logProb:   make([]float64, T),
			rng:       rand.New(rand.NewPCG(seed, uint64(c))),
			kv:        d.takeKV(T),
			params:    sample.Params{Temperature: p.temperature, TopP: p.topP, Algorithm: p.algorithm, Banned: p.banned, Bias: d.endBiases()},
		}
		for i := range cd.committed {
			cd.committed[i] = true
		}
		for _, h := range lay.holes {
			for j := range h.n {
				cd.committed[h.start+j] = false
			}
		}
		if c > 0 && cd.params.Temperature == 0 {
			cd.params.Temperature = candidateTemperature
		}
		cands[c] = cd
	}
	return cands
}

// masked returns the candidates with masked slots in block [lo, hi) of
// every hole, and those slots' positions.
func (r *denoising) masked(lo, hi int) (active []*candidate, want [][]int) {
	for _, cd := range r.cands {
		var w []int
		for _, h := range r.lay.holes {
			for j := lo; j < min(hi, h.n); j++ {
				if !cd.committed[h.start+j] {
					w = append(w, h.start+j)
				}
			}
		}
		if len(w) > 0 {
			active = append(active, cd)
			want = append(want, w)
		}
	}
	return active, want
}

// plan lays out the forward passes of one step: the first step one pass
// for every candidate (shared: they all read its rows, and apply copies
// its keys and values to the others), then every refreshEvery steps an
// exact pass over the first pass's rows (every row but those reused from
// an earlier request) and cached passes over the holes' rows between.
// Without a model (CopyOnly) there are none.
func (r *denoising) plan() []pass {
	d := r.d
	exact := r.steps == 0 || r.sinceExact >= r.p.refreshEvery
	r.shared = r.steps == 0
	var passes []pass
	switch {
	case d.settings.CopyOnly:
		r.shared = false // no model: CopyPick in commit
	case r.steps == 0:
		// Every candidate starts from the same canvas: one pass serves
		// them all, and its keys and values are copied (firstPass).
		var first pass
		first, r.reused = d.firstPass(r.lay, r.cands, r.want[0])
		r.fresh = first.rows
		passes = []pass{first}
	default:
		rows := r.stepRows()
		switch {
		case exact && d.settings.PrefixOnly:
			rows, r.reused = allRows(len(r.lay.tokens)), reuse{}
		case exact:
			rows = r.fresh
		}
		passes = passesOf(tokensOf(r.active), kvOf(r.active), rows, r.want)
	}
	if exact {
		r.sinceExact = 0
	}
	r.sinceExact++
	return passes
}

// commit lets candidate cd pick a token for each masked slot w (rows holds
// their logits in order) with the experts' biases, commits the step's
// share of them (stepsLeft in the block's budget), pads each hole after
// its end, and reports the step to the request's observer.
func (r *denoising) commit(cd *candidate, w []int, rows []float32, stepsLeft int) {
	d, p := r.d, r.p
	picks := make([]sample.Pick, len(w))
	slots := make([]sample.Slot, len(w))
	// With the copy expert, slots are read left to right and each sees the
	// picks before it as tentative text, so a copied run can commit in one
	// step (SelectRun), as prompt-lookup decoding accepts several drafted
	// tokens at once.
	var text *sample.TextCanvas
	if p.copy || p.ident {
		text = sample.NewTextCanvas(cd.tokens, d.known(cd), d.tok.TokenBytes, r.req.Sources...)
	}
	adjacent := make([]bool, len(w))
	for j := range w {
		adjacent[j] = j > 0 && w[j] == w[j-1]+1
		params := cd.params
		if p.copy || p.ident {
			if p.chain && adjacent[j] && !slots[j-1].End {
				text.Reveal(w[j-1], d.tok.TokenBytes(picks[j-1].Token))
			}
			var cb []sample.Bias
			if p.copy {
				cb = sample.CopyBias(text, w[j], d.vocab, d.settings.Copy)
			}
			if d.settings.CopyOnly {
				picks[j] = sample.CopyPick(cb, d.padToken())
				slots[j] = sample.Slot{Conf: picks[j].Conf, End: d.isEnd(picks[j].Token)}
				continue
			}
			if p.ident {
				cb = append(cb, sample.IdentBias(text, w[j], r.names, d.vocab, d.settings.Ident)...)
			}
			if cb != nil {
				params.Bias = append(slices.Clip(params.Bias), cb...)
			}
		}
		row := rows[j*d.model.Vocab : (j+1)*d.model.Vocab]
		picks[j] = sample.Choose(row, params, cd.rng, r.scratch)
		slots[j] = sample.Slot{Conf: picks[j].Conf, End: d.isEnd(picks[j].Token)}
	}
	var chosen []int
	k := sample.CommitCount(len(w), stepsLeft)
	if p.chain {
		chosen = sample.SelectRun(slots, adjacent, k, p.threshold)
	} else {
		chosen = sample.Select(slots, k, p.threshold)
	}
	for _, j := range chosen {
		pos := w[j]
		cd.tokens[pos], cd.committed[pos] = picks[j].Token, true
		cd.prob[pos], cd.logProb[pos] = picks[j].Prob, picks[j].LogProb
	}
	for _, h := range r.lay.holes {
		isEnd := d.isEnd
		if h.oneLine {
			// The line is done at its newline: the slots after it would be
			// cut by the caller anyway, so stop filling them.
			isEnd = d.endsLine
		}
		sample.PadAfterEnd(cd.tokens[h.start:h.start+h.n], cd.committed[h.start:h.start+h.n], isEnd, d.padToken())
	}
	if r.req.Observe != nil {
		best := make(map[int]float32, len(w))
		for j, pos := range w {
			best[pos] = picks[j].Prob
		}
		r.req.Observe(d.observe(r.lay, cd, slices.Index(r.cands, cd), r.steps, best))
	}
}

// result turns the candidates into the request's Result and gives their
// caches back (keeping the first one's fixed prefix for the next request).
func (r *denoising) result() engine.Result {
	d := r.d
	res := engine.Result{Steps: r.steps}
	for _, cd := range r.cands {
		f := d.finish(r.lay, cd)
		for _, n := range f.Tokens {
			res.Tokens += n
		}
		res.Candidates = append(res.Candidates, f)
	}
	d.savePrefix(r.lay, r.cands[0], r.reused.from)
	for _, cd := range r.cands {
		if len(d.spare) < maxSpareKV {
			d.spare = append(d.spare, cd.kv)
		}
	}
	return res
}

// firstPass lays out the request's first forward pass, for the first
// candidate, reusing an earlier request's keys and values of an unchanged
// prefix and suffix when the settings allow (u: what it reused).
func (d *Denoiser) firstPass(lay *layout, cands []*candidate, want []int) (p pass, u reuse) {
	T, cd := len(lay.tokens), cands[0]
	u = d.reusable(lay)
	d.take(u, cd.kv, T)
	rows := u.fresh(T)
	if d.model.Shift && u.prefix > 0 {
		rows = slices.Insert(rows, 0, u.prefix-1) // the first slot's logits read the row before it
	}
	return pass{tokens: cd.tokens, kv: cd.kv, rows: rows, want: want}, u
}

// known marks the positions of a candidate that hold real text for the
// experts to read: fixed or committed, not a mask, not an end token.
func (d *Denoiser) known(cd *candidate) []bool {
	k := make([]bool, len(cd.tokens))
	for i, t := range cd.tokens {
		k[i] = cd.committed[i] && t != d.mask && !d.isEnd(t)
	}
	return k
}

func tokensOf(cs []*candidate) [][]int32 {
	out := make([][]int32, len(cs))
	for i, c := range cs {
		out[i] = c.tokens
	}
	return out
}

func kvOf(cs []*candidate) []*kvCache {
	out := make([]*kvCache, len(cs))
	for i, c := range cs {
		out[i] = c.kv
	}
	return out
}

func allRows(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = i
	}
	return r
}

// stepRows are the positions a cached step recomputes: in every hole the
// slots of the current block, and at a block's first step those of the
// block before it too (committed since their keys were computed), as
// Fast-dLLM's DualCache recomputes only the block being decoded; with
// Settings.WholeHole every slot of every hole (holeRows).
func (r *denoising) stepRows() []int {
	if r.d.settings.WholeHole {
		return r.d.holeRows(r.lay)
	}
	lo, hi := r.block*r.p.block, (r.block+1)*r.p.block
	if r.sib == 0 && r.block > 0 {
		lo -= r.p.block
	}
	return r.d.slotRows(r.lay, lo, hi)
}

// holeRows are every slot of every hole, and with Shift the position
// before each, whose hidden state gives the first slot's logits.
func (d *Denoiser) holeRows(lay *layout) []int {
	return d.slotRows(lay, 0, math.MaxInt)
}

// slotRows are slots [lo, hi) of every hole, and with Shift the position
// before each run.
func (d *Denoiser) slotRows(lay *layout, lo, hi int) []int {
	var rows []int
	for _, h := range lay.holes {
		from, to := h.start+lo, h.start+min(hi, h.n)
		if from >= to {
			continue
		}
		if d.model.Shift && from > 0 {
			from--
		}
		for p := from; p < to; p++ {
			if len(rows) == 0 || rows[len(rows)-1] < p {
				rows = append(rows, p)
			}
		}
	}
	return rows
}

func (d *Denoiser) isEnd(t int32) bool { return t >= 0 && (t == d.pad || t == d.eos) }

// endsLine is isEnd for a one-line hole: pad, EOS, or a token with a newline.
func (d *Denoiser) endsLine(t int32) bool {
	return d.isEnd(t) || t >= 0 && bytes.IndexByte(d.tok.TokenBytes(t), '\n') >= 0
}

// endBiases is the calibrated offset on the end tokens' logits, as sampler biases.
func (d *Denoiser) endBiases() []sample.Bias {
	if d.endBias == 0 {
		return nil
	}
	var out []sample.Bias
	for _, t := range []int32{d.pad, d.eos} {
		if t >= 0 && (len(out) == 0 || out[0].Token != t) {
			out = append(out, sample.Bias{Token: t, Logit: d.endBias})
		}
	}
	return out
}

// padToken is what slots after a hole's end become.
func (d *Denoiser) padToken() int32 {
	if d.pad >= 0 {
		return d.pad
	}
	return d.eos
}

// holeContent returns a hole's slots up to its first committed end token.
func (d *Denoiser) holeContent(h holeSpan, cd *candidate) (lo, hi int) {
	lo, hi = h.start, h.start+h.n
	for p := lo; p < hi; p++ {
		if cd.committed[p] && d.isEnd(cd.tokens[p]) {
			return lo, p
		}
	}
	return lo, hi
}

// finish turns a denoised candidate into a Fill: each hole's content
// tokens decoded, the log-likelihood of what the model committed
// (content and the end token that closed the hole; pads after it were
// forced, not chosen), and the mean probability of the content.
func (d *Denoiser) finish(lay *layout, cd *candidate) engine.Fill {
	var f engine.Fill
	var probSum float64
	var n int
	for _, h := range lay.holes {
		lo, hi := d.holeContent(h, cd)
		text := d.tok.Decode(cd.tokens[lo:hi])
		f.Holes = append(f.Holes, text)
		f.Tokens = append(f.Tokens, hi-lo)
		spans := make([]engine.TokenSpan, 0, hi-lo)
		for p := lo; p < hi; p++ {
			spans = append(spans, engine.TokenSpan{Text: string(d.tok.TokenBytes(cd.tokens[p])), Prob: cd.prob[p]})
		}
		f.Spans = append(f.Spans, spans)
		for p := lo; p < hi; p++ {
			f.LogProb += cd.logProb[p]
			probSum += float64(cd.prob[p])
			n++
		}
		if hi < h.start+h.n {
			f.LogProb += cd.logProb[hi]
		}
	}
	if n > 0 {
		f.Confidence = probSum / float64(n)
	}
	return f
}

// observe describes a candidate's holes after a step. best holds, for the
// positions still masked, the probability of their best token now.
func (d *Denoiser) observe(lay *layout, cd *candidate, c, index int, best map[int]float32) engine.Step {
	st := engine.Step{Candidate: c, Index: index}
	for _, h := range lay.holes {
		lo, hi := d.holeContent(h, cd)
		var hs engine.HoleState
		var text strings.Builder
		run := []int32{}
		flush := func() {
			text.WriteString(d.tok.Decode(run))
			run = run[:0]
		}
		for p := lo; p < hi; p++ {
			if !cd.committed[p] {
				flush()
				text.WriteString(engine.MaskGlyph)
				hs.Tokens = append(hs.Tokens, engine.StepToken{Masked: true, Confidence: best[p]})
				continue
			}
			run = append(run, cd.tokens[p])
			hs.Tokens = append(hs.Tokens, engine.StepToken{Text: string(d.tok.TokenBytes(cd.tokens[p])), Confidence: cd.prob[p]})
		}
		flush()
		hs.Text = text.String()
		st.Holes = append(st.Holes, hs)
	}
	return st
}

// maxSpareKV bounds the caches kept for the next requests.
const maxSpareKV = 4

// takeKV returns a cache for positions rows, reusing a spare one: a cache
// of a 256-token canvas is megabytes, and requests come per keystroke.
func (d *Denoiser) takeKV(positions int) *kvCache {
	for i, c := range d.spare {
		if c.resize(positions, d.model.KVHeads, d.model.HeadDim) {
			d.spare = slices.Delete(d.spare, i, i+1)
			return c
		}
	}
	return d.model.newKV(positions)
}
