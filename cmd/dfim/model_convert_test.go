package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/dfim/dfim/engine/native/gguf"
)

// tinyDream returns the files of a tiny Dream checkpoint as the family
// publishes it (Qwen2 layout with q/k/v biases, bf16, two shards with an
// index, a byte-level BPE tokenizer.json): random weights, so what it
// fills is noise, but every step from the Hub to the engine is the real one.
func tinyDream(t *testing.T) map[string][]byte {
	t.Helper()
	const embd, heads, kv, ffn, layers, vocab = 64, 4, 2, 96, 2, 272
	const eos, mask = 258, 259
	hd := embd / heads
	r := rand.New(rand.NewPCG(1, 2))
	type tensor struct {
		name  string
		shape []int
	}
	var ts []tensor
	add := func(name string, shape ...int) { ts = append(ts, tensor{name, shape}) }
	add("model.embed_tokens.weight", vocab, embd)
	for i := range layers {
		b := fmt.Sprintf("model.layers.%d.", i)
		add(b+"input_layernorm.weight", embd)
		add(b+"self_attn.q_proj.weight", heads*hd, embd)
		add(b+"self_attn.k_proj.weight", kv*hd, embd)
		add(b+"self_attn.v_proj.weight", kv*hd, embd)
		add(b+"self_attn.q_proj.bias", heads*hd)
		add(b+"self_attn.k_proj.bias", kv*hd)
		add(b+"self_attn.v_proj.bias", kv*hd)
		add(b+"self_attn.o_proj.weight", embd, heads*hd)
		add(b+"post_attention_layernorm.weight", embd)
		add(b+"mlp.gate_proj.weight", ffn, embd)
		add(b+"mlp.up_proj.weight", ffn, embd)
		add(b+"mlp.down_proj.weight", embd, ffn)
	}
	add("model.norm.weight", embd)
	add("lm_head.weight", vocab, embd)

	shard := func(part []tensor) []byte {
		header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
		var body []byte
		for _, x := range part {
			start, n := len(body), 1
			for _, d := range x.shape {
				n *= d
			}
			norm := strings.HasSuffix(x.name, "norm.weight")
			for range n {
				v := float32(r.NormFloat64() * 0.125)
				if norm {
					v += 1
				}
				body = binary.LittleEndian.AppendUint16(body, gguf.Float32ToBFloat16(v))
			}
			header[x.name] = map[string]any{"dtype": "BF16", "shape": x.shape, "data_offsets": []int{start, len(body)}}
		}
		h, _ := json.Marshal(header)
		for len(h)%8 != 0 {
			h = append(h, ' ')
		}
		return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), body...)
	}
	files := map[string][]byte{}
	weightMap := map[string]string{}
	half := len(ts) / 2
	for i, part := range [][]tensor{ts[:half], ts[half:]} {
		name := fmt.Sprintf("model-%05d-of-00002.safetensors", i+1)
		files[name] = shard(part)
		for _, x := range part {
			weightMap[x.name] = name
		}
	}
	js := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	files["model.safetensors.index.json"] = js(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	files["config.json"] = js(map[string]any{"architectures": []string{"DreamModel"}, "hidden_size": embd,
		"num_attention_heads": heads, "num_key_value_heads": kv, "num_hidden_layers": layers, "intermediate_size": ffn,
		"max_position_embeddings": 128, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "vocab_size": vocab,
		"tie_word_embeddings": false, "eos_token_id": eos, "pad_token_id": eos, "mask_token_id": mask})

	// GPT-2's byte-to-unicode table, two merges, three special tokens.
	voc := map[string]int{}
	n := 0
	for b := range 256 {
		s := string(rune(256 + n))
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			s = string(rune(b))
		} else {
			n++
		}
		voc[s] = b
	}
	sp := string(rune(256 + 32)) // the space: byte 32 is the 33rd unprintable byte
	voc[sp+"t"], voc["he"] = 256, 257
	const qwen2Split = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	files["tokenizer.json"] = js(map[string]any{
		"added_tokens": []map[string]any{
			{"id": eos, "content": "<|endoftext|>", "special": true},
			{"id": mask, "content": "<|mask|>", "special": true},
			{"id": 260, "content": "<|beginoftext|>", "special": true},
		},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]string{"Regex": qwen2Split}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		}},
		"model": map[string]any{"type": "BPE", "vocab": voc, "merges": []string{sp + " t", "h e"}},
	})
	files["tokenizer_config.json"] = js(map[string]any{"bos_token": "<|beginoftext|>", "eos_token": "<|endoftext|>",
		"pad_token": "<|endoftext|>", "mask_token": map[string]any{"content": "<|mask|>"}, "add_bos_token": false})
	return files
}

// TestModelPullConvertsCheckpoint: a tiny Dream checkpoint on the
// stand-in Hub (shards served through the CDN host, one cut mid-file and
// resumed) is pulled, converted to GGUF by engine/models/convert, passes
// dfim model info's checks, and dfim fill --model NAME answers from it as
// from the converted file.
func TestModelPullConvertsCheckpoint(t *testing.T) {
	srv := hubEnv(t)
	files := tinyDream(t)
	for name, data := range files {
		srv.AddFile("dfim-test/tiny-dream", name, data, strings.HasSuffix(name, ".safetensors"))
	}
	srv.CutAfter("model-00002-of-00002.safetensors", 1000)
	const ref = "hf:dfim-test/tiny-dream"
	if code, _, stderr := runCLI(t, "model", "pull", "--quant", "q8_0", ref); code != exitFailed || !strings.Contains(stderr, "resume") {
		t.Fatalf("pull with a cut: exit %d, %q", code, stderr)
	}
	code, out, stderr := runCLI(t, "model", "pull", "--quant", "q8_0", ref)
	if code != exitOK {
		t.Fatalf("pull: exit %d\n%s", code, stderr)
	}
	name, path, _ := strings.Cut(strings.TrimSpace(out), "\t")
	if name != ref+":q8_0" {
		t.Fatalf("registered as %q, want %s:q8_0", name, ref)
	}
	var ranged bool
	for _, r := range srv.Requests() {
		ranged = ranged || (r.Host == "cdn" && r.Range == "bytes=1000-")
	}
	if !ranged {
		t.Errorf("the cut shard was not resumed with Range: %+v", srv.Requests())
	}
	if code, out, stderr := runCLI(t, "model", "info", name); code != exitOK || !strings.Contains(out, "architecture  dream") || !strings.Contains(out, "family        dream; infilling prefix + masks + suffix, length fixed") {
		t.Fatalf("model info %s: exit %d\n%s%s", name, code, out, stderr)
	}
	pos := goFile(t) + ":5:2"
	fill := func(model string) (int, fillJSON) {
		code, out, stderr := runCLI(t, "fill", "--json", "--model", model, "--seed", "1", pos)
		var j fillJSON
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			t.Fatalf("fill --model %s: exit %d, stdout %q: %v\n%s", model, code, out, err, stderr)
		}
		j.LatencyMS = 0
		return code, j
	}
	wantCode, want := fill(path)
	if code, got := fill(name); code != wantCode || !reflect.DeepEqual(got, want) {
		t.Errorf("fill --model %s: exit %d, %+v; from the file: exit %d, %+v", name, code, got, wantCode, want)
	}
}
