package kernels

// MatMul computes dst (m×n) = a (m×k) · b (k×n), all row-major. It is meant
// for activations (attention scores times values), which change every call,
// so b is read in place: full panels of 32 columns straight from b, only a
// last partial panel copied.
func MatMul(dst, a, b []float32, m, k, n int) {
	if m <= 0 || n <= 0 {
		return
	}
	if len(b) < k*n {
		panic("kernels: MatMul: b shorter than k×n")
	}
	if m < matMulAxpyRows {
		// Too few rows for a tile: stream b once per row with Axpy.
		if len(dst) < m*n || len(a) < m*k {
			panic("kernels: MatMul: dst or a too short")
		}
		for r := 0; r < m; r++ {
			row := dst[r*n : (r+1)*n]
			clear(row)
			for i, av := range a[r*k : (r+1)*k] {
				axpyImpl(av, b[i*n:(i+1)*n], row)
			}
		}
		return
	}
	gemm(dst, a, m, k, n, func(p int, buf []float32) ([]float32, int) {
		j0 := p * panelCols
		if j0+panelCols <= n && n <= matMulDirectMaxN {
			return b[j0:], n
		}
		nc := min(panelCols, n-j0)
		if nc < panelCols {
			clear(buf)
		}
		for i := 0; i < k; i++ {
			copy(buf[i*panelCols:i*panelCols+nc], b[i*n+j0:])
		}
		return buf, panelCols
	})
}

// matMulDirectMaxN is the widest b that MatMul reads in place. Wider rows
// are kilobytes apart, so a panel's rows collide in the same cache sets and
// pages; those panels are copied first.
const matMulDirectMaxN = 1024

// matMulTDirectMaxB is the most floats of b that MatMulT reads in place
// for more than panelRows rows: 256 KB, a fifth of the L2 of the CPUs it
// was measured on (attention's keys: up to 1024 positions of 64).
const matMulTDirectMaxB = 1 << 16

// MatMulT computes dst (m×n) = a (m×k) · bᵀ, where b is n×k row-major (as
// keys are stored: one row per position). Up to matMulTDirectRows rows
// (attention's blocks of queries) read b in place, 4 rows at a time, on one
// thread (each attention head is a task of its own); more rows, a b too
// big to stay in cache while it is read once per 4 rows, or a big product
// with threads to share it, transpose b into panels for the tile.
func MatMulT(dst, a, b []float32, m, k, n int) {
	if m <= 0 || n <= 0 {
		return
	}
	if len(b) < k*n {
		panic("kernels: MatMulT: b shorter than n×k")
	}
	if m < panelRows || m < matMulTDirectRows && n*k <= matMulTDirectMaxB && (Threads() == 1 || 2*m*k*n < parallelMinFlops) {
		if len(dst) < m*n || len(a) < m*k {
			panic("kernels: MatMulT: dst or a too short")
		}
		if k == 0 {
			clear(dst[:m*n])
			return
		}
		for r := 0; r < m; r += panelRows {
			tileT(dst[r*n:], n, a[r*k:], k, min(panelRows, m-r), b, n, k)
		}
		return
	}
	gemm(dst, a, m, k, n, func(p int, buf []float32) ([]float32, int) {
		// Transpose 32 rows of b into a k-major panel, four rows at a time
		// so that each read stream is contiguous.
		j0 := p * panelCols
		nc := min(panelCols, n-j0)
		if nc < panelCols {
			clear(buf)
		}
		buf = buf[:k*panelCols]
		j := 0
		for ; j+4 <= nc; j += 4 {
			r0 := b[(j0+j)*k : (j0+j+1)*k]
			r1 := b[(j0+j+1)*k : (j0+j+2)*k]
			r2 := b[(j0+j+2)*k : (j0+j+3)*k]
			r3 := b[(j0+j+3)*k : (j0+j+4)*k]
			for i := range r0 {
				q := buf[i*panelCols+j : i*panelCols+j+4]
				q[0], q[1], q[2], q[3] = r0[i], r1[i], r2[i], r3[i]
			}
		}
		for ; j < nc; j++ {
			for i, v := range b[(j0+j)*k : (j0+j+1)*k] {
				buf[i*panelCols+j] = v
			}
		}
		return buf, panelCols
	})
}
