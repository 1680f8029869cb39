package native

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/native/gguf"
	"github.com/dfim/dfim/engine/native/kernels"
)

// The tiny models of these tests have a byte-level vocabulary: four
// special tokens, then the 256 bytes (as GPT-2's byte-to-unicode strings),
// and no merges.
const (
	tokPad    = 0
	tokEOS    = 1
	tokMask   = 2
	tokBOS    = 3
	firstByte = 4
	tinyVocab = firstByte + 256
)

type tinyConfig struct {
	arch                         string
	embd, layers, heads, kvHeads int
	ffn, context                 int
	typ                          gguf.Type // of the weight matrices and token_embd
	qkNorm                       bool
	tied                         bool // no output.weight
	zeroOutput                   bool // output.weight all zeros: every logit ties, so argmax picks pad
	vocab                        int  // 0 = tinyVocab; more adds filler tokens
	seed                         uint64
	omit                         string   // a tensor to leave out
	misshape                     string   // a tensor to write one row short
	outScale                     float64  // scales output.weight: > 1 makes the model confident
	noShiftKey                   bool     // leave out diffusion.shift_logits
	noBias                       bool     // dream without attn_q/k/v.bias
	extra                        []string // more tensors of every layer, after "blk.N.": biases (random) or anything
	// spans makes the last two tokens DreamOn's <|expand|> and <|delete|>
	// (control tokens) and the length mode expand-delete; vocab must
	// leave room past the bytes.
	spans bool
}

// shifts reports whether the model's logits are shifted, as llama.cpp's
// diffusion CLI decides: diffusion.shift_logits, true when absent.
func (c tinyConfig) shifts() bool { return c.noShiftKey || c.arch == "dream" }

// kquant is a llada model whose matrices are whole K-quant blocks (256
// values) on their input side.
func kquant(typ gguf.Type) tinyConfig {
	return tinyConfig{arch: "llada", embd: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, context: 512, typ: typ, seed: 5}
}

func llada(typ gguf.Type) tinyConfig {
	return tinyConfig{arch: "llada", embd: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, context: 512, typ: typ, seed: 1}
}

func dream(typ gguf.Type) tinyConfig {
	return tinyConfig{arch: "dream", embd: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, context: 512, typ: typ, tied: true, qkNorm: true, seed: 2}
}

// refModel is the tiny model's weights as the file holds them, decoded to
// float64, for the reference forward pass.
type refModel struct {
	cfg     tinyConfig
	hd      int
	tensors map[string][]float64
	outName string
}

// gpt2Bytes is GPT-2's byte-to-unicode table: printable bytes stand for
// themselves, the others for code points from 256 up.
func gpt2Bytes() [256]string {
	var t [256]string
	n := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			t[b] = string(rune(b))
		} else {
			t[b] = string(rune(256 + n))
			n++
		}
	}
	return t
}

