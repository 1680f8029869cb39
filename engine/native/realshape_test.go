package native

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/dfim/dfim/engine/native/gguf"
)

// qwen05Config is Qwen2.5-Coder-0.5B's shape as a dream model: d=896, 24
// layers, 14 heads sharing 2 key/value heads, feed-forward 4864, 151,936
// tokens, a 32K context (so a canvas is the whole file, as in issue 29).
var qwen05Config = tinyConfig{arch: "dream", embd: 896, layers: 24, heads: 14, kvHeads: 2, ffn: 4864,
	context: 32768, vocab: 151936, typ: gguf.TypeQ8_0, seed: 29}

// TestWriteRealShape writes a random-weight q8_0 model of
// Qwen2.5-Coder-0.5B's shape (about 0.5 GB) to the path in
// DFIM_REALSHAPE, for `dfim bench fill --model` and the issue-29
// measurements; without the variable it does nothing. Its vocabulary is
// the tiny models' bytes padded with filler tokens, so a canvas is one
// token per byte.
//
//	DFIM_REALSHAPE=/tmp/qwen05-q8_0.gguf go test -run TestWriteRealShape ./engine/native/
func TestWriteRealShape(t *testing.T) {
	path := os.Getenv("DFIM_REALSHAPE")
	if path == "" {
		t.Skip("set DFIM_REALSHAPE=FILE.gguf to write the 0.5B-shaped model there")
	}
	writeLargeQ8(t, path, qwen05Config)
}

// writeLargeQ8 writes a random dream model of cfg in q8_0 (QKV biases,
// an untied output) as writeLargeQ4K does: matrices are windows of pools
// of random blocks, so that writing takes little memory.
func writeLargeQ8(t *testing.T, path string, cfg tinyConfig) {
	t.Helper()
	w := newTinyWriter(cfg, "realshape", cfg.vocab)
	r := rand.New(rand.NewPCG(cfg.seed, 99))
	const blockLen, blockSize = 32, 34 // q8_0: a float16 scale, 32 int8
	type pool struct {
		raw  []byte
		next int
	}
	newPool := func(in, rows int) *pool {
		extra := 4 * cfg.layers * 8
		raw := make([]byte, (rows*in/blockLen+extra)*blockSize)
		for i := 0; i+8 <= len(raw); i += 8 {
			u := r.Uint64()
			for j := range 8 {
				raw[i+j] = byte(u >> (8 * j))
			}
		}
		// Uniform int8 has an RMS of about 74: scale so a weight's RMS is
		// 1/sqrt(in), as buildTiny's are.
		s := 1 / math.Sqrt(float64(in)) / 74
		for b := 0; b < len(raw); b += blockSize {
			put16(raw[b:], s)
		}
		return &pool{raw: raw}
	}
	wide := newPool(cfg.embd, cfg.vocab)
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
		if err := w.AddTensor(name, gguf.TypeQ8_0, []uint64{uint64(in), uint64(out)}, p.raw[p.next*blockSize:][:n]); err != nil {
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
		vec(p+"attn_q.bias", cfg.heads*hd, 0, 0.1)
		vec(p+"attn_k.bias", cfg.kvHeads*hd, 0, 0.1)
		vec(p+"attn_v.bias", cfg.kvHeads*hd, 0, 0.1)
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
