package native

import (
	"math"
	"slices"
)

// prefixKV is an entry of the cache across requests: the keys and values
// of an earlier request's canvas, and its tokens with every hole slot
// marked holeSlot (their keys were computed from masks and picks, so no
// later text may take them). The Denoiser keeps a few (prefixes, most
// recently used first), so that requests about different files, or from
// different clients of one server, each find their own.
//
// A new canvas takes from the entry the keys and values of the fixed
// tokens it shares at its start (the prefix) and at its end (the suffix,
// after its last hole): a keystroke at the cursor, or a syntax repair
// that re-masks part of a fill, changes only the text between. The
// suffix may have moved (the hole or the edit changed length): its keys
// are rotated to their new positions (shiftKeys), which RoPE makes exact.
//
// With bidirectional attention these keys depend on everything in the
// canvas, so reusing them when the text between changed is an
// approximation, like Fast-dLLM's DualCache. It is bounded: after
// Settings.PrefixReuse reuses in a row, the next request with that prefix
// computes every position exactly and its entry starts afresh.
type prefixKV struct {
	tokens []int32
	kv     *kvCache
	uses   int
}

// holeSlot marks a hole's slots in prefixKV.tokens: no token id matches it.
const holeSlot = -1

// minPrefixReuse is the shortest shared prefix (or suffix) worth copying
// keys for.
const minPrefixReuse = 16

// maxPrefixes and prefixBudget bound the cache across requests: entries,
// and bytes of keys and values (at least one entry is kept whatever its
// size: a big model's full-context canvas is hundreds of megabytes).
const (
	maxPrefixes  = 8
	prefixBudget = 256 << 20
)

// A reuse is what a new canvas takes from an entry of the cache: the keys
// and values of its first prefix positions, and of suffix positions from
// at, which were the entry's from at.
type reuse struct {
	from           *prefixKV // nil: nothing
	prefix, suffix int
	at, was        int
}

// fresh are the rows of a canvas of T positions that u does not give.
func (u reuse) fresh(T int) []int {
	rows := allRows(T)[u.prefix:]
	if u.suffix > 0 {
		rows = append(rows[:u.at-u.prefix], allRows(T)[u.at+u.suffix:]...)
	}
	return rows
}

// reusable finds the cache entry sharing the longest run of leading tokens
// with the canvas's fixed prefix, and what the canvas can take from it:
// nothing when no entry shares enough, or the one that does was reused its
// Settings.PrefixReuse times already.
func (d *Denoiser) reusable(lay *layout) reuse {
	if d.settings.PrefixReuse <= 0 || d.settings.RefreshEvery == 1 {
		return reuse{}
	}
	e, n := d.longestPrefix(lay.tokens[:lay.holes[0].start])
	if n < minPrefixReuse || e.uses >= d.settings.PrefixReuse {
		return reuse{}
	}
	u := reuse{from: e, prefix: n}
	if !d.settings.PrefixOnly {
		u.sharedSuffix(lay)
	}
	return u
}

// sharedSuffix finds the longest run of the fixed text after the canvas's
// last hole that the entry holds after its own last hole: the text right
// after both holes (a keystroke before the cursor, with the canvas's far
// end cut elsewhere) or the text that ends both (a repair, whose hole
// starts inside the old fill). Runs under minPrefixReuse are not taken.
func (u *reuse) sharedSuffix(lay *layout) {
	last := lay.holes[len(lay.holes)-1]
	T, end := len(lay.tokens), last.start+last.n
	old := u.from.tokens
	oldEnd := -1 // past the entry's last hole (it always has one)
	for i := len(old) - 1; i >= 0 && oldEnd < 0; i-- {
		if old[i] == holeSlot {
			oldEnd = i + 1
		}
	}
	if oldEnd < 0 {
		return
	}
	// The text after the holes, from its start.
	n := 0
	for end+n < T && oldEnd+n < len(old) && old[oldEnd+n] == lay.tokens[end+n] {
		n++
	}
	u.at, u.was, u.suffix = end, oldEnd, n
	// The text that ends both canvases.
	n = 0
	for end+n < T && oldEnd+n < len(old) && old[len(old)-1-n] == lay.tokens[T-1-n] {
		n++
	}
	if n > u.suffix {
		u.at, u.was, u.suffix = T-n, len(old)-n, n
	}
	if u.suffix < minPrefixReuse {
		u.at, u.was, u.suffix = 0, 0, 0
	}
}

