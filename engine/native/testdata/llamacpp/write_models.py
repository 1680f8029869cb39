"""Writes the float32 random-weight diffusion models that make.sh quantizes
with llama-quantize and runs through llama.cpp, with llama.cpp's own gguf-py
(PYTHONPATH=<llama.cpp>/gguf-py), in the layout its converter writes
(conversion/llada.py, conversion/dream.py): the same metadata keys, tensor
names and shapes.

    python3 write_models.py OUTDIR
    python3 write_models.py --bench OUTDIR   # bench.sh's models, see BENCH

prints one JSON line per model: {"name", "arch", "variant", "path",
"canvases": [[ids], ...]}. The weights are noise, scaled so that attention
is not uniform and the logits spread over several units (a clear argmax);
the masters are deterministic (numpy's PCG64 from a fixed seed per model).

Models (dims: embedding, feed-forward, layers, heads / key-value heads):

  dense   32, 64, 2 layers, 2/2 heads (llada) or 4/2 (dream): f32, f16,
          bf16, q8_0, q4_0 (block 32)
  kquant  256, 256, 1 layer, 4/2 heads: q4_K, q5_K, q6_K and the Q4_K_M
          mix (rows of 256 values), llada-k also q2_K, q3_K and iq4_xs;
          dream-k ties output to token_embd
  moe     llada-moe, 32, 2 layers, 2/2 heads, 4 experts 32 wide, 2 used:
          f32, f16, bf16, q8_0, q4_0
  wide    dream-896: 896, 256, 1 layer, 14/2 heads: q4_1, q5_0, q5_1,
          iq4_nl, and the Q4_K_M, Q5_K_M, Q3_K_M, Q2_K and IQ4_XS mixes
          with llama-quantize's fallbacks for rows of 896
  moe-k   llada-moe, 256, 1 layer, 4/2 heads, 3 experts 256 wide, 2 used:
          q4_K, q5_K, q6_K (the experts' rows of 256 values too; 3 experts
          rather than 4 keep the three files at 1.95 MB, not 2.36)

Variants of llada and dream check where the same file could mean two
models (issue 15): llada with attention and feed-forward biases (llama.cpp
adds q/k/v biases and ignores the others), llada without
diffusion.shift_logits (llama.cpp's diffusion CLI then shifts), dream
without q/k/v biases, and files llama.cpp refuses (llada with QK-norm,
dream with attn_output.bias or QK-norm).
"""
import json
import sys
import zlib

import numpy as np

import gguf


def byte_symbols():
    """GPT-2's byte-to-unicode table: the 256 byte tokens of byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


MERGES = ["Ġ Ġ", "r e", "Ġ re", "Ġre t", "u r", "Ġret ur", "Ġretur n", "d e", "f Ġ"]

# Special tokens as the real checkpoints name them.
SPECIALS = {
    "llada": {"bos": "<|startoftext|>", "eos": "<|endoftext|>", "mask": "<|mdm_mask|>"},
    "dream": {"bos": "<|beginoftext|>", "eos": "<|endoftext|>", "mask": "<|mask|>"},
    "llada-moe": {"bos": "<|startoftext|>", "eos": "<|endoftext|>", "mask": "<|mask|>"},
}
PRE = {"llada": "llama-bpe", "dream": "qwen2", "llada-moe": "llada-moe"}


def vocab(arch, n=0):
    """The byte tokens, the merges' tokens, "fillerN" tokens up to n in all
    (when n is more), then the special tokens."""
    tokens = byte_symbols() + [m.replace(" ", "") for m in MERGES]
    tokens += [f"filler{i}" for i in range(len(tokens), n - len(SPECIALS[arch]))]
    types = [gguf.TokenType.NORMAL] * len(tokens)
    ids = {}
    for role, text in SPECIALS[arch].items():
        ids[role] = len(tokens)
        tokens.append(text)
        types.append(gguf.TokenType.CONTROL)
    return tokens, types, ids


DENSE = dict(embd=32, ffn=64, layers=2, heads=2)
KQUANT = dict(embd=256, ffn=256, layers=1, heads=4)
MOE = dict(embd=32, ffn=64, layers=2, heads=2)
MOE_K = dict(embd=256, ffn=256, layers=1, heads=4)
# Qwen2.5-0.5B's width (896 = 3.5 super-blocks: llama-quantize's per-tensor
# fallbacks) with heads of 64 and 2 key-value heads as there; feed-forward
# 256 (not 4864: ffn_down's rows stay whole super-blocks, as 4864's are) and
# one layer keep the quantized files near 1.5 MB each.
WIDE = dict(embd=896, ffn=256, layers=1, heads=14)

# bench.sh's speed models: llada of the built-in model's vocabulary (4096),
# every head its own key/value head, heads of 64, feed-forward 3 × embd.
# llada-38m is the size of earlier measurements (38.3M parameters);
# llada-145m doubles the width (144.7M).
BENCH = {
    "llada-38m": dict(embd=512, ffn=1536, layers=10, heads=8),
    "llada-145m": dict(embd=1024, ffn=3072, layers=10, heads=16),
}
BENCH_VOCAB = 4096


def canvases(arch, n_vocab, ids, seed):
    """Fixed canvases: one token; a short prefix-hole-suffix; a longer one
    with two holes. Lengths are not multiples of the kernels' tiles."""
    rng = np.random.default_rng(seed)
    text = lambda n: [int(x) for x in rng.integers(0, 256 + len(MERGES), n)]
    mask = ids["mask"]
    bos = [ids["bos"]] if arch == "llada" else []  # llada adds BOS (the converter's add_bos_token)
    return [
        [ids["bos"]],
        bos + text(5) + [mask] * 4 + text(12 - 9 - len(bos)),
        bos + text(7) + [mask] * 6 + text(5) + [mask] * 3 + text(27 - 21 - len(bos)),
    ]


