package kernels

import (
	"encoding/binary"
	"math"
)

// The f16 path: weights stay IEEE half floats, packed in the panels of the
// float path (32 output columns, k-major) at half the bytes, and each tile
// converts them to float32 as it goes: VCVTPH2PS (F16C, or AVX-512) in
// registers in f16_amd64.s, halfToFloat32 here. Every level computes, for
// each output,
//
//	acc = fma(a[i], float32(w[i]), acc)
//
// for i = 0, 1, … in order from acc = +0, each step rounded once (fma32
// here, VFMADD231PS there), so the levels agree bit for bit on every
// result that is not a NaN; a NaN stays NaN, but its payload may differ
// (VCVTPH2PS quiets a signalling half, halfToFloat32 does not).

// f16Rows is the height of an f16 tile: the AVX-512 kernel keeps 8 rows ×
// 32 columns of accumulators in 16 of its 32 registers, which shares each
// conversion of a panel row (two VCVTPH2PS, on the FMA ports) among 8 rows
// of activations: 10-15% faster than 4 rows, where 12 gained too little
// to tell from noise.
const f16Rows = 8

// linearF16 holds W as half floats packed into panels: panel p is
// In×panelCols halves, row i holding W[p*32+j][i] for j < 32 (zero past
// Out).
type linearF16 struct {
	out, in int
	panels  []uint16
}

func (l *linearF16) In() int  { return l.in }
func (l *linearF16) Out() int { return l.out }

// packF16 builds a linearF16 from raw little-endian halves (out×in,
// row-major), which it does not keep.
func packF16(raw []byte, out, in int) *linearF16 {
	np := (out + panelCols - 1) / panelCols
	l := &linearF16{out: out, in: in, panels: make([]uint16, np*in*panelCols)}
	for o := 0; o < out; o++ {
		p, j := o/panelCols, o%panelCols
		panel := l.panels[p*in*panelCols : (p+1)*in*panelCols]
		row := raw[2*o*in : 2*(o+1)*in]
		for i := range in {
			panel[i*panelCols+j] = binary.LittleEndian.Uint16(row[2*i:])
		}
	}
	return l
}

func (l *linearF16) Forward(dst, x []float32, rows int) {
	if rows <= 0 {
		return
	}
	k, n := l.in, l.out
	checkOperands(dst, x, rows, k, n)
	// f16 weights meet f16 activations in llama.cpp: round them the same
	// way, so that the same file gives the same logits.
	buf := getScratch(rows * k)
	defer scratch.Put(buf)
	roundHalves(*buf, x[:rows*k])
	x = *buf
	size := k * panelCols
	forEachTile(rows, k, n, func(p, r0, r1 int) {
		w := l.panels[p*size : (p+1)*size]
		j0 := p * panelCols
		nc := min(panelCols, n-j0)
		for r := r0; r < r1; r += f16Rows {
			f16Tile(dst[r*n+j0:], n, x[r*k:], k, min(f16Rows, r1-r), w, k, nc)
		}
	})
}

func roundHalvesPortable(dst, x []float32) { roundActs(dst, x, roundHalf) }

// f16TilePortable is the f16 tile with its rows in groups of four (rows
// past nrows repeat the group's first, computed, never stored): per input
// it decodes the panel row (decodeHalves) and adds its exact products with
// the activations to the accumulators, each sum rounded once to float32
// (fma32, unrolled over a group).
func f16TilePortable(dst []float32, ldd int, a []float32, lda, nrows int, w []uint16, k, ncols int) {
	w = w[:k*panelCols]
	var rows [f16Rows][]float32
	for r := range (nrows + panelRows - 1) / panelRows * panelRows {
		rr := r
		if r >= nrows {
			rr = r / panelRows * panelRows
		}
		rows[r] = a[rr*lda : rr*lda+k]
	}
	var acc [f16Rows][panelCols]float32
	var wi [panelCols]float64
	for i := 0; i < k; i++ {
		decodeHalves(wi[:ncols], w[i*panelCols:])
		for g := 0; g < nrows; g += panelRows {
			a0, a1, a2, a3 := float64(rows[g][i]), float64(rows[g+1][i]), float64(rows[g+2][i]), float64(rows[g+3][i])
			c0, c1, c2, c3 := &acc[g], &acc[g+1], &acc[g+2], &acc[g+3]
			for j, wj := range wi[:ncols] {
				p0, p1, p2, p3 := a0*wj, a1*wj, a2*wj, a3*wj
				s0, s1, s2, s3 := p0+float64(c0[j]), p1+float64(c1[j]), p2+float64(c2[j]), p3+float64(c3[j])
				if roundsOnce4(math.Float64bits(s0), math.Float64bits(s1), math.Float64bits(s2), math.Float64bits(s3)) {
					c0[j], c1[j], c2[j], c3[j] = float32(s0), float32(s1), float32(s2), float32(s3)
					continue
				}
				c0[j], c1[j] = addRoundOdd(p0, c0[j]), addRoundOdd(p1, c1[j])
				c2[j], c3[j] = addRoundOdd(p2, c2[j]), addRoundOdd(p3, c3[j])
			}
		}
	}
	for r := range nrows {
		copy(dst[r*ldd:r*ldd+ncols], acc[r][:ncols])
	}
}

// decodeHalves sets dst[j] to halfToFloat32(h[j]), the normal halves
// decoded in line.
func decodeHalves(dst []float64, h []uint16) {
	h = h[:len(dst)]
	for j, v := range h {
		if v&0x7c00-0x400 < 0x7800 { // a normal: rebias the exponent
			dst[j] = float64(math.Float32frombits(uint32(v&0x8000)<<16 | uint32(v&0x7fff)<<13 + (127-15)<<23))
		} else {
			dst[j] = float64(halfToFloat32(v))
		}
	}
}
