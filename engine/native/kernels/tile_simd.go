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
	}
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
	pb := unsafe.Pointer(&b[0])
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16
	for i := 0; i < k; i++ {
		off := i * ldb * 4
		b0 := archsimd.LoadFloat32x16(f32x16at(pb, off))
		b1 := archsimd.LoadFloat32x16(f32x16at(pb, off+64))
		a0 := archsimd.BroadcastFloat32x16(f32at(p0, i*4))
		c00 = b0.MulAdd(a0, c00)
		c01 = b1.MulAdd(a0, c01)
		a1 := archsimd.BroadcastFloat32x16(f32at(p1, i*4))
		c10 = b0.MulAdd(a1, c10)
		c11 = b1.MulAdd(a1, c11)
		a2 := archsimd.BroadcastFloat32x16(f32at(p2, i*4))
		c20 = b0.MulAdd(a2, c20)
		c21 = b1.MulAdd(a2, c21)
		a3 := archsimd.BroadcastFloat32x16(f32at(p3, i*4))
		c30 = b0.MulAdd(a3, c30)
		c31 = b1.MulAdd(a3, c31)
	}
	if nrows == panelRows && ncols == panelCols {
		pd := unsafe.Pointer(&dst[0])
		c00.Store(f32x16at(pd, 0))
		c01.Store(f32x16at(pd, 64))
		c10.Store(f32x16at(pd, ldd*4))
		c11.Store(f32x16at(pd, ldd*4+64))
		c20.Store(f32x16at(pd, 2*ldd*4))
		c21.Store(f32x16at(pd, 2*ldd*4+64))
		c30.Store(f32x16at(pd, 3*ldd*4))
		c31.Store(f32x16at(pd, 3*ldd*4+64))
		return
	}
	var out [panelRows][panelCols]float32
	c00.Store((*[16]float32)(out[0][:16]))
	c01.Store((*[16]float32)(out[0][16:]))
	c10.Store((*[16]float32)(out[1][:16]))
	c11.Store((*[16]float32)(out[1][16:]))
	c20.Store((*[16]float32)(out[2][:16]))
	c21.Store((*[16]float32)(out[2][16:]))
	c30.Store((*[16]float32)(out[3][:16]))
	c31.Store((*[16]float32)(out[3][16:]))
	for r := 0; r < nrows; r++ {
		copy(dst[r*ldd:r*ldd+ncols], out[r][:ncols])
	}
}

// tileAVX2 covers the 4×32 tile in two 4×16 halves of 8 Float32x8
// accumulators each (AVX2 has 16 registers of 8 floats).
func tileAVX2(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols int) {
	checkTile(dst, ldd, a, lda, nrows, b, ldb, k, ncols)
	tileAVX2Half(dst, ldd, a, lda, nrows, b, ldb, k, min(ncols, 16), 0)
	if ncols > 16 {
		tileAVX2Half(dst, ldd, a, lda, nrows, b, ldb, k, ncols-16, 16)
	}
}

func tileAVX2Half(dst []float32, ldd int, a []float32, lda, nrows int, b []float32, ldb, k, ncols, col int) {
	p0, p1, p2, p3 := rowPointers(a, lda, nrows)
	pb := unsafe.Add(unsafe.Pointer(&b[0]), col*4)
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x8
	for i := 0; i < k; i++ {
		off := i * ldb * 4
		b0 := archsimd.LoadFloat32x8(f32x8at(pb, off))
		b1 := archsimd.LoadFloat32x8(f32x8at(pb, off+32))
		a0 := archsimd.BroadcastFloat32x8(f32at(p0, i*4))
		c00 = b0.MulAdd(a0, c00)
		c01 = b1.MulAdd(a0, c01)
		a1 := archsimd.BroadcastFloat32x8(f32at(p1, i*4))
		c10 = b0.MulAdd(a1, c10)
		c11 = b1.MulAdd(a1, c11)
		a2 := archsimd.BroadcastFloat32x8(f32at(p2, i*4))
		c20 = b0.MulAdd(a2, c20)
		c21 = b1.MulAdd(a2, c21)
		a3 := archsimd.BroadcastFloat32x8(f32at(p3, i*4))
		c30 = b0.MulAdd(a3, c30)
		c31 = b1.MulAdd(a3, c31)
	}
	var out [panelRows][16]float32
	c00.Store((*[8]float32)(out[0][:8]))
	c01.Store((*[8]float32)(out[0][8:]))
	c10.Store((*[8]float32)(out[1][:8]))
	c11.Store((*[8]float32)(out[1][8:]))
	c20.Store((*[8]float32)(out[2][:8]))
	c21.Store((*[8]float32)(out[2][8:]))
	c30.Store((*[8]float32)(out[3][:8]))
	c31.Store((*[8]float32)(out[3][8:]))
	for r := 0; r < nrows; r++ {
		copy(dst[r*ldd+col:r*ldd+col+ncols], out[r][:ncols])
	}
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
