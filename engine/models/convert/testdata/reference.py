"""Reference forward pass of a Hugging Face diffusion-coder checkpoint.

Usage: reference.py CHECKPOINT_DIR FAMILY TOKENS OUT

Reads config.json and every *.safetensors file of CHECKPOINT_DIR with
numpy alone, runs the family's published transformer in float64 over the
comma-separated TOKENS with bidirectional attention, applies the family's
logit shift, and writes the logits (len(TOKENS) rows of vocab float32
values, little-endian) to OUT. It follows the families' modelling code,
not dfim's: rotate_half RoPE on the checkpoint's own q/k layout (LLaDA's
rows are not permuted here), softmax-top-k experts without renormalising
(LLaDA-MoE), per-head QK RMSNorm before RoPE (Qwen3, CoDA, LLaDA-MoE).
"""
import glob
import json
import os
import struct
import sys

import numpy as np


def load_safetensors(folder):
    tensors = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        with open(path, "rb") as f:
            raw = f.read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        body = raw[8 + n:]
        for name, h in header.items():
            if name == "__metadata__":
                continue
            a, b = h["data_offsets"]
            buf = body[a:b]
            if h["dtype"] == "F32":
                x = np.frombuffer(buf, dtype="<f4")
            elif h["dtype"] == "F16":
                x = np.frombuffer(buf, dtype="<f2").astype(np.float32)
            elif h["dtype"] == "BF16":
                u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
                x = u.view(np.float32)
            else:
                raise SystemExit("dtype %s" % h["dtype"])
            tensors[name] = x.astype(np.float64).reshape(h["shape"])
    return tensors


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, theta):
    # x: [T, H, D]; transformers' rotate_half form.
    T, _, D = x.shape
    inv = 1.0 / (theta ** (np.arange(0, D, 2, dtype=np.float64) / D))
    freqs = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]
    x1, x2 = x[..., : D // 2], x[..., D // 2:]
    return x * cos + np.concatenate([-x2, x1], axis=-1) * sin


def silu(x):
    return x / (1.0 + np.exp(-x))


def linear(W, x, b=None):
    y = x @ W.T
    return y if b is None else y + b


def main():
    folder, family, toks, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    cfg = json.load(open(os.path.join(folder, "config.json")))
    W = load_safetensors(folder)
    ids = np.array([int(t) for t in toks.split(",")])
    T = len(ids)

    if family == "llada":
        pre = "model.transformer."
        E = cfg["d_model"]
        H, KV = cfg["n_heads"], cfg.get("n_kv_heads", cfg["n_heads"])
        L = cfg["n_layers"]
        emb = W[pre + "wte.weight"]
        names = dict(q="q_proj", k="k_proj", v="v_proj", o="attn_out", an="attn_norm", fn="ff_norm",
                     gate="ff_proj", up="up_proj", down="ff_out")
        blk = lambda i, n: pre + "blocks.%d.%s" % (i, names[n])
        final_norm = W[pre + "ln_f.weight"]
        head = W.get(pre + "ff_out.weight", emb)
    else:
        E = cfg["hidden_size"]
        H, KV = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
        L = cfg["num_hidden_layers"]
        emb = W["model.embed_tokens.weight"]
        names = dict(q="self_attn.q_proj", k="self_attn.k_proj", v="self_attn.v_proj", o="self_attn.o_proj",
                     an="input_layernorm", fn="post_attention_layernorm", qn="self_attn.q_norm",
                     kn="self_attn.k_norm", gate="mlp.gate_proj", up="mlp.up_proj", down="mlp.down_proj")
        blk = lambda i, n: "model.layers.%d.%s" % (i, names[n])
        final_norm = W["model.norm.weight"]
        head = W.get("lm_head.weight", emb)
    D = cfg.get("head_dim") or E // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    theta = cfg.get("rope_theta", 10000.0)
    g = lambda name: W.get(name)

    x = emb[ids]
    for i in range(L):
        h = rms_norm(x, W[blk(i, "an") + ".weight"], eps)
        q = linear(W[blk(i, "q") + ".weight"], h, g(blk(i, "q") + ".bias")).reshape(T, H, D)
        k = linear(W[blk(i, "k") + ".weight"], h, g(blk(i, "k") + ".bias")).reshape(T, KV, D)
        v = linear(W[blk(i, "v") + ".weight"], h, g(blk(i, "v") + ".bias")).reshape(T, KV, D)
        if "qn" in names and (blk(i, "qn") + ".weight") in W:
            q = rms_norm(q, W[blk(i, "qn") + ".weight"], eps)
            k = rms_norm(k, W[blk(i, "kn") + ".weight"], eps)
        q, k = rope(q, theta), rope(k, theta)
        rep = H // KV
        k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        s = np.einsum("thd,shd->hts", q, k) / np.sqrt(D)  # bidirectional: no mask
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        a = np.einsum("hts,shd->thd", s, v).reshape(T, H * D)
        x = x + linear(W[blk(i, "o") + ".weight"], a, g(blk(i, "o") + ".bias"))
        h = rms_norm(x, W[blk(i, "fn") + ".weight"], eps)
        if family == "llada-moe":
            n_exp, k_used = cfg["num_experts"], cfg["num_experts_per_tok"]
            logits = linear(W["model.layers.%d.mlp.gate.weight" % i], h)
            p = np.exp(logits - logits.max(axis=-1, keepdims=True))
            p /= p.sum(axis=-1, keepdims=True)
            y = np.zeros_like(h)
            for t in range(T):
                top = np.argsort(-p[t], kind="stable")[:k_used]
                for e in top:
                    pre_e = "model.layers.%d.mlp.experts.%d." % (i, e)
                    f = silu(linear(W[pre_e + "gate_proj.weight"], h[t])) * linear(W[pre_e + "up_proj.weight"], h[t])
                    y[t] += p[t, e] * linear(W[pre_e + "down_proj.weight"], f)
        else:
            y = linear(W[blk(i, "down") + ".weight"],
                       silu(linear(W[blk(i, "gate") + ".weight"], h)) * linear(W[blk(i, "up") + ".weight"], h))
        x = x + y
    logits = linear(head, rms_norm(x, final_norm, eps))
    if family in ("dream", "open-dcoder", "coda"):
        # Dream's generation_utils: logits = cat([logits[:, :1], logits[:, :-1]], dim=1)
        logits = np.concatenate([logits[:1], logits[:-1]], axis=0)
    logits.astype("<f4").tofile(out)


if __name__ == "__main__":
    main()
