package native

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dfim/dfim/engine"
	"github.com/dfim/dfim/engine/native/gguf"
)

// largeConfig is TinyLlama-1.1B's shape (d=2048, 22 layers, 32 heads
// sharing 4 key/value heads, feed-forward 5632, 32000 tokens): 1.10B
// parameters, a file of 591 MiB in q4_K.
var largeConfig = tinyConfig{arch: "llada", embd: 2048, layers: 22, heads: 32, kvHeads: 4, ffn: 5632,
	context: 2048, vocab: 32000, typ: gguf.TypeQ4_K, seed: 7}

// TestLargeQ4KModel is issue 15's "a random-weight file of about 1B
// parameters in Q4_K must load and step": written to disk, opened as dfim
// opens a model (memory-mapped), with the matrices read in place rather
// than copied to the heap, and one forward pass and one denoising step on
// a short canvas give finite logits.
func TestLargeQ4KModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "large-q4_k.gguf")
	t0 := time.Now()
	writeLargeModel(t, path, "large", largeConfig)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	size := st.Size()
	written := time.Since(t0)

	heapBefore := liveHeap()
	t0 = time.Now()
	d, err := Open(engine.Config{Model: path}, DefaultSettings)
	if err != nil {
		t.Fatalf("opening the 1B model: %v", err)
	}
	defer d.Close()
	loaded := time.Since(t0)
	heapGrowth := int64(liveHeap()) - int64(heapBefore)

	m := d.Model()
	if m.Params < 1.0e9 || m.Params > 1.2e9 {
		t.Errorf("%d parameters, want about 1.1B", m.Params)
	}
	// What `dfim model info` reports: every matrix read in place from the
	// mapping (token_embd's included), only the norms on the heap.
	var matrices, vectors int64
	for _, ti := range d.file.Tensors {
		if len(ti.Dims) == 2 {
			matrices += int64(len(ti.Data))
		} else {
			vectors += int64(len(ti.Data))
		}
	}
	if m.MappedBytes != matrices || m.HeapBytes != vectors {
		t.Errorf("model info: %d bytes read in place, %d on the heap; want the matrices' %d and the vectors' %d", m.MappedBytes, m.HeapBytes, matrices, vectors)
	}
	// Loading must not copy the weights: the heap grows by the tokenizer and
	// the norms, not by the 591 MiB of blocks.
	if heapGrowth > size/20 {
		t.Errorf("opening a %d MiB file grew the live heap by %d MiB; the weights should stay in the mapping", size>>20, heapGrowth>>20)
	}

	t0 = time.Now()
	toks := randomTokens(newRand(3), 16)
	logits, err := d.Logits(toks)
	if err != nil {
		t.Fatal(err)
	}
	forward := time.Since(t0)
	if len(logits) != len(toks)*m.Vocab {
		t.Fatalf("%d logits, want %d positions of %d", len(logits), len(toks), m.Vocab)
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for i, x := range logits {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("logit %d (position %d, token %d) is %v", i, i/m.Vocab, i%m.Vocab, x)
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	if hi-lo < 1 {
		t.Errorf("logits span [%g, %g]: the random model should spread them over several units", lo, hi)
	}

	t0 = time.Now()
	res, err := d.Infill(context.Background(), engine.Request{Segments: lineCanvas("x := ", "\n", 4),
		Opts: engine.Options{Steps: 1, ExactLength: true, Experts: "none"}})
	if err != nil {
		t.Fatalf("Infill: %v", err)
	}
	step := time.Since(t0)
	if res.Steps != 1 || len(res.Candidates) != 1 || res.Candidates[0].Tokens[0] != 4 {
		t.Errorf("one step over a hole of 4 slots gave %+v; want 1 step and 4 tokens", res)
	}
	t.Logf("%.2fB parameters, %d MiB file: written in %v, opened in %v (live heap +%.1f MiB), 16-token forward %v, 1-step fill %v; model info %d MiB in place, %.1f MiB heap, %d MiB keys/values; resident %s after",
		float64(m.Params)/1e9, size>>20, written.Round(time.Millisecond), loaded.Round(time.Millisecond), float64(heapGrowth)/(1<<20),
		forward.Round(time.Millisecond), step.Round(time.Millisecond), m.MappedBytes>>20, float64(m.HeapBytes)/(1<<20), m.KVBytes>>20, residentSet())
}

// liveHeap is the heap's live bytes after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// residentSet is /proc/self/status's VmRSS, or "?" where there is none.
func residentSet() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			if kb, err := strconv.Atoi(f[1]); err == nil {
				return strconv.Itoa(kb>>10) + " MiB"
			}
		}
	}
	return "?"
}