// newTinyWriter starts a GGUF file of cfg's architecture and shape, named
// "NAME ARCH", with a byte-level tokenizer of vocab tokens (the 256 byte
// tokens and the specials, the rest filler): the keys every test model has.
func newTinyWriter(cfg tinyConfig, name string, vocab int) *gguf.Writer {
	w := gguf.NewWriter()
	a := cfg.arch
	w.SetString("general.architecture", a)
	w.SetString("general.name", name+" "+a)
	w.SetUint32(a+".context_length", uint32(cfg.context))
	w.SetUint32(a+".embedding_length", uint32(cfg.embd))
	w.SetUint32(a+".block_count", uint32(cfg.layers))
	w.SetUint32(a+".feed_forward_length", uint32(cfg.ffn))
	w.SetUint32(a+".attention.head_count", uint32(cfg.heads))
	w.SetUint32(a+".attention.head_count_kv", uint32(cfg.kvHeads))
	w.SetFloat32(a+".attention.layer_norm_rms_epsilon", 1e-5)
	w.SetFloat32(a+".rope.freq_base", 10000)
	w.SetUint32(a+".vocab_size", uint32(vocab))
	if !cfg.noShiftKey {
		w.SetBool("diffusion.shift_logits", a == "dream")
	}

	tokens := []string{"<|pad|>", "<|eos|>", "<|mask|>", "<|bos|>"}
	types := []int32{3, 3, 3, 3}
	for _, s := range gpt2Bytes() {
		tokens = append(tokens, s)
		types = append(types, 1)
	}
	for i := len(tokens); i < vocab; i++ {
		tokens = append(tokens, "filler"+strconv.Itoa(i))
		types = append(types, 1)
	}
	if cfg.spans {
		tokens[vocab-2], tokens[vocab-1] = "<|expand|>", "<|delete|>"
		types[vocab-2], types[vocab-1] = 3, 3
		w.SetString(LengthModeKey, LengthExpandDelete)
		w.SetUint32(ExpandTokenKey, uint32(vocab-2))
		w.SetUint32(DeleteTokenKey, uint32(vocab-1))
	}
	w.SetString("tokenizer.ggml.model", "gpt2")
	w.SetString("tokenizer.ggml.pre", "default")
	w.SetStrings("tokenizer.ggml.tokens", tokens)
	w.SetInt32s("tokenizer.ggml.token_type", types)
	w.SetStrings("tokenizer.ggml.merges", []string{})
	w.SetUint32("tokenizer.ggml.padding_token_id", tokPad)
	w.SetUint32("tokenizer.ggml.eos_token_id", tokEOS)
	w.SetUint32("tokenizer.ggml.mask_token_id", tokMask)
	w.SetUint32("tokenizer.ggml.bos_token_id", tokBOS)
	w.SetBool("tokenizer.ggml.add_bos_token", false)
	return w
}

