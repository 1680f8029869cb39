package kernels

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
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
		q8f, err := newLinearQ8Float(quantizeQ8(w, s.n, s.k), s.n, s.k)
		if err != nil {
			b.Fatal(err)
		}
		type benchCase struct {
			name string
			lin  Linear
			int8 bool // blocksInt8 for the K-quants
		}
		f16, err := NewLinearF16(halves(w), s.n, s.k)
		if err != nil {
			b.Fatal(err)
		}
		cases := []benchCase{{"f32", NewLinearF32(w, s.n, s.k), false}, {"f16", f16, false}, {"q8_0", q8, false}, {"q8_0-float", q8f, false}}
		for _, f := range allFormats {
			if s.k%f.values != 0 {
				continue
			}
			lin, err := newLinearBlocks(f, quantizeBlocks(f, w), s.n, s.k)
			if err != nil {
				b.Fatal(err)
			}
			cases = append(cases, benchCase{f.name + "-float", lin, false}, benchCase{f.name, lin, true})
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", c.name, s.m, s.k, s.n), func(b *testing.B) {
				defer func(v bool) { blocksInt8 = v }(blocksInt8)
				blocksInt8 = c.int8
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

// halves encodes w as little-endian half floats, rounded to nearest.
func halves(w []float32) []byte {
	raw := make([]byte, 2*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint16(raw[2*i:], float32ToHalf(v))
	}
	return raw
}

// BenchmarkLinearF16 compares f16 weights, converted in the tile, with
// the same weights as float32 at every level this CPU has, at the
// shapes of a 38M-parameter model's attention and FFN.
func BenchmarkLinearF16(b *testing.B) {
	r := rand.New(rand.NewPCG(6, 6))
	defer useLevel(bestLevel())
	for _, s := range []struct{ m, k, n int }{{256, 576, 576}, {128, 576, 1536}} {
		w, x := randSlice(r, s.n*s.k), randSlice(r, s.m*s.k)
		dst := make([]float32, s.m*s.n)
		f16, err := NewLinearF16(halves(w), s.n, s.k)
		if err != nil {
			b.Fatal(err)
		}
		f32 := NewLinearF32(w, s.n, s.k)
		for _, l := range availableLevels() {
			for _, c := range []struct {
				name string
				lin  Linear
			}{{"f16", f16}, {"f32", f32}} {
				b.Run(fmt.Sprintf("%s/%s/%dx%dx%d", l, c.name, s.m, s.k, s.n), func(b *testing.B) {
					useLevel(l)
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
}

// BenchmarkPeak is the ceiling PeakGFLOPS measures (the float tile on
// operands in L1), to read the products' GFLOP/s of the same run against.
func BenchmarkPeak(b *testing.B) {
	benchThreads(b, func(b *testing.B) {
		var g float64
		for b.Loop() {
			g = PeakGFLOPS(50 * time.Millisecond)
		}
		b.ReportMetric(g, "GFLOP/s")
	})
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

// BenchmarkAttention is one attention head's products at the shapes the
// engine runs (nq query rows of head size 64 over T cached positions):
// scores = q·Kᵀ (MatMulT, keys stored one row per position) and the
// weighted values scores·V (MatMul), on one thread as attention runs them
// (one task per head).
func BenchmarkAttention(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 7))
	const hd = 64
	defer SetThreads(0)
	SetThreads(1)
	for _, s := range []struct{ nq, t int }{{1, 94}, {2, 94}, {4, 94}, {16, 94}, {16, 256}, {94, 94}, {256, 1024}} {
		q, keys, vals := randSlice(r, s.nq*hd), randSlice(r, s.t*hd), randSlice(r, s.t*hd)
		scores, out := make([]float32, s.nq*s.t), make([]float32, s.nq*hd)
		b.Run(fmt.Sprintf("MatMulT/%dx%dx%d", s.nq, hd, s.t), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatMulT(scores, q, keys, s.nq, hd, s.t)
			}
			reportGFLOPS(b, s.nq, hd, s.t)
		})
		b.Run(fmt.Sprintf("MatMul/%dx%dx%d", s.nq, s.t, hd), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatMul(out, scores, vals, s.nq, s.t, hd)
			}
			reportGFLOPS(b, s.nq, s.t, hd)
		})
	}
}

// BenchmarkSoftmax is one row of attention scores, at lengths around the
// cache sizes the engine sees (odd ones leave a partial vector).
func BenchmarkSoftmax(b *testing.B) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, n := range []int{16, 94, 103, 256, 1024} {
		row := randSlice(r, n)
		buf := make([]float32, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, row)
				Softmax(buf)
			}
		})
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

