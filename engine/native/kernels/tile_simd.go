//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

func availableLevels() []level {
	l := []level{levelPortable}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		l = append(l, levelAVX2)
	}
	if archsimd.X86.AVX512() && archsimd.X86.FMA() {
		l = append(l, levelAVX512)
	}
	return l
}

func archUse(l level) {
	switch l {
	case levelAVX512:
		tile = tileAVX512
		tileT = tileTAVX512
		matMulTDirectRows = 64
		matMulAxpyRows = 2
		dequantPanel = dequantPanelAVX512
		dotImpl = dotAVX512
		axpyImpl = axpyAVX512
		scaleImpl = scaleAVX512
		addImpl = addAVX512
		rmsNormImpl = rmsNormAVX512
		expInPlace = expAVX512
		softmaxImpl = softmaxAVX512
		siluMulImpl = siluMulAVX512
		ropeHalves = ropeHalvesAVX512
		ropePairs = ropePairsAVX512
	case levelAVX2:
		tile = tileAVX2
		dequantPanel = dequantPanelAVX2
		dotImpl = dotAVX2
		axpyImpl = axpyAVX2
		scaleImpl = scaleAVX2
		addImpl = addAVX2
		rmsNormImpl = rmsNormAVX2
		expInPlace = expAVX2
		softmaxImpl = softmaxAVX2
		siluMulImpl = siluMulAVX2
		ropeHalves = ropeHalvesAVX2
		ropePairs = ropePairsAVX2
	}
	q8ArchUse(l)
	f16ArchUse(l)
}

// f32at returns a pointer to the 16 (or 8) floats at p+off bytes. The
// callers check the bounds of the whole tile once, up front.
func f32x16at(p unsafe.Pointer, off int) *[16]float32 { return (*[16]float32)(unsafe.Add(p, off)) }
func f32x8at(p unsafe.Pointer, off int) *[8]float32   { return (*[8]float32)(unsafe.Add(p, off)) }
func f32at(p unsafe.Pointer, off int) float32         { return *(*float32)(unsafe.Add(p, off)) }

// checkTile panics unless every float the tile reads and writes is in bounds,
// so the loops below can index with unsafe pointers.
func checkTile(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols int) {
	if nrows < 1 || nrows > tileRows || ncols < 1 || ncols > panelCols || k < 1 ||
		len(dst) < (nrows-1)*ldd+ncols || len(a) < (nrows-1)*lda+k || len(b) < (k-1)*ldb+panelCols {
		panic("kernels: tile out of bounds")
	}
}

// rowPointers returns the start of each of the 4 rows of a tile; rows past
// nrows repeat row 0 (computed, never stored).
func rowPointers(a []float32, lda, nrows int) (p0, p1, p2, p3 unsafe.Pointer) {
	p0 = unsafe.Pointer(&a[0])
	p1, p2, p3 = p0, p0, p0
	if nrows > 1 {
		p1 = unsafe.Pointer(&a[lda])
	}
	if nrows > 2 {
		p2 = unsafe.Pointer(&a[2*lda])
	}
	if nrows > 3 {
		p3 = unsafe.Pointer(&a[3*lda])
	}
	return
}

// tileRowPointers returns the start of each of the 8 rows of a tile for
// the assembly kernels; rows past nrows repeat row 0 (computed, never
// stored).
func tileRowPointers(a []float32, lda, nrows int) (rows [tileRows]*float32) {
	for r := range rows {
		rows[r] = &a[0]
		if r < nrows {
			rows[r] = &a[r*lda]
		}
	}
	return rows
}

// The kernels of tile_amd64.s: rows holds 8 (or 4) pointers to rows of
// activations, b the panel's k rows of 32 floats, ldb floats apart; they
// store the first nrows rows and ncols columns of the tile into dst, ldd
// floats apart.
//
//go:noescape
func f32Kernel8x32(dst *float32, ldd int, rows **float32, nrows int, b *float32, ldb, k, ncols int)

//go:noescape
func f32Kernel4x32(dst *float32, ldd int, rows **float32, nrows int, b *float32, ldb, k, ncols int)

//go:noescape
func f32DotT4x4(dst *float32, ldd int, rows **float32, nrows int, b *float32, n, k int)

// tileTAVX512 runs f32DotT4x4 over all n rows of b.
func tileTAVX512(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, n, k int) {
	if nrows < 1 || nrows > panelRows || n < 1 || k < 1 ||
		len(dst) < (nrows-1)*ldd+n || len(a) < (nrows-1)*lda+k || len(b) < n*k {
		panic("kernels: tileT out of bounds")
	}
	rows := tileRowPointers(a, lda, nrows)
	f32DotT4x4(&dst[0], ldd, &rows[0], nrows, &b[0], n, k)
}

// tileAVX512 runs the 8×32 kernel, or the 4×32 one when at most four rows
// are left. Both store straight into dst, masking a partial tile's
// columns.
func tileAVX512(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols int) {
	checkTile(dst, ldd, a, lda, nrows, b, ldb, k, ncols)
	rows := tileRowPointers(a, lda, nrows)
	if nrows <= 4 {
		f32Kernel4x32(&dst[0], ldd, &rows[0], nrows, &b[0], ldb, k, ncols)
		return
	}
	f32Kernel8x32(&dst[0], ldd, &rows[0], nrows, &b[0], ldb, k, ncols)
}

