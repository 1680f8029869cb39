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
	if m < panelRows {
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
		if j0+panelCols <= n {
			return b[j0:], n
		}
		clear(buf)
		for i := 0; i < k; i++ {
			copy(buf[i*panelCols:], b[i*n+j0:(i+1)*n])
		}
		return buf, panelCols
	})
}

// MatMulT computes dst (m×n) = a (m×k) · bᵀ, where b is n×k row-major (as
// keys are stored: one row per position).
func MatMulT(dst, a, b []float32, m, k, n int) {
	if m <= 0 || n <= 0 {
		return
	}
	if len(b) < k*n {
		panic("kernels: MatMulT: b shorter than n×k")
	}
	if m < panelRows {
		if len(dst) < m*n || len(a) < m*k {
			panic("kernels: MatMulT: dst or a too short")
		}
		for r := 0; r < m; r++ {
			ar := a[r*k : (r+1)*k]
			for j := 0; j < n; j++ {
				dst[r*n+j] = dotImpl(ar, b[j*k:(j+1)*k])
			}
		}
		return
	}
	gemm(dst, a, m, k, n, func(p int, buf []float32) ([]float32, int) {
		// Transpose 32 rows of b into a k-major panel.
		j0 := p * panelCols
		nc := min(panelCols, n-j0)
		if nc < panelCols {
			clear(buf)
		}
		for j := 0; j < nc; j++ {
			row := b[(j0+j)*k : (j0+j+1)*k]
			for i, v := range row {
				buf[i*panelCols+j] = v
			}
		}
		return buf, panelCols
	})
}
