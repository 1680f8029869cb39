package native

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/builtin"
	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/kernels"
)

// benchConfig is the model size of issue 3's targets: 6 layers, d=384,
// 6 heads, feed-forward 1024, 8192 tokens.
func benchConfig(typ gguf.Type) tinyConfig {
	return tinyConfig{arch: "llada", embd: 384, layers: 6, heads: 6, kvHeads: 6, ffn: 1024, context: 1024,
		vocab: 8192, typ: typ, seed: 11}
}

var benchTypes = []gguf.Type{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ4_0}

// BenchmarkForward is one exact forward pass over a 256-token canvas with
// logits for 16 masked positions.
func BenchmarkForward(b *testing.B) {
	for _, typ := range benchTypes {
		b.Run(typ.String(), func(b *testing.B) {
			m, _ := loadTiny(b, benchConfig(typ))
			toks := randomTokens(newRand(1), 256)
			rows := allRows(256)
			want := [][]int{allRows(16)}
			for i := range want[0] {
				want[0][i] += 200
			}
			kv := m.newKV(256)
			var ws workspace
			b.ReportAllocs()
			for b.Loop() {
				m.forward(&ws, passesOf([][]int32{toks}, []*kvCache{kv}, rows, want))
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/pass")
			b.ReportMetric(float64(kernels.Threads()), "threads")
		})
	}
}

// BenchmarkForwardHole is one approximate step of the cached path: the 17
// rows of a 16-slot hole (and the row before it) against the keys and
// values of a 256-token canvas, logits for 4 masked slots.
func BenchmarkForwardHole(b *testing.B) {
	for _, typ := range benchTypes {
		b.Run(typ.String(), func(b *testing.B) {
			m, _ := loadTiny(b, benchConfig(typ))
			toks := randomTokens(newRand(1), 256)
			kv := m.newKV(256)
			var ws workspace
			m.forward(&ws, passesOf([][]int32{toks}, []*kvCache{kv}, allRows(256), [][]int{{200}}))
			rows := allRows(256)[199:216]
			want := [][]int{{204, 205, 206, 207}}
			b.ReportAllocs()
			for b.Loop() {
				m.forward(&ws, passesOf([][]int32{toks}, []*kvCache{kv}, rows, want))
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/pass")
		})
	}
}

// BenchmarkInfill fills a 16-token hole in a 256-token canvas with 8 steps
// of the default decoding (left-to-right blocks of 4, threshold inside),
// the same canvas each time, as when a user pauses at one place.
//
// A random model is never sure of anything, so threshold decoding falls
// back to the even schedule and spends all 8 steps; the "confident" model
// (output weights scaled up, so its distributions are peaked as a trained
// model's are on easy code) lets the threshold commit a block per step.
func BenchmarkInfill(b *testing.B) {
	prefix := strings.Repeat("x := compute(a, b)\n", 10) + "\treturn "
	suffix := strings.Repeat("}\n", 20)
	for _, typ := range benchTypes {
		for _, c := range []struct {
			name      string
			s         Settings
			confident bool
		}{{"cached", DefaultSettings, false}, {"exact", Settings{RefreshEvery: 1}, false},
			{"cached-confident", DefaultSettings, true}, {"exact-confident", Settings{RefreshEvery: 1}, true}} {
			b.Run(typ.String()+"/"+c.name, func(b *testing.B) {
				cfg := benchConfig(typ)
				if c.confident {
					cfg.outScale = 30
				}
				d := newTiny(b, cfg, c.s)
				req := engine.Request{Segments: lineCanvas(prefix, suffix, 16),
					Opts: engine.Options{Steps: 8, ExactLength: true}}
				lay, _ := d.buildLayout(req.Segments, d.model.Context)
				filled, steps := 0, 0
				b.ReportAllocs()
				for b.Loop() {
					res, err := d.Infill(context.Background(), req)
					if err != nil {
						b.Fatal(err)
					}
					filled += res.Tokens
					steps += res.Steps
				}
				b.ReportMetric(float64(steps)/float64(b.N), "steps/infill")
				sec := b.Elapsed().Seconds()
				b.ReportMetric(1000*sec/float64(b.N), "ms/infill")
				b.ReportMetric(float64(filled)/sec, "tokens/s")
				b.ReportMetric(float64(len(lay.tokens)), "canvas-tokens")
				reportMemory(b)
			})
		}
	}
}

// reportMemory reports the Go heap in use and the process's resident set.
func reportMemory(b *testing.B) {
	runtime.GC() // count what is live, not garbage from building the model
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				if kb, err := strconv.Atoi(f[1]); err == nil {
					b.ReportMetric(float64(kb)/1024, "rss-MiB")
				}
			}
		}
	}
}