// writeLargeModel writes a random model of cfg (matrices in q4_K or q8_0,
// every input a whole number of blocks; QKV biases for dream unless
// cfg.noBias) to path, with the tiny models' metadata, named name, and
// byte-level vocabulary padded with filler tokens. Its matrices are
// windows, at different block offsets, of two pools of random blocks (one
// per input width, scaled as buildTiny scales its weights), so writing
// 591 MiB takes about 40 MiB of memory.
func writeLargeModel(t *testing.T, path, name string, cfg tinyConfig) {
	t.Helper()
	w := newTinyWriter(cfg, name, cfg.vocab)

	r := rand.New(rand.NewPCG(cfg.seed, 99))
	// scale stamps a block's scales so that its weights' RMS is s; room
	// is the blocks per layer a pool has spare to shift windows by.
	var blockLen, blockSize, room int
	var scale func(block []byte, s float64)
	switch cfg.typ {
	case gguf.TypeQ4_K:
		blockLen, blockSize, room = 256, 144, 7
		scale = func(b []byte, s float64) { // randomBlocks' scales for that RMS
			put16(b, s/220)
			put16(b[2:], 7.5*s/220)
		}
	case gguf.TypeQ8_0:
		blockLen, blockSize, room = 32, 34, 8 // a float16 scale, 32 int8
		// Uniform int8 has an RMS of about 74.
		scale = func(b []byte, s float64) { put16(b, s/74) }
	default:
		t.Fatalf("writeLargeModel writes q4_K or q8_0 matrices, not %v", cfg.typ)
	}
	type pool struct {
		raw  []byte
		next int // the block the next window starts at
	}
	newPool := func(in, rows int) *pool {
		extra := 4 * cfg.layers * room // room to shift each matrix's window
		raw := make([]byte, (rows*in/blockLen+extra)*blockSize)
		for i := 0; i+8 <= len(raw); i += 8 {
			u := r.Uint64()
			for j := range 8 {
				raw[i+j] = byte(u >> (8 * j))
			}
		}
		s := 1 / math.Sqrt(float64(in))
		for b := 0; b < len(raw); b += blockSize {
			scale(raw[b:], s)
		}
		return &pool{raw: raw}
	}
	wide := newPool(cfg.embd, cfg.vocab) // inputs of embd: every matrix but ffn_down
	deep := newPool(cfg.ffn, cfg.embd)
	mat := func(name string, out, in int) {
		p := wide
		if in == cfg.ffn {
			p = deep
		}
		n := out * in / blockLen * blockSize
		if p.next*blockSize+n > len(p.raw) {
			p.next = 0
		}
		if err := w.AddTensor(name, cfg.typ, []uint64{uint64(in), uint64(out)}, p.raw[p.next*blockSize:][:n]); err != nil {
			t.Fatal(err)
		}
		p.next += 3
	}
	vec := func(name string, n int, mean, sd float64) {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + sd*r.NormFloat64())
		}
		if err := w.AddF32(name, []uint64{uint64(n)}, v); err != nil {
			t.Fatal(err)
		}
	}
	hd := cfg.embd / cfg.heads
	mat("token_embd.weight", cfg.vocab, cfg.embd)
	for l := range cfg.layers {
		p := "blk." + strconv.Itoa(l) + "."
		vec(p+"attn_norm.weight", cfg.embd, 1, 0.1)
		mat(p+"attn_q.weight", cfg.heads*hd, cfg.embd)
		mat(p+"attn_k.weight", cfg.kvHeads*hd, cfg.embd)
		mat(p+"attn_v.weight", cfg.kvHeads*hd, cfg.embd)
		if cfg.arch == "dream" && !cfg.noBias {
			vec(p+"attn_q.bias", cfg.heads*hd, 0, 0.1)
			vec(p+"attn_k.bias", cfg.kvHeads*hd, 0, 0.1)
			vec(p+"attn_v.bias", cfg.kvHeads*hd, 0, 0.1)
		}
		mat(p+"attn_output.weight", cfg.embd, cfg.heads*hd)
		vec(p+"ffn_norm.weight", cfg.embd, 1, 0.1)
		mat(p+"ffn_gate.weight", cfg.ffn, cfg.embd)
		mat(p+"ffn_up.weight", cfg.ffn, cfg.embd)
		mat(p+"ffn_down.weight", cfg.embd, cfg.ffn)
	}
	vec("output_norm.weight", cfg.embd, 1, 0.1)
	mat("output.weight", cfg.vocab, cfg.embd)

	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		t.Fatalf("writing %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// put16 stores f as a little-endian float16.
func put16(b []byte, f float64) {
	u := gguf.Float32ToFloat16(float32(f))
	b[0], b[1] = byte(u), byte(u>>8)
}
