package native

import (
	"math"
	"sync"

	"github.com/dfim/dfim/engine/native/kernels"
)

// kvCache holds one canvas's attention keys and values: per layer, per
// key/value head, positions × head_dim, so that one head's keys are one
// contiguous matrix for the attention matmuls.
type kvCache struct {
	positions int
	k, v      [][]float32 // [layer][kvHead*positions*headDim]
}

func (m *Model) newKV(positions int) *kvCache {
	c := &kvCache{positions: positions, k: make([][]float32, m.Layers), v: make([][]float32, m.Layers)}
	n := m.KVHeads * positions * m.HeadDim
	for l := range c.k {
		c.k[l] = make([]float32, n)
		c.v[l] = make([]float32, n)
	}
	return c
}

// copyRows copies the keys and values of positions [from, to) of every
// layer and head from src, which may be longer or shorter than c.
func (c *kvCache) copyRows(src *kvCache, from, to, headDim int) {
	heads := len(c.k[0]) / (c.positions * headDim)
	for l := range c.k {
		for g := range heads {
			d := c.k[l][(g*c.positions+from)*headDim : (g*c.positions+to)*headDim]
			s := src.k[l][(g*src.positions+from)*headDim : (g*src.positions+to)*headDim]
			copy(d, s)
			d = c.v[l][(g*c.positions+from)*headDim : (g*c.positions+to)*headDim]
			s = src.v[l][(g*src.positions+from)*headDim : (g*src.positions+to)*headDim]
			copy(d, s)
		}
	}
}

// bytes is the memory c's keys and values hold.
func (c *kvCache) bytes() int { return 8 * len(c.k) * cap(c.k[0]) }

// resize makes c hold positions rows without allocating when its capacity
// allows; the content is stale until a pass or copyRows fills it. It
// reports false when c is too small.
func (c *kvCache) resize(positions, kvHeads, headDim int) bool {
	n := kvHeads * positions * headDim
	if cap(c.k[0]) < n {
		return false
	}
	c.positions = positions
	for l := range c.k {
		c.k[l], c.v[l] = c.k[l][:n], c.v[l][:n]
	}
	return true
}

// workspace is scratch memory for forward passes, grown on demand and kept
// by the Denoiser between requests.
type workspace struct {
	x, h, q, k, v, att, o, gate, up []float32
	pos                             []int
	logits                          []float32
	// Mixture of experts: router probabilities, one expert's input and
	// output rows, and which rows (with what weight) each expert takes.
	router, eh, ey []float32
	routed         [][]int
	routedW        [][]float32
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n, n+n/4)
	}
	return b[:n]
}

// A pass is one sequence's share of a forward: its tokens and cache, the
// positions recomputed (rows, ascending) and those whose logits are wanted.
// Sequences of one forward may come from different requests: each has its
// own rows, and attention never crosses sequences.
type pass struct {
	tokens     []int32
	kv         *kvCache
	rows, want []int
}

// passesOf makes passes of sequences that share the same rows.
func passesOf(toks [][]int32, caches []*kvCache, rows []int, want [][]int) []pass {
	ps := make([]pass, len(toks))
	for s := range ps {
		ps[s] = pass{tokens: toks[s], kv: caches[s], rows: rows, want: want[s]}
	}
	return ps
}