// buildTiny writes a random model of cfg as GGUF bytes and returns them
// with the reference weights.
func buildTiny(t testing.TB, cfg tinyConfig) ([]byte, *refModel) {
	t.Helper()
	r := rand.New(rand.NewPCG(cfg.seed, 99))
	vocab := max(cfg.vocab, tinyVocab)
	w := newTinyWriter(cfg, "tiny", vocab)
	a := cfg.arch

	ref := &refModel{cfg: cfg, hd: cfg.embd / cfg.heads, tensors: map[string][]float64{}}
	hd := ref.hd
	qd, kvd := cfg.heads*hd, cfg.kvHeads*hd
	vec := func(name string, n int, mean, scale float64) {
		v := make([]float32, n)
		ref64 := make([]float64, n)
		for i := range v {
			v[i] = float32(mean + scale*r.NormFloat64())
			ref64[i] = float64(v[i])
		}
		if name == cfg.omit {
			return
		}
		if err := w.AddF32(name, []uint64{uint64(n)}, v); err != nil {
			t.Fatal(err)
		}
		ref.tensors[name] = ref64
	}
	mat := func(name string, out, in int, zero bool) {
		if name == cfg.omit {
			return
		}
		if name == cfg.misshape {
			out--
		}
		v := make([]float32, out*in)
		if !zero {
			s := 1 / math.Sqrt(float64(in))
			if name == "output.weight" && cfg.outScale > 0 {
				s *= cfg.outScale
			}
			for i := range v {
				v[i] = float32(s * r.NormFloat64())
			}
		}
		ref.tensors[name] = encode(t, w, name, cfg.typ, []uint64{uint64(in), uint64(out)}, v)
	}
	mat("token_embd.weight", vocab, cfg.embd, false)
	for l := range cfg.layers {
		p := "blk." + strconv.Itoa(l) + "."
		vec(p+"attn_norm.weight", cfg.embd, 1, 0.1)
		mat(p+"attn_q.weight", qd, cfg.embd, false)
		mat(p+"attn_k.weight", kvd, cfg.embd, false)
		mat(p+"attn_v.weight", kvd, cfg.embd, false)
		if a == "dream" && !cfg.noBias {
			vec(p+"attn_q.bias", qd, 0, 0.1)
			vec(p+"attn_k.bias", kvd, 0, 0.1)
			vec(p+"attn_v.bias", kvd, 0, 0.1)
		}
		if cfg.qkNorm {
			vec(p+"attn_q_norm.weight", hd, 1, 0.1)
			vec(p+"attn_k_norm.weight", hd, 1, 0.1)
		}
		mat(p+"attn_output.weight", cfg.embd, qd, false)
		vec(p+"ffn_norm.weight", cfg.embd, 1, 0.1)
		mat(p+"ffn_gate.weight", cfg.ffn, cfg.embd, false)
		mat(p+"ffn_up.weight", cfg.ffn, cfg.embd, false)
		mat(p+"ffn_down.weight", cfg.embd, cfg.ffn, false)
		for _, x := range cfg.extra {
			n := cfg.embd
			switch {
			case strings.HasPrefix(x, "ffn_up") || strings.HasPrefix(x, "ffn_gate"):
				n = cfg.ffn
			case x == "attn_k.bias" || x == "attn_v.bias":
				n = kvd
			}
			vec(p+x, n, 0, 0.5)
		}
	}
	vec("output_norm.weight", cfg.embd, 1, 0.1)
	ref.outName = "token_embd.weight"
	if !cfg.tied {
		mat("output.weight", vocab, cfg.embd, cfg.zeroOutput)
		ref.outName = "output.weight"
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ref
}

// encode adds a weight matrix in typ and returns the values the file holds.
func encode(t testing.TB, w *gguf.Writer, name string, typ gguf.Type, dims []uint64, v []float32) []float64 {
	t.Helper()
	out := make([]float64, len(v))
	var err error
	switch typ {
	case gguf.TypeF32:
		err = w.AddF32(name, dims, v)
		for i, x := range v {
			out[i] = float64(x)
		}
	case gguf.TypeF16:
		raw := make([]byte, 2*len(v))
		for i, x := range v {
			h := gguf.Float32ToFloat16(x)
			raw[2*i], raw[2*i+1] = byte(h), byte(h>>8)
			out[i] = float64(gguf.Float16ToFloat32(h))
		}
		err = w.AddTensor(name, typ, dims, raw)
	case gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K,
		gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeIQ4_NL, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeIQ4_XS:
		raw := randomBlocks(typ, name, v)
		deq := make([]float32, len(v))
		if err := kernels.DequantizeBlocks(typ.String(), deq, raw); err != nil {
			t.Fatalf("decoding %s: %v", name, err)
		}
		for i, x := range deq {
			out[i] = float64(x)
		}
		err = w.AddTensor(name, typ, dims, raw)
	case gguf.TypeQ8_0:
		raw := gguf.QuantizeQ8_0(v)
		deq := make([]float32, len(v))
		gguf.DequantizeQ8_0(deq, raw)
		for i, x := range deq {
			out[i] = float64(x)
		}
		err = w.AddTensor(name, typ, dims, raw)
	default:
		if !typ.Known() || typ.BlockLen() == 1 {
			t.Fatalf("encode: type %v", typ)
		}
		// A block type the engine does not compute with: random bytes,
		// for tests of the refusal (the reference stays zero).
		err = w.AddTensor(name, typ, dims, randomBlocks(typ, name, v))
	}
	if err != nil {
		t.Fatalf("adding %s: %v", name, err)
	}
	return out
}

// randomBlocks makes len(v) values of a ggml block type from random bytes,
// with scales that give them about the RMS of v (the weights are random
// anyway; kernels' tests check the decoders against ggml's layouts).
func randomBlocks(typ gguf.Type, name string, v []float32) []byte {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	s := math.Sqrt(ss / float64(max(len(v), 1)))
	var h uint64
	for _, c := range name {
		h = h*31 + uint64(c)
	}
	r := rand.New(rand.NewPCG(h, uint64(len(v))))
	size, _ := typ.RowSize(uint64(len(v)))
	raw := make([]byte, size)
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	put := func(b []byte, f float64) {
		u := gguf.Float32ToFloat16(float32(f))
		b[0], b[1] = byte(u), byte(u>>8)
	}
	bs := int(typ.BlockSize())
	for b := 0; b+bs <= len(raw); b += bs {
		blk := raw[b : b+bs]
		switch typ {
		case gguf.TypeQ4_0:
			put(blk, s/4.6)
		case gguf.TypeQ4_K: // d·sc·q − dmin·m, centred when dmin = 7.5·d
			put(blk, s/220)
			put(blk[2:], 7.5*s/220)
		case gguf.TypeQ5_K:
			put(blk, s/440)
			put(blk[2:], 15.5*s/440)
		case gguf.TypeQ6_K:
			put(blk[208:], s/1370)
		case gguf.TypeQ4_1: // d·q + m, centred when m = −7.5·d
			put(blk, s/4.6)
			put(blk[2:], -7.5*s/4.6)
		case gguf.TypeQ5_0:
			put(blk, s/9.2)
		case gguf.TypeQ5_1:
			put(blk, s/9.2)
			put(blk[2:], -15.5*s/9.2)
		case gguf.TypeIQ4_NL:
			put(blk, s/70)
		case gguf.TypeQ2_K: // d·sc·q − dmin·m, centred when dmin = 1.5·d
			put(blk[80:], s/10)
			put(blk[82:], 1.5*s/10)
		case gguf.TypeQ3_K:
			put(blk[108:], s/42)
		case gguf.TypeIQ4_XS:
			put(blk, s/1300)
		}
	}
	return raw
}

// roundQ8K rounds x (whole blocks of 256) as ggml's quantize_row_q8_K_ref
// and back: per block, iscale = −127/max (max the value of largest
// magnitude), q = min(127, nearest(iscale·x)), x ≈ q/iscale.
func roundQ8K(x []float32) {
	for b := 0; b < len(x); b += 256 {
		blk := x[b : b+256]
		var amax, mx float32
		for _, v := range blk {
			if a := float32(math.Abs(float64(v))); a > amax {
				amax, mx = a, v
			}
		}
		if amax == 0 {
			continue
		}
		iscale := -127 / mx
		d := 1 / iscale
		for i, v := range blk {
			blk[i] = float32(min(127, math.RoundToEven(float64(iscale*v)))) * d
		}
	}
}

// forward is the slow, obvious reference: float64, every position, logits
// for every position (shifted as the architecture says).
func (m *refModel) forward(tokens []int32) [][]float64 {
	cfg := m.cfg
	T, d, hd := len(tokens), cfg.embd, m.hd
	qd, kvd := cfg.heads*hd, cfg.kvHeads*hd
	const eps = 1e-5
	W := m.tensors
	rms := func(x, w []float64) []float64 {
		var ss float64
		for _, v := range x {
			ss += v * v
		}
		s := 1 / math.Sqrt(ss/float64(len(x))+eps)
		out := make([]float64, len(x))
		for i := range x {
			out[i] = x[i] * s * w[i]
		}
		return out
	}
	linear := func(x []float64, w []float64, out int) []float64 {
		in := len(x)
		switch cfg.typ {
		case gguf.TypeF16:
			// f16 weights meet activations rounded to f16, as in llama.cpp.
			for i, v := range x {
				x[i] = float64(gguf.Float16ToFloat32(gguf.Float32ToFloat16(float32(v))))
			}
		case gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K,
			gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeIQ4_NL, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeIQ4_XS:
			// As llama.cpp does on a CPU, q8_0, q4_0, q5_0 and iq4_nl
			// weights meet activations quantized to q8_0 blocks (q4_1 and
			// q5_1 to q8_1: the same quants), the K-quants and iq4_xs
			// activations quantized to q8_K.
			x32 := make([]float32, in)
			for i, v := range x {
				x32[i] = float32(v)
			}
			switch cfg.typ {
			case gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1, gguf.TypeIQ4_NL:
				gguf.DequantizeQ8_0(x32, gguf.QuantizeQ8_0(x32))
			default:
				roundQ8K(x32)
			}
			x = make([]float64, in)
			for i, v := range x32 {
				x[i] = float64(v)
			}
		}
		y := make([]float64, out)
		for o := range out {
			for i := range in {
				y[o] += x[i] * w[o*in+i]
			}
		}
		return y
	}
	rope := func(x []float64, heads, pos int) {
		for h := range heads {
			v := x[h*hd : (h+1)*hd]
			for i := 0; i < hd/2; i++ {
				theta := float64(pos) * math.Pow(10000, -2*float64(i)/float64(hd))
				c, s := math.Cos(theta), math.Sin(theta)
				a, b := 2*i, 2*i+1
				if cfg.arch == "dream" {
					a, b = i, i+hd/2
				}
				v[a], v[b] = v[a]*c-v[b]*s, v[a]*s+v[b]*c
			}
		}
	}
	x := make([][]float64, T)
	for p, tok := range tokens {
		x[p] = append([]float64(nil), W["token_embd.weight"][int(tok)*d:int(tok+1)*d]...)
	}
	for l := range cfg.layers {
		pre := fmt.Sprintf("blk.%d.", l)
		q := make([][]float64, T)
		k := make([][]float64, T)
		v := make([][]float64, T)
		for p := range T {
			h := rms(x[p], W[pre+"attn_norm.weight"])
			q[p] = linear(h, W[pre+"attn_q.weight"], qd)
			k[p] = linear(h, W[pre+"attn_k.weight"], kvd)
			v[p] = linear(h, W[pre+"attn_v.weight"], kvd)
			for _, bv := range []struct {
				name string
				x    []float64
			}{{"attn_q.bias", q[p]}, {"attn_k.bias", k[p]}, {"attn_v.bias", v[p]}} {
				if b, ok := W[pre+bv.name]; ok {
					for i := range bv.x {
						bv.x[i] += b[i]
					}
				}
			}
			if qn, ok := W[pre+"attn_q_norm.weight"]; ok {
				for h := range cfg.heads {
					copy(q[p][h*hd:], rms(q[p][h*hd:(h+1)*hd], qn))
				}
				for h := range cfg.kvHeads {
					copy(k[p][h*hd:], rms(k[p][h*hd:(h+1)*hd], W[pre+"attn_k_norm.weight"]))
				}
			}
			rope(q[p], cfg.heads, p)
			rope(k[p], cfg.kvHeads, p)
		}
		group := cfg.heads / cfg.kvHeads
		for p := range T {
			att := make([]float64, qd)
			for h := range cfg.heads {
				g := h / group
				scores := make([]float64, T)
				mx := math.Inf(-1)
				for j := range T { // bidirectional: every position
					for i := range hd {
						scores[j] += q[p][h*hd+i] * k[j][g*hd+i]
					}
					scores[j] /= math.Sqrt(float64(hd))
					mx = math.Max(mx, scores[j])
				}
				var z float64
				for j := range scores {
					scores[j] = math.Exp(scores[j] - mx)
					z += scores[j]
				}
				for j := range T {
					for i := range hd {
						att[h*hd+i] += scores[j] / z * v[j][g*hd+i]
					}
				}
			}
			o := linear(att, W[pre+"attn_output.weight"], d)
			// llama.cpp's llada graph leaves attn_output.bias out.
			if b, ok := W[pre+"attn_output.bias"]; ok && cfg.arch != "llada" {
				for i := range d {
					o[i] += b[i]
				}
			}
			for i := range d {
				x[p][i] += o[i]
			}
			h := rms(x[p], W[pre+"ffn_norm.weight"])
			gate := linear(h, W[pre+"ffn_gate.weight"], cfg.ffn)
			up := linear(h, W[pre+"ffn_up.weight"], cfg.ffn)
			for i := range gate {
				gate[i] = gate[i] / (1 + math.Exp(-gate[i])) * up[i]
			}
			down := linear(gate, W[pre+"ffn_down.weight"], d)
			for i := range d {
				x[p][i] += down[i]
			}
		}
	}
	hidden := make([][]float64, T)
	for p := range T {
		hidden[p] = linear(rms(x[p], W["output_norm.weight"]), W[m.outName], max(cfg.vocab, tinyVocab))
	}
	if !cfg.shifts() {
		return hidden
	}
	logits := make([][]float64, T)
	for p := range T {
		logits[p] = hidden[max(p-1, 0)]
	}
	return logits
}
