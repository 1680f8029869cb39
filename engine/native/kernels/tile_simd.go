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
	if nrows < 1 || nrows > panelRows || ncols < 1 || ncols > panelCols || k < 1 ||
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

// tileAVX512 is the 4×32 tile: per input i it broadcasts one value of each
// of the 4 rows and multiplies it into the two 16-wide halves of the panel
// row, 8 accumulators in all.
func tileAVX512(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols int) {
	checkTile(dst, ldd, a, lda, nrows, b, ldb, k, ncols)
	p0, p1, p2, p3 := rowPointers(a, lda, nrows)
	var out [panelRows][panelCols]float32
	kernel4x32(&out, p0, p1, p2, p3, unsafe.Pointer(&b[0]), ldb*4, k)
	storeTile(dst, ldd, out[:], nrows, ncols)
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

// kernel4x32 is the inner loop of tileAVX512, kept to few integer values so
// none of them spill. It is unrolled by two: the FMA's result replaces its
// first operand, so every step ends with register moves that unrolling
// halves.
func kernel4x32(out *[panelRows][panelCols]float32, p0, p1, p2, p3, pb unsafe.Pointer, stride, k int) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16
	for ; k >= 2; k -= 2 {
		b0 := archsimd.LoadFloat32x16(f32x16at(pb, 0))
		b1 := archsimd.LoadFloat32x16(f32x16at(pb, 64))
		a0 := archsimd.BroadcastFloat32x16(f32at(p0, 0))
		a1 := archsimd.BroadcastFloat32x16(f32at(p1, 0))
		a2 := archsimd.BroadcastFloat32x16(f32at(p2, 0))
		a3 := archsimd.BroadcastFloat32x16(f32at(p3, 0))
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		b0 = archsimd.LoadFloat32x16(f32x16at(pb, stride))
		b1 = archsimd.LoadFloat32x16(f32x16at(pb, stride+64))
		a0 = archsimd.BroadcastFloat32x16(f32at(p0, 4))
		a1 = archsimd.BroadcastFloat32x16(f32at(p1, 4))
		a2 = archsimd.BroadcastFloat32x16(f32at(p2, 4))
		a3 = archsimd.BroadcastFloat32x16(f32at(p3, 4))
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		if k > 2 { // advance only while still inside the operands
			pb = unsafe.Add(pb, 2*stride)
			p0, p1, p2, p3 = unsafe.Add(p0, 8), unsafe.Add(p1, 8), unsafe.Add(p2, 8), unsafe.Add(p3, 8)
		} else {
			pb = unsafe.Add(pb, stride)
			p0, p1, p2, p3 = unsafe.Add(p0, 4), unsafe.Add(p1, 4), unsafe.Add(p2, 4), unsafe.Add(p3, 4)
		}
	}
	if k == 1 {
		b0 := archsimd.LoadFloat32x16(f32x16at(pb, 0))
		b1 := archsimd.LoadFloat32x16(f32x16at(pb, 64))
		a0 := archsimd.BroadcastFloat32x16(f32at(p0, 0))
		a1 := archsimd.BroadcastFloat32x16(f32at(p1, 0))
		a2 := archsimd.BroadcastFloat32x16(f32at(p2, 0))
		a3 := archsimd.BroadcastFloat32x16(f32at(p3, 0))
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
	}
	c00.Store((*[16]float32)(out[0][:16]))
	c01.Store((*[16]float32)(out[0][16:]))
	c10.Store((*[16]float32)(out[1][:16]))
	c11.Store((*[16]float32)(out[1][16:]))
	c20.Store((*[16]float32)(out[2][:16]))
	c21.Store((*[16]float32)(out[2][16:]))
	c30.Store((*[16]float32)(out[3][:16]))
	c31.Store((*[16]float32)(out[3][16:]))
}

// tileAVX2 covers the 4×32 tile in two 4×16 halves of 8 Float32x8
// accumulators each (AVX2 has 16 registers of 8 floats).
func tileAVX2(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols int) {
	checkTile(dst, ldd, a, lda, nrows, b, ldb, k, ncols)
	p0, p1, p2, p3 := rowPointers(a, lda, nrows)
	var out [panelRows][panelCols]float32
	pb := unsafe.Pointer(&b[0])
	kernel4x16(&out, 0, p0, p1, p2, p3, pb, ldb*4, k)
	if ncols > 16 {
		kernel4x16(&out, 16, p0, p1, p2, p3, unsafe.Add(pb, 64), ldb*4, k)
	}
	storeTile(dst, ldd, out[:], nrows, ncols)
}

// kernel4x16 is tileAVX2's inner loop over one 16-column half (col), in
// the shape of kernel4x32.
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
}
