package kernels

import (
	"encoding/binary"
	"math"
	"sync"
)

// The int8 path of q8_0 weights, as llama.cpp computes them on a CPU: the
// activation rows are quantized once per product to q8_0-style blocks (32
// int8 and one scale per block, the scale rounded to a half float as in
// ggml's block_q8_0), and each weight block meets each activation block in
// an exact int32 dot product of 32 int8 pairs, accumulated in float32 as
//
//	acc = fma(float32(Σ w·a), d_w*d_a, acc)
//
// block after block, in order. Every level computes the same integers and
// the same float32 operations, so they agree bit for bit: VPDPBUSD
// (AVX-512 VNNI) in q8dot_amd64.s, VPMADDUBSW and VPMADDWD (AVX2) in
// q8dot_simd.go, and plain Go here, whose fma32 rounds once as the
// instruction does.
//
// VPDPBUSD multiplies unsigned bytes by signed ones, so the weights are
// stored offset by 128 (w^0x80, in 0..255) and each activation block
// carries -128·Σa, which the integer accumulator starts from:
// Σ (w+128)·a − 128·Σa = Σ w·a. The AVX2 path, whose VPMADDUBSW saturates
// at 16 bits, multiplies |w| (≤ 128) by a·sign(w) (|a| ≤ 127) instead;
// both pair sums stay below 2¹⁵.
//
// A weight panel (32 output columns) is stored k-major in groups of four
// inputs: the byte for input i of column j is at (i/4)*128 + j*4 + i%4, so
// one 64-byte load holds four consecutive inputs of 16 columns, the shape
// VPDPBUSD takes with one activation group (4 bytes) broadcast.

// q8Meta is one activation block's scale and sums (16 bytes: the assembly
// kernel knows this layout).
type q8Meta struct {
	d    float32 // scale (a half float's value)
	corr int32   // −128·Σq, for the weights' offset
	dsum float32 // Σq·d, for the minimums of the K-quants
	_    int32
}

// setDsums fills in the blocks' dsum from corr and d: float32(Σq)·d, one
// rounding (Σq is exact in float32).
func setDsums(meta []q8Meta) {
	for b := range meta {
		meta[b].dsum = float32(meta[b].corr) * (-1.0 / 128) * meta[b].d
	}
}

// q8Acts holds activation rows quantized to blocks (of 32 values, or 16
// for q6_K): row r's quants at q[r*k:], its block b's meta at
// meta[r*nb+b]. Rows are padded with
// zeros to a multiple of panelRows, so a tile may always read four.
type q8Acts struct {
	k, nb, rows int
	q           []int8
	meta        []q8Meta
}

var (
	q8ActsPool = sync.Pool{New: func() any { return new(q8Acts) }}
	// q8TilePool holds tile outputs (a tile kernel is a function value, so
	// an array on the task's stack would escape to the heap).
	q8TilePool = sync.Pool{New: func() any { return new([panelRows][panelCols]float32) }}
)

// An actQuant says how activations are quantized: q8_0's blocks of 32 with
// half-float scales, or q8_K's super-blocks of 256 with one float32 scale
// (llama.cpp's choice for the K-quants), stored as blocks of 32 or 16 that
// share it.
type actQuant int

const (
	actQ8_0   actQuant = iota
	actQ8_K            // meta per 32 values (q4_K, q5_K, iq4_xs)
	actQ8_K16          // meta per 16 values (q6_K and q3_K, whose scales are per 16)
	// actQ8_1 is q8_0's quants with q8_1's s as dsum: Σq times the
	// unrounded scale amax/127, rounded to a half float, as ggml's
	// quantize_row_q8_1 stores it (q4_1, q5_1).
	actQ8_1
)

// blockLen is the number of values each meta describes.
func (k actQuant) blockLen() int {
	if k == actQ8_K16 {
		return 16
	}
	return q8BlockLen
}