def write(out, name, arch, variant, dims, seed, kv_heads=None, experts=None, tied=False, n_vocab=0, f16=False):
    """Writes OUT/NAME.gguf, float32 (f16: its matrices float16, as the
    converter's --outtype f16), and returns its description."""
    rng = np.random.default_rng(seed)
    wtype = np.float16 if f16 else np.float32
    ftype = gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32
    tokens, types, ids = vocab(arch, n_vocab)
    n_vocab = len(tokens)
    d, ff, L, H = dims["embd"], dims["ffn"], dims["layers"], dims["heads"]
    hd = d // H
    KV = kv_heads or H
    kvd = KV * hd

    w = gguf.GGUFWriter(f"{out}/{name}.gguf", arch)
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(f"dfim-parity-{name}")
    # TextModel.set_gguf_parameters, then the architecture's own keys, in
    # the converter's order.
    w.add_block_count(L)
    if arch == "llada":
        w.add_context_length(4096)
        w.add_head_count(H)
        w.add_head_count_kv(KV)
        w.add_rope_freq_base(500000.0)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_file_type(ftype)
        w.add_vocab_size(n_vocab)
        w.add_rope_dimension_count(hd)
        w.add_embedding_length(d)
        w.add_feed_forward_length(ff)
        w.add_causal_attention(False)
        if variant != "noshift":
            w.add_diffusion_shift_logits(False)
    elif arch == "dream":
        w.add_context_length(131072)
        w.add_embedding_length(d)
        w.add_feed_forward_length(ff)
        w.add_head_count(H)
        w.add_head_count_kv(KV)
        w.add_rope_freq_base(1000000.0)
        w.add_layer_norm_rms_eps(1e-6)
        w.add_file_type(ftype)
        w.add_causal_attention(False)
        w.add_mask_token_id(ids["mask"])
    else:  # llada-moe
        w.add_context_length(8192)
        w.add_embedding_length(d)
        w.add_feed_forward_length(ff)
        w.add_head_count(H)
        w.add_head_count_kv(KV)
        w.add_rope_freq_base(50000.0)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_expert_count(experts["n"])
        w.add_expert_used_count(experts["used"])
        w.add_file_type(ftype)
        w.add_expert_feed_forward_length(experts["ffn"])
        w.add_mask_token_id(ids["mask"])
        w.add_causal_attention(False)
        w.add_diffusion_shift_logits(False)

    # _set_vocab_gpt2
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(PRE[arch])
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(MERGES)
    w.add_bos_token_id(ids["bos"])
    w.add_eos_token_id(ids["eos"])
    if arch == "llada":
        w.add_add_bos_token(True)

    def mat(tname, rows, cols, scale=1.0):
        # numpy's [rows, cols] is ggml's ne = [cols, rows]: cols is the input.
        w.add_tensor(tname, (rng.standard_normal((rows, cols)) * scale / np.sqrt(cols)).astype(wtype))

    def vec(tname, n, mean, std):
        w.add_tensor(tname, (mean + std * rng.standard_normal(n)).astype(np.float32))

    # Tied, token_embd is the output projection too: scaled as output.weight
    # would be, so that the logits spread as much as the untied models'.
    w.add_tensor("token_embd.weight", (rng.standard_normal((n_vocab, d)) * (3 / np.sqrt(d) if tied else 1)).astype(wtype))
    for i in range(L):
        p = f"blk.{i}."
        vec(p + "attn_norm.weight", d, 1.0, 0.2)
        mat(p + "attn_q.weight", H * hd, d, 1.5)
        mat(p + "attn_k.weight", kvd, d, 1.5)
        mat(p + "attn_v.weight", kvd, d)
        if (arch == "dream" and variant != "nobias") or (arch == "llada" and variant == "biases"):
            vec(p + "attn_q.bias", H * hd, 0.0, 0.5)
            vec(p + "attn_k.bias", kvd, 0.0, 0.5)
            vec(p + "attn_v.bias", kvd, 0.0, 0.5)
        if arch == "llada-moe" or variant == "qknorm":
            vec(p + "attn_q_norm.weight", hd, 1.0, 0.2)
            vec(p + "attn_k_norm.weight", hd, 1.0, 0.2)
        mat(p + "attn_output.weight", d, H * hd)
        if variant in ("biases", "obias"):
            vec(p + "attn_output.bias", d, 0.0, 1.0)
        vec(p + "ffn_norm.weight", d, 1.0, 0.2)
        if arch == "llada-moe":
            n, eff = experts["n"], experts["ffn"]
            mat(p + "ffn_gate_inp.weight", n, d, 2.0)
            # Qwen2MoeModel's merge: [n_expert, rows, cols]
            w.add_tensor(p + "ffn_down_exps.weight", (rng.standard_normal((n, d, eff)) / np.sqrt(eff)).astype(np.float32))
            w.add_tensor(p + "ffn_gate_exps.weight", (rng.standard_normal((n, eff, d)) / np.sqrt(d)).astype(np.float32))
            w.add_tensor(p + "ffn_up_exps.weight", (rng.standard_normal((n, eff, d)) / np.sqrt(d)).astype(np.float32))
        else:
            mat(p + "ffn_gate.weight", ff, d)
            mat(p + "ffn_down.weight", d, ff)
            mat(p + "ffn_up.weight", ff, d)
            if variant == "biases":
                vec(p + "ffn_gate.bias", ff, 0.0, 1.0)
                vec(p + "ffn_down.bias", d, 0.0, 1.0)
                vec(p + "ffn_up.bias", ff, 0.0, 1.0)
    vec("output_norm.weight", d, 1.0, 0.2)
    if not tied:
        mat("output.weight", n_vocab, d, 3.0)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return {"name": name, "arch": arch, "variant": variant, "path": f"{out}/{name}.gguf",
            "canvases": canvases(arch, n_vocab, ids, seed + 1000)}


