"""Exports a checkpoint of dfim's built-in model to GGUF (llama.cpp's `llada`
architecture and names, byte-level BPE tokenizer with the qwen2
pre-tokenizer) and writes golden.json, the Go engine's parity file: token ids
of a fixed canvas in, float32 logits at its masked positions out, computed
from the *exported* (dequantized) weights.

    python3 train/export.py --ckpt train/out/cpu-tiny/ckpt.pt \
        --out engine/native/builtin/data [--f16] [--sample]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import gguf  # noqa: E402
import model as modellib  # noqa: E402

ARCH = "llada"
MAX_BYTES = 48 << 20

# The parity canvas: Go code with a hole of four mask slots.
GOLDEN_PREFIX = ("package main\n\nimport \"fmt\"\n\n// sum adds the numbers in xs.\n"
                 "func sum(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n\t\t")
GOLDEN_SUFFIX = "\n\t}\n\treturn total\n}\n\nfunc main() {\n\tfmt.Println(sum([]int{1, 2, 3}))\n}\n"
GOLDEN_SLOTS = 4


def tensor_map(m):
    """(gguf name, PyTorch tensor, is matrix) in the order llama.cpp lists them."""
    out = [("token_embd.weight", m.embed.weight, True)]
    for i, b in enumerate(m.blocks):
        p = f"blk.{i}."
        out += [(p + "attn_norm.weight", b.attn_norm.weight, False),
                (p + "attn_q.weight", b.q.weight, True),
                (p + "attn_k.weight", b.k.weight, True),
                (p + "attn_v.weight", b.v.weight, True),
                (p + "attn_output.weight", b.o.weight, True),
                (p + "ffn_norm.weight", b.ffn_norm.weight, False),
                (p + "ffn_gate.weight", b.gate.weight, True),
                (p + "ffn_up.weight", b.up.weight, True),
                (p + "ffn_down.weight", b.down.weight, True)]
    out += [("output_norm.weight", m.norm.weight, False),
            ("output.weight", m.out.weight, True)]
    return out


def build_gguf(m, tok, matrix_type=gguf.GGML_Q8_0, name="dfim-builtin", end_bias=0.0,
               steps=0, tokens=0):
    """A gguf.Writer for model m and tokenizer tok, and the state dict of
    the weights as the file stores them (dequantized), for parity. steps
    and tokens record the training so far, for the run that continues."""
    c = m.c
    w = gguf.Writer()
    w.add("general.architecture", ARCH)
    w.add("general.name", name)
    w.add("general.alignment", gguf.ALIGNMENT)
    w.add("general.file_type", 7 if matrix_type == gguf.GGML_Q8_0 else 1)  # MOSTLY_Q8_0 / F16
    w.add(f"{ARCH}.context_length", c["ctx"])
    w.add(f"{ARCH}.embedding_length", c["d"])
    w.add(f"{ARCH}.block_count", c["layers"])
    w.add(f"{ARCH}.feed_forward_length", c["ff"])
    w.add(f"{ARCH}.attention.head_count", c["heads"])
    w.add(f"{ARCH}.attention.head_count_kv", c["kv_heads"])
    w.add(f"{ARCH}.attention.layer_norm_rms_epsilon", float(c["eps"]))
    w.add(f"{ARCH}.attention.causal", False)
    w.add(f"{ARCH}.rope.freq_base", float(c["rope_base"]))
    w.add(f"{ARCH}.rope.dimension_count", c["d"] // c["heads"])
    w.add(f"{ARCH}.vocab_size", len(tok))
    w.add("diffusion.shift_logits", False)
    if end_bias:
        # Calibrated offset on the end tokens' logits, tuned on dev tasks
        # through dfim eval (DFIM_END_BIAS); the Go engine adds it.
        w.add("dfim.end_logit_bias", float(end_bias))
    if tokens:
        w.add("dfim.train.steps", gguf.U64(steps))
        w.add("dfim.train.tokens", gguf.U64(tokens))
    w.add("tokenizer.ggml.model", "gpt2")
    w.add("tokenizer.ggml.pre", "qwen2")
    w.add("tokenizer.ggml.tokens", tok.tokens)
    w.add("tokenizer.ggml.token_type",
          [gguf.I32(3 if i in tok.special_ids else 1) for i in range(len(tok))])
    w.add("tokenizer.ggml.merges", tok.merges)
    w.add("tokenizer.ggml.eos_token_id", tok.eos)
    w.add("tokenizer.ggml.padding_token_id", tok.pad)
    w.add("tokenizer.ggml.mask_token_id", tok.mask)
    w.add("tokenizer.ggml.add_bos_token", False)
    w.add("tokenizer.ggml.add_eos_token", False)
    stored = {}
    for gname, t, is_matrix in tensor_map(m):
        x = t.detach().float().cpu().numpy()
        ty = matrix_type if is_matrix else gguf.GGML_F32
        if ty == gguf.GGML_Q8_0 and x.shape[-1] % gguf.QK8_0:
            ty = gguf.GGML_F16
        stored[gname] = w.add_tensor(gname, x, ty)
    return w, stored


def load_stored(m, stored):
    """Puts the file's (dequantized) weights into m, in place."""
    with torch.no_grad():
        for gname, t, _ in tensor_map(m):
            t.copy_(torch.from_numpy(np.asarray(stored[gname], dtype=np.float32)))
    return m