// quantizeActs quantizes rows×k activations (k a multiple of 32, of 256
// for q8_K) into a pooled buffer; the caller puts it back into q8ActsPool.
func quantizeActs(x []float32, rows, k int, kind actQuant) *q8Acts {
	a := q8ActsPool.Get().(*q8Acts)
	padded := (rows + panelRows - 1) / panelRows * panelRows
	nb := k / kind.blockLen()
	a.k, a.nb, a.rows = k, nb, rows
	if cap(a.q) < padded*k {
		a.q = make([]int8, padded*k)
	}
	if cap(a.meta) < padded*nb {
		a.meta = make([]q8Meta, padded*nb)
	}
	a.q, a.meta = a.q[:padded*k], a.meta[:padded*nb]
	clear(a.q[rows*k:])
	clear(a.meta[rows*nb:])
	// Each row is quick; split rows over threads only for big batches.
	const chunk = 16
	nt := (rows + chunk - 1) / chunk
	run := func(t int) {
		for r := t * chunk; r < min(rows, (t+1)*chunk); r++ {
			quantizeRow(kind, a.q[r*k:(r+1)*k], a.meta[r*nb:(r+1)*nb], x[r*k:(r+1)*k])
		}
	}
	if nt > 1 && rows*k >= 1<<15 && Threads() > 1 {
		parallelFor(nt, run)
	} else {
		for t := range nt {
			run(t)
		}
	}
	return a
}

// quantizeRow quantizes one row of activations as kind says.
func quantizeRow(kind actQuant, q []int8, meta []q8Meta, x []float32) {
	switch kind {
	case actQ8_K, actQ8_K16:
		quantizeRowQ8K(q, meta, x)
	case actQ8_1:
		quantizeRowQ8(q, meta, x)
		setDsumsQ8_1(meta, x)
	default:
		quantizeRowQ8(q, meta, x)
	}
}

// setDsumsQ8_1 replaces q8_0's dsums with q8_1's s: half(Σq · amax/127).
func setDsumsQ8_1(meta []q8Meta, x []float32) {
	for b := range meta {
		var amax float32
		for _, v := range x[b*q8BlockLen : (b+1)*q8BlockLen] {
			amax = max(amax, math.Float32frombits(math.Float32bits(v)&^(1<<31)))
		}
		sum := float32(meta[b].corr / -128)
		meta[b].dsum = roundHalf(sum * (amax / 127))
	}
}

// q8BlockScale returns, for a block whose largest magnitude is amax, the
// multiplier that maps it onto ±127 and the scale stored with the block, as
// ggml's AVX quantize_row_q8_0 computes them: d = amax/127 rounded to a half
// float, and 127/amax (not 1/d) for the quants. A block whose scale rounds
// to zero quantizes to zeros.
func q8BlockScale(amax float32) (id, d float32) {
	h := float32ToHalf(amax / 127)
	if h&0x7fff == 0 {
		return 0, 0
	}
	return 127 / amax, halfToFloat32(h)
}

// quantizeRowQ8Portable quantizes one row: q = round-half-even(x·id).
func quantizeRowQ8Portable(q []int8, meta []q8Meta, x []float32) {
	for b := range meta {
		xb := x[b*q8BlockLen : (b+1)*q8BlockLen]
		qb := q[b*q8BlockLen : (b+1)*q8BlockLen]
		var amax float32
		for _, v := range xb {
			amax = max(amax, math.Float32frombits(math.Float32bits(v)&^(1<<31)))
		}
		id, d := q8BlockScale(amax)
		var sum int32
		for i, v := range xb {
			qi := int32(math.RoundToEven(float64(v * id)))
			qb[i] = int8(qi)
			sum += qi
		}
		meta[b] = q8Meta{d: d, corr: -128 * sum}
	}
	setDsums(meta)
}

