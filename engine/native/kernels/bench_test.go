package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The shapes of the issue: m×k×n = rows × in × out.
var benchShapes = []struct{ m, k, n int }{
	{256, 512, 512},
	{32, 512, 1536},
	{256, 384, 8192},
}

func reportGFLOPS(b *testing.B, m, k, n int) {
	b.ReportMetric(2*float64(m)*float64(k)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func benchThreads(b *testing.B, f func(b *testing.B)) {
	defer SetThreads(0)
	for _, th := range []int{1, 2} {
		SetThreads(th)
		b.Run(fmt.Sprintf("threads=%d", th), f)
	}
}

func BenchmarkLinear(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchShapes {
		w, x := randSlice(r, s.n*s.k), randSlice(r, s.m*s.k)
		dst := make([]float32, s.m*s.n)
		q8, err := NewLinearQ8_0(quantizeQ8(w, s.n, s.k), s.n, s.k)
		if err != nil {
			b.Fatal(err)
		}
		cases := []struct {
			name string
			lin  Linear
		}{{"f32", NewLinearF32(w, s.n, s.k)}, {"q8_0", q8}}
		for _, f := range allFormats {
			if s.k%f.values != 0 {
				continue
			}
			lin, err := newLinearBlocks(f, quantizeBlocks(f, w), s.n, s.k)
			if err != nil {
				b.Fatal(err)
			}
			cases = append(cases, struct {
				name string
				lin  Linear
			}{f.name, lin})
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", c.name, s.m, s.k, s.n), func(b *testing.B) {
				benchThreads(b, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						c.lin.Forward(dst, x, s.m)
					}
					reportGFLOPS(b, s.m, s.k, s.n)
				})
			})
		}
	}
}

// BenchmarkMatMul covers attention's shapes: scores (MatMulT, 256 positions
// of head size 64) and weighted values (MatMul).
func BenchmarkMatMul(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, s := range append(benchShapes, struct{ m, k, n int }{256, 64, 256}, struct{ m, k, n int }{256, 256, 64}) {
		a, bm := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n)
		dst := make([]float32, s.m*s.n)
		for _, c := range []struct {
			name string
			f    func(dst, a, b []float32, m, k, n int)
		}{{"MatMul", MatMul}, {"MatMulT", MatMulT}} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", c.name, s.m, s.k, s.n), func(b *testing.B) {
				benchThreads(b, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						c.f(dst, a, bm, s.m, s.k, s.n)
					}
					reportGFLOPS(b, s.m, s.k, s.n)
				})
			})
		}
	}
}

func BenchmarkRowKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	const n = 1536
	x, y, w := randSlice(r, n), randSlice(r, n), randSlice(r, n)
	b.Run("Softmax/256", func(b *testing.B) {
		row := randSlice(r, 256)
		buf := make([]float32, 256)
		b.ReportAllocs()
		for b.Loop() {
			copy(buf, row)
			Softmax(buf)
		}
	})
	b.Run("RMSNorm/384", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			RMSNorm(y[:384], x[:384], w[:384], 1e-6)
		}
	})
	b.Run("SiLUMul/1536", func(b *testing.B) {
		g := make([]float32, n)
		b.ReportAllocs()
		for b.Loop() {
			copy(g, x)
			SiLUMul(g, y)
		}
	})
	for _, neox := range []bool{false, true} {
		b.Run(fmt.Sprintf("RoPE/6x64/neox=%v", neox), func(b *testing.B) {
			q := randSlice(r, 6*64)
			pos := 0
			b.ReportAllocs()
			for b.Loop() {
				RoPE(q, 6, 64, pos, 10000, neox)
				pos = (pos + 1) % 256
			}
		})
	}
	b.Run("Dot/384", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Dot(x[:384], y[:384])
		}
	})
}

// BenchmarkParallelFor is the fixed cost of splitting a kernel over the
// pool: two empty tasks.
func BenchmarkParallelFor(b *testing.B) {
	benchThreads(b, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			parallelFor(2, func(int) {})
		}
	})
}
