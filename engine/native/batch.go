package native

import (
	"fmt"
	"slices"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/kernels"
)

// Cross-request batching. Requests that arrive while others are being
// denoised join a batch: one goroutine at a time (whichever waiting
// request gets the stepper) runs a round, which lays out the next step of
// every request in the batch, runs all their passes as one forward, and
// lets each request commit from its own rows. A step of a 16-slot hole
// is a few dozen rows, too few to keep the matrix kernels busy; eight
// requests' steps in one pass read each weight once instead of eight
// times. Forward computes every row as it would alone, so a request's
// fill does not depend on what it was batched with (the prefix cache
// aside, which depends on the order requests arrive in any case).

// batched runs r in rounds with the other requests under way and returns
// its result once a round has finished it.
func (d *Denoiser) batched(r *denoising) (engine.Result, error) {
	r.done = make(chan struct{})
	d.joinMu.Lock()
	d.joining = append(d.joining, r)
	d.joinMu.Unlock()
	for {
		select {
		case <-r.done:
			return r.res, r.err
		default:
		}
		select {
		case <-r.done:
			return r.res, r.err
		case d.stepper <- struct{}{}:
			d.round()
		}
	}
}

// round steps every request in the batch once, up to Settings.Batch of
// them (the oldest first; the rest wait for a later round), and finishes
// those that are done, stopped or outlived Close. It releases the stepper.
func (d *Denoiser) round() {
	defer func() { <-d.stepper }()
	d.mu.Lock()
	defer d.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			// A bug: every request of the batch fails with it, as an error
			// (not only the one whose goroutine ran the round, and without
			// taking the daemon down), and the Denoiser serves on.
			for _, r := range d.batch {
				if !r.over {
					r.finish(engine.Result{}, fmt.Errorf("native: a batched denoising step failed: %v", p))
				}
			}
			d.batch = d.batch[:0]
		}
	}()
	d.batch = append(d.batch, d.takeJoining()...)
	for _, r := range d.batch {
		if r.cands == nil && !d.closed {
			r.begin()
		}
	}

	var step []*denoising
	var passes []pass
	for _, r := range d.batch {
		switch {
		case d.closed:
			r.finish(engine.Result{}, errClosed)
		case r.stopped() != nil:
			r.finish(engine.Result{}, r.stopped())
		case !r.next(): // nothing to fill
			r.finish(r.result(), nil)
		case len(step) < d.settings.Batch:
			step = append(step, r)
			passes = append(passes, r.plan()...)
		}
	}

	d.widest = max(d.widest, len(step))
	logits := d.forward(passes)
	// The requests sample and commit in parallel: each has its own
	// candidates, random streams and scratch.
	offs := make([]int, len(step)+1)
	for i, r := range step {
		offs[i+1] = offs[i] + r.wanted()
	}
	kernels.Parallel(len(step), func(i int) {
		r := step[i]
		defer func() {
			if p := recover(); p != nil { // a bug, or the caller's Observe: this request fails alone
				r.finish(engine.Result{}, fmt.Errorf("native: a denoising step failed: %v", p))
			}
		}()
		var rows []float32
		if logits != nil {
			rows = logits[offs[i]*d.model.Vocab : offs[i+1]*d.model.Vocab]
		}
		r.apply(rows)
	})
	for _, r := range step {
		if !r.over && !r.next() {
			r.finish(r.result(), nil) // its caller returns now, not a round later
		}
	}
	d.batch = slices.DeleteFunc(d.batch, func(r *denoising) bool { return r.over })
}

// takeJoining empties the list of requests that arrived since the last
// round and returns them.
func (d *Denoiser) takeJoining() []*denoising {
	d.joinMu.Lock()
	defer d.joinMu.Unlock()
	joined := d.joining
	d.joining = nil
	return joined
}

// finish ends a batched request with its result or error and wakes its
// caller.
func (r *denoising) finish(res engine.Result, err error) {
	r.res, r.err, r.over = res, err, true
	close(r.done)
}