// BenchmarkInfillBuiltin fills a 16-slot hole of a Go function with the
// built-in model and the default decoding (decoding experts on, 4 KB of
// the file around the canvas as their Sources), with the experts off, and
// with an exact length; skipped when the build has none. Compare the
// ratios within one run: the machines are shared.
func BenchmarkInfillBuiltin(b *testing.B) {
	if _, ok := builtin.Model(); !ok {
		b.Skip("no built-in model")
	}
	d, err := Open(engine.Config{}, DefaultSettings)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	prefix := "package main\n\nimport \"fmt\"\n\n// sum adds the numbers in xs.\nfunc sum(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n\t\t"
	suffix := "\n\t}\n\treturn total\n}\n\nfunc main() {\n\tfmt.Println(sum([]int{1, 2, 3}))\n}\n"
	for _, c := range []struct {
		name string
		opts engine.Options
	}{{"default", engine.Options{}}, {"experts-off", engine.Options{Experts: "none"}},
		{"exact-length", engine.Options{ExactLength: true, Experts: "none"}}} {
		b.Run(c.name, func(b *testing.B) {
			source := strings.Repeat("func mean(xs []float64) float64 {\n\ttotal := 0.0\n\tfor _, x := range xs {\n\t\ttotal += x\n\t}\n\treturn total / float64(len(xs))\n}\n\n", 40)[:4096]
			req := engine.Request{Segments: lineCanvas(prefix, suffix, 16), Opts: c.opts, Sources: []string{source}}
			slots, steps := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				res, err := d.Infill(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				slots += 16
				steps += res.Steps
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(1000*sec/float64(b.N), "ms/infill")
			b.ReportMetric(float64(slots)/sec, "slots/s")
			b.ReportMetric(float64(steps)/float64(b.N), "steps/infill")
			reportMemory(b)
		})
	}
}

// BenchmarkConcurrentInfill is C clients filling at once, each its own
// 16-slot hole in its own canvas, with batching off (Batch 1: one request
// at a time, each to its end) and on (Settings.Batch = DefaultBatch:
// concurrent steps share forward passes). One iteration is one request
// from every client; compare requests/s of off and on within one run.
// DFIM_BENCH_MODEL=FILE.gguf adds a model of your own.
func BenchmarkConcurrentInfill(b *testing.B) {
	models := []struct {
		name string
		open func(s Settings) *Denoiser
	}{{"q8_0", func(s Settings) *Denoiser { return newTiny(b, benchConfig(gguf.TypeQ8_0), s) }}}
	file := func(path string) func(s Settings) *Denoiser {
		return func(s Settings) *Denoiser {
			d, err := Open(engine.Config{Model: path}, s)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { d.Close() })
			return d
		}
	}
	if _, ok := builtin.Model(); ok {
		models = append(models, struct {
			name string
			open func(s Settings) *Denoiser
		}{"builtin", file("")})
	}
	// DFIM_BENCH_MODEL adds a GGUF file of your own (a bigger model, whose
	// weights do not stay in cache, gains more from sharing passes).
	if path := os.Getenv("DFIM_BENCH_MODEL"); path != "" {
		models = append(models, struct {
			name string
			open func(s Settings) *Denoiser
		}{filepath.Base(path), file(path)})
	}
	for _, m := range models {
		for _, clients := range []int{1, 4, 16} {
			for _, batch := range []int{1, DefaultBatch} {
				name := "off"
				if batch > 1 {
					name = "on"
				}
				b.Run(fmt.Sprintf("%s/clients=%d/batch=%s", m.name, clients, name), func(b *testing.B) {
					s := DefaultSettings
					s.Batch = batch
					d := m.open(s)
					reqs := make([]engine.Request, clients)
					for c := range reqs {
						prefix := fmt.Sprintf("func f%d(xs []int) int {\n", c) + strings.Repeat(fmt.Sprintf("\tv%d := compute(a, b)\n", c), 8) + "\treturn "
						reqs[c] = engine.Request{Segments: lineCanvas(prefix, "\n}\n", 16), Opts: engine.Options{Steps: 8, Seed: uint64(c)}}
					}
					var lat []time.Duration
					var mu sync.Mutex
					for b.Loop() {
						var wg sync.WaitGroup
						for _, req := range reqs {
							wg.Go(func() {
								t0 := time.Now()
								if _, err := d.Infill(context.Background(), req); err != nil {
									b.Error(err)
								}
								mu.Lock()
								lat = append(lat, time.Since(t0))
								mu.Unlock()
							})
						}
						wg.Wait()
					}
					slices.Sort(lat)
					b.ReportMetric(float64(b.N*clients)/b.Elapsed().Seconds(), "requests/s")
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
				})
			}
		}
	}
}