def main():
    if sys.argv[1:2] == ["--bench"]:
        out = sys.argv[2] if len(sys.argv) > 2 else "."
        for name, dims in BENCH.items():
            print(json.dumps(write(out, name + "-f16", "llada", "", dims, zlib.crc32(name.encode()),
                                   n_vocab=BENCH_VOCAB, f16=True)))
        return
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    small = dict(embd=32, ffn=64, layers=1, heads=2)
    experts = {"llada-moe": {"n": 4, "used": 2, "ffn": 32}, "llada-moe-k": {"n": 3, "used": 2, "ffn": 256}}
    dream = dict(DENSE, heads=4)
    models = [
        ("llada", "llada", "", DENSE, 2),
        ("dream", "dream", "", dream, 2),
        ("llada-biases", "llada", "biases", DENSE, 2),
        ("llada-noshift", "llada", "noshift", DENSE, 2),
        ("dream-nobias", "dream", "nobias", dream, 2),
        ("llada-k", "llada", "", KQUANT, 2),
        ("dream-k", "dream", "", KQUANT, 2),
        ("llada-moe", "llada-moe", "", MOE, 2),
        ("llada-moe-k", "llada-moe", "", MOE_K, 2),
        ("llada-qknorm", "llada", "qknorm", small, 2),
        ("dream-896", "dream", "", WIDE, 2),
        ("dream-obias", "dream", "obias", small, 1),
        ("dream-qknorm", "dream", "qknorm", small, 1),
    ]
    for name, arch, variant, dims, kv in models:
        seed = zlib.crc32(name.encode())
        desc = write(out, name, arch, variant, dims, seed, kv_heads=kv, experts=experts.get(name),
                     tied=name == "dream-k")
        print(json.dumps(desc))


if __name__ == "__main__":
    main()
