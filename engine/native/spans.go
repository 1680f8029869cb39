package native

import (
	"fmt"
	"slices"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/sample"
)

// The keys dfim's converter (engine/models/convert) writes for a model
// whose holes change length while they are denoised (DreamOn).
const (
	LengthModeKey  = "dfim.length_mode"
	ExpandTokenKey = "dfim.expand_token_id"
	DeleteTokenKey = "dfim.delete_token_id"
	// LengthExpandDelete is DreamOn's length mode: a masked slot decoded
	// to the expand token becomes two masked slots, one decoded to the
	// delete token leaves the canvas.
	LengthExpandDelete = "expand-delete"
)

// maxGrowth bounds how far a hole may grow: to this many times the slots
// it started with (and the canvas to the model's context). DreamOn's
// reference bounds the canvas by max_new_tokens; a hole's slots are
// what dfim's callers size as the most they want.
const maxGrowth = 4

// spanTokens are a variable-length model's expand and delete tokens.
type spanTokens struct{ expand, delete int32 }

// loadSpans reads the length mode: nil for a fixed-length model, the
// span tokens for an expand-delete one.
func loadSpans(name string, f *gguf.File, vocab int) (*spanTokens, error) {
	mode, ok := f.String(LengthModeKey)
	if !ok || mode == "" || mode == "fixed" {
		return nil, nil
	}
	if mode != LengthExpandDelete {
		return nil, fmt.Errorf("%s: %s is %q; this dfim knows \"fixed\" and %q (a newer dfim may know it)", name, LengthModeKey, mode, LengthExpandDelete)
	}
	e, eok := f.Uint(ExpandTokenKey)
	dl, dok := f.Uint(DeleteTokenKey)
	if !eok || !dok || e >= uint64(vocab) || dl >= uint64(vocab) || e == dl {
		return nil, fmt.Errorf("%s: %s %q needs two distinct tokens below the vocabulary of %d in %s and %s (found %s, %s); convert the checkpoint again with dfim model pull", name, LengthModeKey, mode, vocab, ExpandTokenKey, DeleteTokenKey, found(e, eok), found(dl, dok))
	}
	return &spanTokens{expand: int32(e), delete: int32(dl)}, nil
}

func found(id uint64, ok bool) string {
	if !ok {
		return "none"
	}
	return fmt.Sprint(id)
}

// variable runs a request on an expand-delete model (DreamOn's
// generation, its _sample): every step is an exact forward pass over the
// candidate's canvas as it is now; the slots the step commits that
// decoded to the delete token are removed, those that decoded to the
// expand token become two masked slots, so a hole grows and shrinks
// while it is denoised (up to maxGrowth times its slots, the canvas to
// the context, and an expansion budget of twice that). The caches are
// rebuilt each step (every row recomputed, none reused across requests),
// and the copy and identifier experts and batching are not used.
// Candidates are denoised one after another, each with its own layout.
func (d *Denoiser) variable(r *denoising) (engine.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return engine.Result{}, errClosed
	}
	cands := d.newCandidates(r.lay, r.p, r.req.Opts.Seed)
	defer func() {
		for _, cd := range cands {
			if len(d.spare) < maxSpareKV {
				d.spare = append(d.spare, cd.kv)
			}
		}
	}()
	scratch := make([]float32, d.model.Vocab)
	var res engine.Result
	for c, cd := range cands {
		lay := &layout{tokens: cd.tokens, holes: slices.Clone(r.lay.holes), trimmed: r.lay.trimmed}
		steps, err := d.denoiseSpans(r, c, cd, lay, scratch)
		if err != nil {
			return engine.Result{}, err
		}
		res.Steps = max(res.Steps, steps)
		f := d.finish(lay, cd)
		for _, n := range f.Tokens {
			res.Tokens += n
		}
		res.Candidates = append(res.Candidates, f)
	}
	return res, nil
}