def load_gguf(path):
    """The inverse of build_gguf: (model, tokenizer, training record) from a
    GGUF this module wrote, so a run can continue from the committed model
    (train.py --init). q8_0 matrices come back dequantized; the small
    rounding error is far below what the next optimizer steps change."""
    with open(path, "rb") as f:
        meta, tensors = gguf.read(f.read())
    if meta.get("general.architecture") != ARCH:
        raise ValueError(f"{path}: architecture {meta.get('general.architecture')!r}, want {ARCH!r}")
    k = lambda key: meta[f"{ARCH}.{key}"]
    c = {"d": k("embedding_length"), "layers": k("block_count"), "heads": k("attention.head_count"),
         "kv_heads": k("attention.head_count_kv"), "ff": k("feed_forward_length"),
         "ctx": k("context_length"), "eps": float(k("attention.layer_norm_rms_epsilon")),
         "rope_base": float(k("rope.freq_base")), "vocab": k("vocab_size"),
         "tied": "output.weight" not in tensors}
    tok = bpe.Tokenizer.from_gguf(meta)
    m = modellib.Model(c)
    load_stored(m, {name: a for name, (_, _, a) in tensors.items()})
    record = {"steps": int(meta.get("dfim.train.steps", 0)),
              "tokens": int(meta.get("dfim.train.tokens", 0))}
    return m, tok, record


def load_ckpt(path):
    from train import load_torch
    ck = load_torch(path)
    c = ck["config"]["model"]
    m = modellib.Model(c)
    m.load_state_dict({k: v.float() for k, v in ck["model"].items()})
    m.eval()
    return m, ck


def golden(m, tok):
    """The parity canvas and m's float32 logits at its mask slots."""
    ids = tok.encode(GOLDEN_PREFIX) + [tok.mask] * GOLDEN_SLOTS + tok.encode(GOLDEN_SUFFIX)
    positions = [i for i, t in enumerate(ids) if t == tok.mask]
    with torch.no_grad():
        logits = m.float()(torch.tensor([ids]))[0]
    return {"prefix": GOLDEN_PREFIX, "suffix": GOLDEN_SUFFIX, "tokens": ids,
            "positions": positions,
            "logits": [[float(v) for v in logits[p].numpy().astype(np.float32)] for p in positions]}


@torch.no_grad()
def fill(m, tok, prefix, suffix, slots=16, block=4):
    """Greedy left-to-right block decoding, as the Go engine's default does:
    inside the hole, block by block, commit the most confident slot of the
    block each pass; stop at the first committed pad."""
    pre, suf = tok.encode(prefix), tok.encode(suffix)
    ids = pre + [tok.mask] * slots + suf
    start = len(pre)
    out = []
    for b0 in range(start, start + slots, block):
        todo = list(range(b0, min(b0 + block, start + slots)))
        while todo:
            logits = m(torch.tensor([ids]))[0]
            probs = logits.softmax(-1)
            best = max(todo, key=lambda p: float(probs[p].max()))
            ids[best] = int(probs[best].argmax())
            todo.remove(best)
        for p in range(b0, min(b0 + block, start + slots)):
            if ids[p] == tok.pad:
                return tok.decode(out)
            out.append(ids[p])
    return tok.decode(out)


def main():
    ap = argparse.ArgumentParser(description="export dfim's built-in model to GGUF")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokenizer", help="tokenizer.json (default: the checkpoint's)")
    ap.add_argument("--out", required=True, help="folder for model.gguf and golden.json")
    ap.add_argument("--f16", action="store_true", help="f16 matrices instead of q8_0")
    ap.add_argument("--sample", action="store_true", help="print a few greedy fills")
    ap.add_argument("--end-bias", type=float, default=0.0,
                    help="logit offset on pad/EOS the Go engine adds (dfim.end_logit_bias); "
                    "tune it on dev tasks with DFIM_END_BIAS=x dfim eval")
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    m, ck = load_ckpt(a.ckpt)
    tok = bpe.Tokenizer.load(a.tokenizer or ck["tokenizer"])
    w, stored = build_gguf(m, tok, gguf.GGML_F16 if a.f16 else gguf.GGML_Q8_0, end_bias=a.end_bias,
                           steps=ck["step"], tokens=ck["tokens"])
    blob = w.tobytes()
    if len(blob) > MAX_BYTES:
        sys.exit(f"export: model.gguf would be {len(blob)/2**20:.1f} MiB, over the 48 MiB limit; "
                 "use q8_0 or a smaller config")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "model.gguf"), "wb") as f:
        f.write(blob)
    load_stored(m, stored)
    g = golden(m, tok)
    with open(os.path.join(a.out, "golden.json"), "w") as f:
        json.dump(g, f, separators=(",", ":"))
    print(f"export: {a.out}/model.gguf {len(blob)/2**20:.2f} MiB "
          f"({m.n_params()/1e6:.2f}M parameters, step {ck['step']}, {ck['tokens']/1e6:.2f}M tokens); "
          f"golden.json {len(g['positions'])} positions")
    if a.sample:
        for pre, suf in SAMPLES:
            print("---\n" + pre[-80:] + "[" + fill(m, tok, pre, suf) + "]" + suf[:40])


SAMPLES = [
    (GOLDEN_PREFIX, GOLDEN_SUFFIX),
    ("func (s *Stack) Pop() int {\n\tv := s.items[len(s.items)-1]\n\t", "\n\treturn v\n}\n"),
    ("func readAll(path string) ([]byte, error) {\n\tf, err := os.Open(path)\n\tif err != nil {\n\t\t",
     "\n\t}\n\tdefer f.Close()\n\treturn io.ReadAll(f)\n}\n"),
    ("def mean(xs):\n    if not xs:\n        raise ValueError('empty')\n    ", "\n"),
]

if __name__ == "__main__":
    main()