// forward runs the transformer over the rows of every pass, writing those
// positions' keys and values into the pass's cache at every layer;
// attention reads all positions of the cache, so positions outside rows
// must hold keys and values from an earlier pass (the approximation of
// the caches) or the pass must cover every position. It returns the
// logits of each pass's want positions, concatenated (len(want) rows of
// Vocab each, pass by pass). With Shift, position p's logits come from the
// hidden state at p-1, which must then be in rows. Every row is computed
// as it would be alone: batching passes changes no logit.
func (m *Model) forward(ws *workspace, passes []pass) []float32 {
	S := len(passes)
	d, hd := m.Embd, m.HeadDim
	qd, kvd := m.Heads*hd, m.KVHeads*hd

	// qCount[s] rows of the current activations belong to pass s.
	qCount := make([]int, S)
	N := 0
	for s, ps := range passes {
		qCount[s] = len(ps.rows)
		N += len(ps.rows)
	}
	caches := make([]*kvCache, S)
	ws.x = grow(ws.x, N*d)
	ws.pos = ws.pos[:0]
	for s, ps := range passes {
		caches[s] = ps.kv
		for _, p := range ps.rows {
			i := len(ws.pos)
			m.TokenEmbd.row(ws.x[i*d:(i+1)*d], ps.tokens[p])
			ws.pos = append(ws.pos, p)
		}
	}

	// Rows of the last layer's output that the logits need, as indices
	// into the N rows (duplicates allowed: with Shift, positions 0 and 1
	// both read row 0).
	var keep []int
	keepCount := make([]int, S)
	base := 0
	for s, ps := range passes {
		rowOf := make(map[int]int, len(ps.rows))
		for r, p := range ps.rows {
			rowOf[p] = r
		}
		for _, p := range ps.want {
			hp := p
			if m.Shift && p > 0 {
				hp = p - 1
			}
			r, ok := rowOf[hp]
			if !ok {
				panic("native: forward asked for logits of a position outside its rows") // a caller bug
			}
			keep = append(keep, base+r)
			keepCount[s]++
		}
		base += len(ps.rows)
	}

	for l := range m.blocks {
		b := &m.blocks[l]
		n := len(ws.pos)
		ws.h = grow(ws.h, n*d)
		for i := range n {
			kernels.RMSNorm(ws.h[i*d:(i+1)*d], ws.x[i*d:(i+1)*d], b.AttnNorm, m.Eps)
		}
		ws.q = grow(ws.q, n*qd)
		ws.k = grow(ws.k, n*kvd)
		ws.v = grow(ws.v, n*kvd)
		b.Q.Forward(ws.q, ws.h, n)
		b.K.Forward(ws.k, ws.h, n)
		b.V.Forward(ws.v, ws.h, n)
		for i := range n {
			q, k, v := ws.q[i*qd:(i+1)*qd], ws.k[i*kvd:(i+1)*kvd], ws.v[i*kvd:(i+1)*kvd]
			if b.QBias != nil {
				kernels.Add(q, b.QBias)
			}
			if b.KBias != nil {
				kernels.Add(k, b.KBias)
			}
			if b.VBias != nil {
				kernels.Add(v, b.VBias)
			}
			headNorm(q, b.QNorm, hd, m.Eps)
			headNorm(k, b.KNorm, hd, m.Eps)
			kernels.RoPE(q, m.Heads, hd, ws.pos[i], m.RopeBase, m.Neox)
			kernels.RoPE(k, m.KVHeads, hd, ws.pos[i], m.RopeBase, m.Neox)
		}
		// Store this pass's keys and values in each sequence's cache.
		i := 0
		for s := range S {
			c := caches[s]
			for range qCount[s] {
				p := ws.pos[i]
				for g := range m.KVHeads {
					off := (g*c.positions + p) * hd
					copy(c.k[l][off:off+hd], ws.k[i*kvd+g*hd:i*kvd+(g+1)*hd])
					copy(c.v[l][off:off+hd], ws.v[i*kvd+g*hd:i*kvd+(g+1)*hd])
				}
				i++
			}
		}
		if l == len(m.blocks)-1 {
			// Only the rows whose logits are wanted go on (llama.cpp's out_ids).
			ws.h = grow(ws.h, len(keep)*max(d, qd))
			gatherRows(ws.h, ws.q, keep, qd)
			ws.q, ws.h = ws.h, ws.q
			ws.o = grow(ws.o, len(keep)*d)
			gatherRows(ws.o, ws.x, keep, d)
			ws.x, ws.o = ws.o, ws.x
			newPos := make([]int, len(keep))
			for j, r := range keep {
				newPos[j] = ws.pos[r]
			}
			ws.pos = append(ws.pos[:0], newPos...)
			copy(qCount, keepCount)
			n = len(keep)
		}

		ws.att = grow(ws.att, n*qd)
		m.attend(ws, l, caches, qCount)
		ws.o = grow(ws.o, n*d)
		b.O.Forward(ws.o, ws.att, n)
		for i := range n {
			if b.OBias != nil {
				kernels.Add(ws.o[i*d:(i+1)*d], b.OBias)
			}
		}
		kernels.Add(ws.x[:n*d], ws.o[:n*d])

		ws.h = grow(ws.h, n*d)
		for i := range n {
			kernels.RMSNorm(ws.h[i*d:(i+1)*d], ws.x[i*d:(i+1)*d], b.FFNNorm, m.Eps)
		}
		if b.moe != nil {
			m.experts(ws, b.moe, n)
		} else {
			ws.gate = grow(ws.gate, n*m.FFN)
			ws.up = grow(ws.up, n*m.FFN)
			b.Gate.Forward(ws.gate, ws.h, n)
			b.Up.Forward(ws.up, ws.h, n)
			kernels.SiLUMul(ws.gate, ws.up)
			b.Down.Forward(ws.o, ws.gate, n)
		}
		kernels.Add(ws.x[:n*d], ws.o[:n*d])
	}

	n := len(ws.pos)
	ws.h = grow(ws.h, n*d)
	for i := range n {
		kernels.RMSNorm(ws.h[i*d:(i+1)*d], ws.x[i*d:(i+1)*d], m.OutputNorm, m.Eps)
	}
	ws.logits = grow(ws.logits, n*m.Vocab)
	if n > 0 {
		m.Output.Forward(ws.logits, ws.h, n)
	}
	return ws.logits
}