// BenchmarkKeystroke is the request after each keystroke at one place of
// a 600-token canvas (a character typed before a 16-slot hole, the text
// after it unchanged), with the caches of issue 29 (the keys of the text
// on both sides of the hole reused across requests, refreshes keeping
// them, cached steps over the current block) and with those before it
// (prefix only, every refresh over every row, steps over the whole hole).
// One iteration is one keystroke's request; PrefixReuse bounds the reuse,
// so every fifth is exact. DFIM_BENCH_MODEL=FILE.gguf adds a model of
// your own. Compare the ratios within one run: the machines are shared.
func BenchmarkKeystroke(b *testing.B) {
	models := []struct {
		name string
		open func(s Settings) *Denoiser
	}{{"q8_0", func(s Settings) *Denoiser { return newTiny(b, benchConfig(gguf.TypeQ8_0), s) }}}
	if path := os.Getenv("DFIM_BENCH_MODEL"); path != "" {
		models = append(models, struct {
			name string
			open func(s Settings) *Denoiser
		}{filepath.Base(path), func(s Settings) *Denoiser {
			d, err := Open(engine.Config{Model: path}, s)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { d.Close() })
			return d
		}})
	}
	prefix := strings.Repeat("\tx := compute(a, b)\n", 20) + "\treturn "
	suffix := strings.Repeat("\ty := compute(b, a)\n", 10) + "}\n"
	typed := "total + compute(a, b)"
	for _, m := range models {
		for _, c := range []struct {
			name string
			s    Settings
		}{{"dual", DefaultSettings}, {"prefix-only", DefaultSettings}} {
			if c.name == "prefix-only" {
				c.s.WholeHole, c.s.PrefixOnly = true, true
			}
			b.Run(m.name+"/"+c.name, func(b *testing.B) {
				d := m.open(c.s)
				// Page the weights in first (a prefix too short to cache).
				if _, err := d.Infill(context.Background(), engine.Request{Segments: lineCanvas("x", "", 4)}); err != nil {
					b.Fatal(err)
				}
				steps, i := 0, 0
				var warm, exact []time.Duration // requests that reused keys, and those that computed all
				for b.Loop() {
					req := engine.Request{Segments: lineCanvas(prefix+typed[:i%len(typed)], suffix, 16),
						Opts: engine.Options{Steps: 8, ExactLength: true}}
					t0 := time.Now()
					res, err := d.Infill(context.Background(), req)
					if err != nil {
						b.Fatal(err)
					}
					if took := time.Since(t0); d.prefixes[0].uses > 0 {
						warm = append(warm, took)
					} else {
						exact = append(exact, took)
					}
					steps += res.Steps
					i++
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/keystroke")
				b.ReportMetric(float64(steps)/float64(b.N), "steps/keystroke")
				mean := func(ds []time.Duration) float64 {
					var sum time.Duration
					for _, d := range ds {
						sum += d
					}
					return float64(sum.Microseconds()) / 1000 / float64(max(len(ds), 1))
				}
				b.ReportMetric(mean(warm), "warm-ms")
				b.ReportMetric(mean(exact), "exact-ms")
			})
		}
	}
}