// BenchmarkQuantizeActs is the int8 path's fixed cost per product:
// quantizing the activation rows to q8_0 blocks.
func BenchmarkQuantizeActs(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	const rows, k = 256, 512
	x := randSlice(r, rows*k)
	b.SetBytes(4 * rows * k)
	b.ReportAllocs()
	for b.Loop() {
		q8ActsPool.Put(quantizeActs(x, rows, k, actQ8_0))
	}
}

// BenchmarkQ8Levels compares the int8 and the float path of q8_0 weights
// at every level this CPU has (portable, AVX2, AVX-512 with VNNI where
// present), on one thread.
func BenchmarkQ8Levels(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	const m, k, n = 128, 512, 1536
	w, x := randSlice(r, n*k), randSlice(r, m*k)
	dst := make([]float32, m*n)
	raw := quantizeQ8(w, n, k)
	q8, err := NewLinearQ8_0(raw, n, k)
	if err != nil {
		b.Fatal(err)
	}
	q8f, err := newLinearQ8Float(raw, n, k)
	if err != nil {
		b.Fatal(err)
	}
	defer SetThreads(0)
	SetThreads(1)
	defer useLevel(bestLevel())
	for _, l := range availableLevels() {
		for _, c := range []struct {
			name string
			lin  Linear
		}{{"int8", q8}, {"float", q8f}} {
			b.Run(fmt.Sprintf("%s/%s/%dx%dx%d", l, c.name, m, k, n), func(b *testing.B) {
				useLevel(l)
				b.ReportAllocs()
				for b.Loop() {
					c.lin.Forward(dst, x, m)
				}
				reportGFLOPS(b, m, k, n)
			})
		}
	}
}

// BenchmarkLinearFewRows measures the products of a cached denoising step
// (a few rows against every weight matrix) and a full pass, at the FFN
// shapes of Qwen2.5 0.5B and 1.5B, on one thread: q8_0 against the block
// types of Q4_K_M and Q4_0 files, each block type with the panel decoders
// of this CPU's level ("new") and the portable ones ("old"), in the same
// run so their ratio survives a loaded machine. As in a model's step,
// each op goes through copies of the matrix that together outgrow the
// caches (≥ 64 MiB of q8_0), so every weight comes from memory; ms is per
// matrix.
func BenchmarkLinearFewRows(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 7))
	defer SetThreads(0)
	SetThreads(1)
	defer func(v bool) { fastPanels = v }(fastPanels)
	for _, s := range []struct{ k, n int }{{896, 4864}, {1536, 8960}} {
		w := randSlice(r, s.n*s.k)
		copies := (64<<20)/(s.n*s.k) + 1
		type benchCase struct {
			name string
			lins []Linear
			fast bool
		}
		q8raw := quantizeQ8(w, s.n, s.k)
		c8 := benchCase{name: "q8_0", fast: true}
		for range copies {
			q8, err := NewLinearQ8_0(q8raw, s.n, s.k)
			if err != nil {
				b.Fatal(err)
			}
			c8.lins = append(c8.lins, q8)
		}
		cases := []benchCase{c8}
		for _, f := range []blockFormat{formatQ4_0, formatQ4_K, formatQ5_0, formatQ6_K} {
			if s.k%f.values != 0 {
				continue
			}
			raw := quantizeBlocks(f, w)
			var lins []Linear
			for range copies {
				lin, err := newLinearBlocks(f, append([]byte(nil), raw...), s.n, s.k)
				if err != nil {
					b.Fatal(err)
				}
				lins = append(lins, lin)
			}
			cases = append(cases, benchCase{f.name + "-old", lins, false}, benchCase{f.name + "-new", lins, true})
		}
		for _, m := range []int{1, 4, 8, 16, 64, 256} {
			x := randSlice(r, m*s.k)
			dst := make([]float32, m*s.n)
			for _, c := range cases {
				b.Run(fmt.Sprintf("%s/rows=%d/%dx%d", c.name, m, s.k, s.n), func(b *testing.B) {
					fastPanels = c.fast
					for b.Loop() {
						for _, lin := range c.lins {
							lin.Forward(dst, x, m)
						}
					}
					reportGFLOPS(b, m*len(c.lins), s.k, s.n)
					b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N*len(c.lins)), "ms")
				})
			}
		}
	}
}