// denoiseSpans denoises one candidate of an expand-delete model to its
// end, keeping lay (its own layout) in step with its canvas; it returns
// the steps taken.
func (d *Denoiser) denoiseSpans(r *denoising, c int, cd *candidate, lay *layout, scratch []float32) (int, error) {
	p, m := r.p, d.model
	limit := make([]int, len(lay.holes)) // each hole's most slots
	budget, masks := 0, 0
	for i, h := range lay.holes {
		limit[i] = maxGrowth * h.n
		budget += 2 * limit[i]
		masks += h.n
	}
	total := max(p.steps*p.nBlocks, 1) // the request's step budget
	// Every step commits a slot and only an expansion adds one: the loop
	// ends well within maxSteps.
	maxSteps := masks + 2*budget + 1
	for step := 0; step < maxSteps; step++ {
		if err := r.ctx.Err(); err != nil {
			return step, fmt.Errorf("native: denoising stopped after %d steps: %w", step, err)
		}
		var w, holeOf []int
		for i, h := range lay.holes {
			for j := range h.n {
				if !cd.committed[h.start+j] {
					w = append(w, h.start+j)
					holeOf = append(holeOf, i)
				}
			}
		}
		if len(w) == 0 {
			return step, nil
		}
		T := len(cd.tokens)
		if !cd.kv.resize(T, m.KVHeads, m.HeadDim) {
			cd.kv = m.newKV(T)
		}
		logits := m.forward(&d.ws, []pass{{tokens: cd.tokens, kv: cd.kv, rows: allRows(T), want: w}})
		if d.rigLogits != nil {
			d.rigLogits(c, step, cd.tokens, w, logits[:len(w)*m.Vocab])
		}
		picks := make([]sample.Pick, len(w))
		slots := make([]sample.Slot, len(w))
		for j := range w {
			params := cd.params
			h := lay.holes[holeOf[j]]
			if budget <= 0 || h.n >= limit[holeOf[j]] || T >= m.Context {
				// No room: the expand token is blocked, as DreamOn's
				// reference does when its canvas is full.
				params.Banned = append(slices.Clip(params.Banned), d.spans.expand)
			}
			picks[j] = sample.Choose(logits[j*m.Vocab:(j+1)*m.Vocab], params, cd.rng, scratch)
			slots[j] = sample.Slot{Conf: picks[j].Conf, End: d.isEnd(picks[j].Token)}
		}
		chosen := sample.Select(slots, sample.CommitCount(len(w), total-step), p.threshold)
		// best: per position, the probability of its pick this step, moved
		// with the slots (the observer's view of the slots left masked).
		best := make([]float32, len(cd.tokens))
		for j, pos := range w {
			best[pos] = picks[j].Prob
		}
		// Right to left, so that a slot removed or inserted moves only
		// positions already handled.
		for _, j := range slices.Backward(chosen) {
			pos, hole := w[j], holeOf[j]
			switch picks[j].Token {
			case d.spans.delete:
				cd.tokens = slices.Delete(cd.tokens, pos, pos+1)
				cd.committed = slices.Delete(cd.committed, pos, pos+1)
				cd.prob = slices.Delete(cd.prob, pos, pos+1)
				cd.logProb = slices.Delete(cd.logProb, pos, pos+1)
				best = slices.Delete(best, pos, pos+1)
				lay.reshape(hole, -1)
			case d.spans.expand:
				if lay.holes[hole].n >= limit[hole] || len(cd.tokens) >= m.Context || budget <= 0 {
					// Other slots of the step took the room: this one
					// stays masked, and the next step blocks expand.
					continue
				}
				// The slot stays masked and a masked slot follows it.
				cd.tokens = slices.Insert(cd.tokens, pos+1, d.mask)
				cd.committed = slices.Insert(cd.committed, pos+1, false)
				cd.prob = slices.Insert(cd.prob, pos+1, 0)
				cd.logProb = slices.Insert(cd.logProb, pos+1, 0)
				best = slices.Insert(best, pos+1, best[pos])
				lay.reshape(hole, +1)
				budget--
			default:
				cd.tokens[pos], cd.committed[pos] = picks[j].Token, true
				cd.prob[pos], cd.logProb[pos] = picks[j].Prob, picks[j].LogProb
			}
		}
		lay.tokens = cd.tokens
		for _, h := range lay.holes {
			isEnd := d.isEnd
			if h.oneLine {
				isEnd = d.endsLine
			}
			sample.PadAfterEnd(cd.tokens[h.start:h.start+h.n], cd.committed[h.start:h.start+h.n], isEnd, d.padToken())
		}
		if r.req.Observe != nil {
			masked := map[int]float32{}
			for pos, b := range best {
				if !cd.committed[pos] {
					masked[pos] = b
				}
			}
			r.req.Observe(d.observe(lay, cd, c, step, masked))
		}
	}
	return maxSteps, nil
}

// reshape changes hole i's slot count by delta and moves the holes after it.
func (l *layout) reshape(i, delta int) {
	l.holes[i].n += delta
	for j := i + 1; j < len(l.holes); j++ {
		l.holes[j].start += delta
	}
}