// quantizeRowQ8KPortable quantizes one row as ggml's quantize_row_q8_K_ref:
// per 256 values, max is the value of largest magnitude (the first one),
// iscale = −127/max, q = min(127, round-half-even(iscale·x)), d = 1/iscale.
// Each meta covers len(q)/len(meta) values (32 or 16).
func quantizeRowQ8KPortable(q []int8, meta []q8Meta, x []float32) {
	bl := len(q) / len(meta) // 32 or 16 values per meta
	per := qkK / bl
	for sb := 0; sb < len(meta)/per; sb++ {
		xb := x[sb*qkK : (sb+1)*qkK]
		qb := q[sb*qkK : (sb+1)*qkK]
		var amax, mx float32
		for _, v := range xb {
			if ax := math.Float32frombits(math.Float32bits(v) &^ (1 << 31)); ax > amax {
				amax, mx = ax, v
			}
		}
		var iscale, d float32
		if amax != 0 {
			iscale = -127 / mx
			d = 1 / iscale
		}
		for b := range per {
			var sum int32
			for i := b * bl; i < (b+1)*bl; i++ {
				qi := min(127, int32(math.RoundToEven(float64(iscale*xb[i]))))
				qb[i] = int8(qi)
				sum += qi
			}
			meta[sb*per+b] = q8Meta{d: d, corr: -128 * sum}
		}
	}
	setDsums(meta)
}

// linearQ8Int8 is a q8_0 weight matrix computed with int8 dot products:
// per panel of 32 output columns, quants holds In bytes per column in the
// VNNI layout above (w^0x80) and scales In/32 rows of 32 float32.
type linearQ8Int8 struct {
	out, in int
	scales  []float32
	quants  []uint8
}

func (l *linearQ8Int8) In() int  { return l.in }
func (l *linearQ8Int8) Out() int { return l.out }

// q8PanelIndex is the byte of input i, column j within a panel.
func q8PanelIndex(i, j int) int { return (i/4)*(4*panelCols) + j*4 + i%4 }

func newLinearQ8Int8(raw []byte, out, in int) (*linearQ8Int8, error) {
	nb, err := checkQ8(raw, out, in)
	if err != nil {
		return nil, err
	}
	np := (out + panelCols - 1) / panelCols
	l := &linearQ8Int8{
		out: out, in: in,
		scales: make([]float32, np*nb*panelCols),
		quants: make([]uint8, np*in*panelCols),
	}
	for i := range l.quants {
		l.quants[i] = 0x80 // a zero weight in the columns past Out
	}
	for o := 0; o < out; o++ {
		p, j := o/panelCols, o%panelCols
		q := l.quants[p*in*panelCols : (p+1)*in*panelCols]
		s := l.scales[p*nb*panelCols : (p+1)*nb*panelCols]
		row := raw[o*nb*q8BlockBytes : (o+1)*nb*q8BlockBytes]
		for b := 0; b < nb; b++ {
			blk := row[b*q8BlockBytes : (b+1)*q8BlockBytes]
			s[b*panelCols+j] = halfToFloat32(binary.LittleEndian.Uint16(blk))
			for i, v := range blk[2:] {
				q[q8PanelIndex(b*q8BlockLen+i, j)] = v ^ 0x80
			}
		}
	}
	return l, nil
}

func (l *linearQ8Int8) Forward(dst, x []float32, rows int) {
	nb := l.in / q8BlockLen
	q8Gemm(dst, x, rows, l.in, l.out, actQ8_0, func(p int, _ *kq8Panel) ([]uint8, []float32, []float32) {
		return l.quants[p*l.in*panelCols : (p+1)*l.in*panelCols], l.scales[p*nb*panelCols : (p+1)*nb*panelCols], nil
	}, false)
}

// q8PanelSource yields panel p of an int8 weight matrix: quants, scales
// and minimums (nil for none), possibly decoded into scratch.
type q8PanelSource func(p int, scratch *kq8Panel) (wq []uint8, ws, wm []float32)