// take copies what u reuses into kv, the cache of a canvas of T
// positions, the suffix's keys rotated to their new positions.
func (d *Denoiser) take(u reuse, kv *kvCache, T int) {
	if u.from == nil {
		return
	}
	m := d.model
	kv.copyRows(u.from.kv, 0, u.prefix, m.HeadDim)
	if u.suffix == 0 {
		return
	}
	kv.copyShifted(u.from.kv, u.was, u.at, u.suffix, m.HeadDim)
	if shift := u.at - u.was; shift != 0 {
		shiftKeys(kv, u.at, u.at+u.suffix, shift, m.HeadDim, m.RopeBase, m.Neox)
	}
}

// longestPrefix is the entry sharing the most leading tokens with prefix.
func (d *Denoiser) longestPrefix(prefix []int32) (best *prefixKV, n int) {
	for _, e := range d.prefixes {
		m := 0
		for m < len(prefix) && m < len(e.tokens) && prefix[m] == e.tokens[m] {
			m++
		}
		if m > n {
			best, n = e, m
		}
	}
	return best, n
}

// savePrefix keeps the keys and values of the canvas for later requests
// (those of cd, the first candidate). It replaces the entry they were
// reused from (from, whose reuse count goes on), else the entry of the
// same prefix (a long shared prefix: the same file before this edit,
// which starts afresh), else the least recently used one when the cache
// is full.
func (d *Denoiser) savePrefix(lay *layout, cd *candidate, from *prefixKV) {
	fixedPrefix := lay.holes[0].start
	if d.settings.PrefixReuse <= 0 || d.settings.RefreshEvery == 1 || fixedPrefix < minPrefixReuse {
		return
	}
	T := len(lay.tokens)
	tokens := slices.Clone(lay.tokens)
	for _, h := range lay.holes {
		for j := range h.n {
			tokens[h.start+j] = holeSlot
		}
	}
	uses, old := 0, from
	if i := slices.Index(d.prefixes, from); from != nil && i >= 0 {
		uses = from.uses + 1
	} else if e, n := d.longestPrefix(tokens[:fixedPrefix]); n >= minPrefixReuse {
		old = e
	} else if len(d.prefixes) >= maxPrefixes {
		old = d.prefixes[len(d.prefixes)-1]
	}
	var kv *kvCache
	if i := slices.Index(d.prefixes, old); old != nil && i >= 0 {
		d.prefixes = slices.Delete(d.prefixes, i, i+1)
		if old.kv.resize(T, d.model.KVHeads, d.model.HeadDim) {
			kv = old.kv // reused only after this request copied from it
		}
	}
	if kv == nil {
		kv = d.model.newKV(T)
	}
	kv.copyRows(cd.kv, 0, T, d.model.HeadDim)
	d.prefixes = slices.Insert(d.prefixes, 0, &prefixKV{tokens: tokens, kv: kv, uses: uses})
	size := 0
	for i, e := range d.prefixes {
		if size += e.kv.bytes(); i > 0 && size > prefixBudget {
			clear(d.prefixes[i:])
			d.prefixes = d.prefixes[:i]
			break
		}
	}
}

// copyShifted copies the keys and values of src's n positions from
// srcFrom to c's positions from dstFrom, in every layer and head.
func (c *kvCache) copyShifted(src *kvCache, srcFrom, dstFrom, n, headDim int) {
	heads := len(c.k[0]) / (c.positions * headDim)
	for l := range c.k {
		for g := range heads {
			d := (g*c.positions + dstFrom) * headDim
			s := (g*src.positions + srcFrom) * headDim
			copy(c.k[l][d:d+n*headDim], src.k[l][s:s+n*headDim])
			copy(c.v[l][d:d+n*headDim], src.v[l][s:s+n*headDim])
		}
	}
}

// shiftKeys moves the keys of positions [from, to) by shift positions: a
// RoPE rotation by shift composes with the one by the old position into
// the one by the new (angles add), so the keys become those the tokens
// would have at their new place. Values carry no position.
func shiftKeys(c *kvCache, from, to, shift, headDim int, base float32, neox bool) {
	half := headDim / 2
	cos, sin := make([]float32, half), make([]float32, half)
	for i := range half {
		// As kernels' rope table computes angles, in float64.
		s, co := math.Sincos(float64(shift) * math.Pow(float64(base), -2*float64(i)/float64(headDim)))
		cos[i], sin[i] = float32(co), float32(s)
	}
	heads := len(c.k[0]) / (c.positions * headDim)
	for l := range c.k {
		for g := range heads {
			for p := from; p < to; p++ {
				x := c.k[l][(g*c.positions+p)*headDim:][:headDim]
				for i := range half {
					a, b := 2*i, 2*i+1 // normal RoPE rotates pairs
					if neox {
						a, b = i, i+half // neox rotates halves
					}
					x0, x1 := x[a], x[b]
					x[a] = x0*cos[i] - x1*sin[i]
					x[b] = x0*sin[i] + x1*cos[i]
				}
			}
		}
	}
}