// storeTile copies the first nrows×ncols of a tile's outputs to dst.
func storeTile(dst []float32, ldd int, out [][panelCols]float32, nrows, ncols int) {
	if ncols == panelCols {
		for r := 0; r < nrows; r++ {
			*(*[panelCols]float32)(dst[r*ldd:]) = out[r]
		}
		return
	}
	for r := 0; r < nrows; r++ {
		copy(dst[r*ldd:r*ldd+ncols], out[r][:ncols])
	}
}

// tileAVX2 covers the tile in 4×16 blocks, four rows at a time, of 8
// Float32x8 accumulators each (AVX2 has 16 registers of 8 floats).
func tileAVX2(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols int) {
	checkTile(dst, ldd, a, lda, nrows, b, ldb, k, ncols)
	pb := unsafe.Pointer(&b[0])
	for g := 0; g < nrows; g += panelRows {
		nr := min(panelRows, nrows-g)
		p0, p1, p2, p3 := rowPointers(a[g*lda:], lda, nr)
		var out [panelRows][panelCols]float32
		kernel4x16(&out, 0, p0, p1, p2, p3, pb, ldb*4, k)
		if ncols > 16 {
			kernel4x16(&out, 16, p0, p1, p2, p3, unsafe.Add(pb, 64), ldb*4, k)
		}
		archsimd.ClearAVXUpperBits() // storeTile copies with SSE
		storeTile(dst[g*ldd:], ldd, out[:], nr, ncols)
	}
}

// kernel4x16 is tileAVX2's inner loop over one 16-column half (col): per
// input it broadcasts one value of each of the 4 rows and multiplies it
// into the half's two 8-wide vectors.
func kernel4x16(out *[panelRows][panelCols]float32, col int, p0, p1, p2, p3, pb unsafe.Pointer, stride, k int) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x8
	for ; k > 0; k-- {
		b0 := archsimd.LoadFloat32x8(f32x8at(pb, 0))
		b1 := archsimd.LoadFloat32x8(f32x8at(pb, 32))
		a0 := archsimd.BroadcastFloat32x8(f32at(p0, 0))
		a1 := archsimd.BroadcastFloat32x8(f32at(p1, 0))
		a2 := archsimd.BroadcastFloat32x8(f32at(p2, 0))
		a3 := archsimd.BroadcastFloat32x8(f32at(p3, 0))
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		if k > 1 { // advance only while still inside the operands
			pb = unsafe.Add(pb, stride)
			p0, p1, p2, p3 = unsafe.Add(p0, 4), unsafe.Add(p1, 4), unsafe.Add(p2, 4), unsafe.Add(p3, 4)
		}
	}
	c00.Store((*[8]float32)(out[0][col:]))
	c01.Store((*[8]float32)(out[0][col+8:]))
	c10.Store((*[8]float32)(out[1][col:]))
	c11.Store((*[8]float32)(out[1][col+8:]))
	c20.Store((*[8]float32)(out[2][col:]))
	c21.Store((*[8]float32)(out[2][col+8:]))
	c30.Store((*[8]float32)(out[3][col:]))
	c31.Store((*[8]float32)(out[3][col+8:]))
}

func checkDequant(dst []float32, q []int8, scales []float32, k int) {
	if k%32 != 0 || len(dst) < k*panelCols || len(q) < k*panelCols || len(scales) < k/32*panelCols {
		panic("kernels: dequantPanel out of bounds")
	}
}

func dequantPanelAVX512(dst []float32, q []int8, scales []float32, k int) {
	checkDequant(dst, q, scales, k)
	pd, pq, ps := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(q)), unsafe.Pointer(unsafe.SliceData(scales))
	for blk := 0; blk < k/32; blk++ {
		s0 := archsimd.LoadFloat32x16(f32x16at(ps, blk*128))
		s1 := archsimd.LoadFloat32x16(f32x16at(ps, blk*128+64))
		for i := blk * 32; i < blk*32+32; i++ {
			q0 := archsimd.LoadInt8x16((*[16]int8)(unsafe.Add(pq, i*32)))
			q1 := archsimd.LoadInt8x16((*[16]int8)(unsafe.Add(pq, i*32+16)))
			q0.ExtendToInt32().ConvertToFloat32().Mul(s0).Store(f32x16at(pd, i*128))
			q1.ExtendToInt32().ConvertToFloat32().Mul(s1).Store(f32x16at(pd, i*128+64))
		}
	}
	archsimd.ClearAVXUpperBits()
}

func dequantPanelAVX2(dst []float32, q []int8, scales []float32, k int) {
	checkDequant(dst, q, scales, k)
	pd, pq, ps := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(q)), unsafe.Pointer(unsafe.SliceData(scales))
	for blk := 0; blk < k/32; blk++ {
		var s [4]archsimd.Float32x8
		for h := range s {
			s[h] = archsimd.LoadFloat32x8(f32x8at(ps, blk*128+h*32))
		}
		for i := blk * 32; i < blk*32+32; i++ {
			for h := 0; h < 2; h++ {
				w := archsimd.LoadInt8x16((*[16]int8)(unsafe.Add(pq, i*32+h*16))).ExtendToInt16()
				w.GetLo().ExtendToInt32().ConvertToFloat32().Mul(s[2*h]).Store(f32x8at(pd, i*128+h*64))
				w.GetHi().ExtendToInt32().ConvertToFloat32().Mul(s[2*h+1]).Store(f32x8at(pd, i*128+h*64+32))
			}
		}
	}
	archsimd.ClearAVXUpperBits()
}