// q8Gemm computes dst (rows×n) = x (rows×k) times the weights src yields,
// through int8 tiles: x is quantized once, then the work is split by
// panels, and by rows as well when there are too few panels to keep every
// thread busy (as gemm does). scratch says whether src needs a panel
// buffer per task.
func q8Gemm(dst, x []float32, rows, k, n int, kind actQuant, src q8PanelSource, scratch bool) {
	if rows <= 0 {
		return
	}
	checkOperands(dst, x, rows, k, n)
	acts := quantizeActs(x, rows, k, kind)
	defer q8ActsPool.Put(acts)
	bl := kind.blockLen()
	nb := k / bl
	forEachTile(rows, k, n, func(p, r0, r1 int) {
		var pn *kq8Panel
		if scratch {
			pn = getKQ8Panel(k)
		}
		wq, ws, wm := src(p, pn)
		j0 := p * panelCols
		nc := min(panelCols, n-j0)
		out := q8TilePool.Get().(*[panelRows][panelCols]float32)
		for r := r0; r < r1; r += panelRows {
			nr := min(panelRows, r1-r)
			q8Tile(out, acts.q[r*k:(r+panelRows)*k], acts.meta[r*nb:(r+panelRows)*nb], k, bl, wq, ws, wm)
			storeTileQ8(dst[r*n+j0:], n, out, nr, nc)
		}
		q8TilePool.Put(out)
		if pn != nil {
			kq8Pool.Put(pn)
		}
	})
}

func storeTileQ8(dst []float32, ldd int, out *[panelRows][panelCols]float32, nrows, ncols int) {
	for r := 0; r < nrows; r++ {
		copy(dst[r*ldd:r*ldd+ncols], out[r][:ncols])
	}
}

// q8TilePortable computes the 4×32 tile of activation rows aq (four rows
// of k quants, the meta of their blocks of bl values in am) times one
// weight panel: quants
// wq, per block and column a scale ws and, unless wm is nil, a minimum wm
// (acc += wm·dsum after each block). Each weight is decoded once for the
// four rows.
func q8TilePortable(out *[panelRows][panelCols]float32, aq []int8, am []q8Meta, k, bl int, wq []uint8, ws, wm []float32) {
	nb, gpb := k/bl, bl/4
	aq, am = aq[:panelRows*k], am[:panelRows*nb]
	*out = [panelRows][panelCols]float32{}
	for b := 0; b < nb; b++ {
		var s [panelRows][panelCols]int32
		for g := 0; g < gpb; g++ {
			i := b*bl + g*4
			var a [panelRows][4]int32
			for r := range a {
				ar := aq[r*k+i : r*k+i+4]
				a[r] = [4]int32{int32(ar[0]), int32(ar[1]), int32(ar[2]), int32(ar[3])}
			}
			w := wq[(b*gpb+g)*4*panelCols : (b*gpb+g+1)*4*panelCols]
			for j := 0; j < panelCols; j++ {
				wj := w[j*4 : j*4+4]
				w0, w1, w2, w3 := int32(int8(wj[0]^0x80)), int32(int8(wj[1]^0x80)), int32(int8(wj[2]^0x80)), int32(int8(wj[3]^0x80))
				s[0][j] += w0*a[0][0] + w1*a[0][1] + w2*a[0][2] + w3*a[0][3]
				s[1][j] += w0*a[1][0] + w1*a[1][1] + w2*a[1][2] + w3*a[1][3]
				s[2][j] += w0*a[2][0] + w1*a[2][1] + w2*a[2][2] + w3*a[2][3]
				s[3][j] += w0*a[3][0] + w1*a[3][1] + w2*a[3][2] + w3*a[3][3]
			}
		}
		sc := ws[b*panelCols : (b+1)*panelCols]
		for r := range s {
			d := am[r*nb+b].d
			for j, v := range s[r] {
				out[r][j] = fma32(float32(v), sc[j]*d, out[r][j])
			}
			if wm != nil {
				mn, ds := wm[b*panelCols:(b+1)*panelCols], am[r*nb+b].dsum
				for j := range out[r] {
					out[r][j] = fma32(mn[j], ds, out[r][j])
				}
			}
		}
	}
}