// experts runs the mixture-of-experts feed-forward on the n rows of ws.h
// into ws.o, as llama.cpp's build_moe_ffn does for llada-moe: softmax over
// the router's logits, the ExpertsUsed most probable experts (ties: the
// lower index), each expert's SwiGLU output weighted by its probability.
// Each expert runs once over the rows routed to it.
func (m *Model) experts(ws *workspace, e *moeFFN, n int) {
	d, E, F := m.Embd, m.Experts, m.ExpertFFN
	ws.router = grow(ws.router, n*E)
	e.Router.Forward(ws.router, ws.h, n)
	if len(ws.routed) != E {
		ws.routed, ws.routedW = make([][]int, E), make([][]float32, E)
	}
	for x := range E {
		ws.routed[x], ws.routedW[x] = ws.routed[x][:0], ws.routedW[x][:0]
	}
	for i := range n {
		p := ws.router[i*E : (i+1)*E]
		kernels.Softmax(p)
		for range m.ExpertsUsed {
			best := -1
			for x, v := range p {
				if v >= 0 && (best < 0 || v > p[best]) {
					best = x
				}
			}
			ws.routed[best] = append(ws.routed[best], i)
			ws.routedW[best] = append(ws.routedW[best], p[best])
			p[best] = -1 // taken (probabilities are never negative)
		}
	}
	clear(ws.o[:n*d])
	for x, rows := range ws.routed {
		c := len(rows)
		if c == 0 {
			continue
		}
		ws.eh = grow(ws.eh, c*d)
		gatherRows(ws.eh, ws.h, rows, d)
		ws.gate = grow(ws.gate, c*F)
		ws.up = grow(ws.up, c*F)
		e.gate[x].Forward(ws.gate, ws.eh, c)
		e.up[x].Forward(ws.up, ws.eh, c)
		kernels.SiLUMul(ws.gate, ws.up)
		ws.ey = grow(ws.ey, c*d)
		e.down[x].Forward(ws.ey, ws.gate, c)
		for j, r := range rows {
			w, dst, src := ws.routedW[x][j], ws.o[r*d:(r+1)*d], ws.ey[j*d:(j+1)*d]
			for k := range dst {
				dst[k] += w * src[k]
			}
		}
	}
}

func gatherRows(dst, src []float32, idx []int, width int) {
	for j, r := range idx {
		copy(dst[j*width:(j+1)*width], src[r*width:(r+1)*width])
	}
}

// headNorm applies QK-norm: RMSNorm over each head when w has head_dim
// weights, over the whole vector when it has one per value; nil w is none.
func headNorm(x, w []float32, hd int, eps float32) {
	switch len(w) {
	case 0:
	case len(x):
		kernels.RMSNorm(x, x, w, eps)
	default:
		for h := 0; h+hd <= len(x); h += hd {
			kernels.RMSNorm(x[h:h+hd], x[h:h+hd], w, eps)
		}
	}
}

// attend computes bidirectional attention of the query rows in ws.q
// (qCount[s] rows per sequence, at positions ws.pos) over every position
// of each sequence's cache at layer l, writing ws.att. Each (sequence,
// head) is a task of its own over the kernels' threads: one head's
// products are too small to split further, and a batch has many.
func (m *Model) attend(ws *workspace, l int, caches []*kvCache, qCount []int) {
	hd, qd := m.HeadDim, m.Heads*m.HeadDim
	group := m.Heads / m.KVHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	type task struct{ s, h, row int }
	var tasks []task
	row := 0
	for s := range caches {
		if qCount[s] > 0 {
			for h := range m.Heads {
				tasks = append(tasks, task{s, h, row})
			}
		}
		row += qCount[s]
	}
	kernels.Parallel(len(tasks), func(t int) {
		s, h, row := tasks[t].s, tasks[t].h, tasks[t].row
		c, nq, g := caches[s], qCount[s], tasks[t].h/group
		T := c.positions
		buf := attnScratch.Get().(*[]float32)
		*buf = grow(*buf, nq*(2*hd+T))
		qh, oh, scores := (*buf)[:nq*hd], (*buf)[nq*hd:2*nq*hd], (*buf)[2*nq*hd:]
		for i := range nq {
			src := ws.q[(row+i)*qd+h*hd : (row+i)*qd+(h+1)*hd]
			dst := qh[i*hd : (i+1)*hd]
			for j, x := range src {
				dst[j] = x * scale
			}
		}
		keys := c.k[l][g*T*hd : (g+1)*T*hd]
		vals := c.v[l][g*T*hd : (g+1)*T*hd]
		kernels.MatMulT(scores, qh, keys, nq, hd, T)
		for i := range nq {
			kernels.Softmax(scores[i*T : (i+1)*T])
		}
		kernels.MatMul(oh, scores, vals, nq, T, hd)
		for i := range nq {
			copy(ws.att[(row+i)*qd+h*hd:(row+i)*qd+(h+1)*hd], oh[i*hd:(i+1)*hd])
		}
		attnScratch.Put(buf)
	})
}

// attnScratch holds one attention task's queries, outputs and scores.
var attnScratch = sync.Pool{New: func() any { return new([]float32) }}