// fma32 returns x*y+z rounded once to float32, as a fused multiply-add
// instruction computes it. The product of two float32 is exact in float64,
// and the sum s = p + z rounded to the nearest float64 rounds on to the
// right float32 unless s lands exactly on a float32 midpoint (no midpoint
// can lie between s and the exact sum: it would be a nearer float64).
// Midpoints, and sums below the float32 normals (whose midpoints have
// other bits), take the slow path, addRoundOdd.
func fma32(x, y, z float32) float32 {
	p := float64(x) * float64(y)
	if s := p + float64(z); roundsOnce(s) {
		return float32(s)
	}
	return addRoundOdd(p, z)
}

// A float64 sum s lands on a float32 midpoint when the 29 bits that
// rounding to float32 drops are 1 then zeros: shifted to the top (<<35),
// exactly sumMid. sumNormal is the smallest float32 normal, shifted past
// the sign (<<1), less one.
const (
	sumMid    = 1 << 63
	sumNormal = (1023-126)<<53 - 1
)

// roundsOnce reports whether s, a float32 product plus a float32 rounded
// to nearest float64, rounds on to the float32 nearest the exact sum: it is
// not a midpoint, and it is zero or not below the float32 normals.
func roundsOnce(s float64) bool {
	b := math.Float64bits(s)
	return b<<35 != sumMid && b<<1-1 >= sumNormal
}

// roundsOnce4 is roundsOnce of four sums, given as bits, with two
// branches.
func roundsOnce4(b0, b1, b2, b3 uint64) bool {
	return min(b0<<35^sumMid, b1<<35^sumMid, b2<<35^sumMid, b3<<35^sumMid) != 0 &&
		min(b0<<1-1, b1<<1-1, b2<<1-1, b3<<1-1) >= sumNormal
}

// addRoundOdd returns p+z rounded once to float32: the sum is rounded to
// odd in float64 (53 ≥ 24+2 bits), which makes the final rounding to
// float32 the correct one.
func addRoundOdd(p float64, z float32) float32 {
	c := float64(z)
	s := p + c
	bp := s - c
	e := (p - bp) + (c - (s - bp)) // s + e == p + c exactly (TwoSum)
	if e != 0 {
		if bits := math.Float64bits(s); bits&1 == 0 {
			if (e > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}

// float32ToHalf rounds f to the nearest IEEE half float (ties to even),
// as F16C's VCVTPS2PH and ggml's GGML_FP32_TO_FP16 do.
func float32ToHalf(f float32) uint16 { return float32ToHalf32(math.Float32bits(f)) }

// float32ToHalf32 is float32ToHalf on the float's bits, in integer
// arithmetic only.
func float32ToHalf32(b uint32) uint16 {
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp-127 > 15: // overflows the half range
		return sign | 0x7c00
	case exp-127 < -25: // rounds to zero
		return sign
	}
	e := exp - 127 + 15
	m := mant | 0x800000 // 24 bits with the implicit one
	shift := 13
	if e <= 0 { // subnormal half: shift the extra bits out too
		shift += 1 - e
		e = 0
	}
	h := m >> shift
	rem := m & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || (rem == half && h&1 != 0) {
		h++
	}
	// h holds the implicit bit for normals: adding the exponent field
	// minus one lets a carry out of the mantissa bump the exponent.
	if e > 0 {
		return sign | uint16(uint32(e-1)<<10+h)
	}
	return sign | uint16(h)
}

// halfToFloat32Bits is halfToFloat32 as bits, in integer arithmetic only.
func halfToFloat32Bits(h uint16) uint32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		if mant == 0 {
			return sign
		}
		// Subnormal: normalize mant × 2⁻²⁴.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return sign | e<<23 | (mant&0x3ff)<<13
	case 0x1f:
		return sign | 0x7f800000 | mant<<13
	}
	return sign | (exp+112)<<23 | mant<<13
}
