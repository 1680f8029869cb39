"""Quick Python-side measurement of a checkpoint on FIM tasks (dev.jsonl
format): greedy left-to-right block decoding inside a fixed-size hole, stop
at the first pad (the Go decoder's default), then exact match and edit
similarity by kind and language. A sanity check for training, not `dfim eval`.

    python3 train/evaldev.py --ckpt train/out/cpu-tiny/ckpt.pt \
        --tasks ../shared/eval/dev.jsonl --n 60
"""
import argparse
import difflib
import json
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import export  # noqa: E402

SLOTS = {"single-line": 16, "random-span": 24, "multi-line": 48}


@torch.no_grad()
def decode(m, tok, task, slots, block=4, pre_max=192, suf_max=64):
    ctx = m.c["ctx"]
    suf = tok.encode(task["suffix"])[:min(suf_max, (ctx - slots) // 4)]
    pre = tok.encode(task["prefix"])[-min(pre_max, ctx - slots - len(suf)):]
    ids = pre + [tok.mask] * slots + suf
    s = len(pre)
    out = []
    for b0 in range(s, s + slots, block):
        todo = list(range(b0, min(b0 + block, s + slots)))
        while todo:
            probs = m(torch.tensor([ids]))[0].softmax(-1)
            best = max(todo, key=lambda p: float(probs[p].max()))
            ids[best] = int(probs[best].argmax())
            todo.remove(best)
        for p in range(b0, min(b0 + block, s + slots)):
            if ids[p] == tok.pad:
                return tok.decode(out)
            out.append(ids[p])
    return tok.decode(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokenizer")
    ap.add_argument("--tasks", required=True)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(2)
    m, ck = export.load_ckpt(a.ckpt)
    tok = bpe.Tokenizer.load(a.tokenizer or ck["tokenizer"])
    tasks = [json.loads(l) for l in open(a.tasks)]
    random.Random(a.seed).shuffle(tasks)
    tasks = tasks[:a.n]
    stats = {}
    t0 = time.time()
    for t in tasks:
        got = decode(m, tok, t, SLOTS.get(t["kind"], 24))
        want = t["middle"]
        em = float(got.strip() == want.strip())
        es = difflib.SequenceMatcher(None, got, want).ratio()
        for key in (t["kind"] + "/" + t["lang"], "all"):
            s = stats.setdefault(key, [0, 0.0, 0.0, 0])
            s[0] += 1
            s[1] += em
            s[2] += es
            s[3] += got.strip() == ""
    for k, (n, em, es, empty) in sorted(stats.items()):
        print(f"{k:24s} n {n:3d}  exact {em/n:.3f}  edit_sim {es/n:.3f}  empty {empty/n:.2f}")
    print(f"{time.time()-t0:.0f}s")


if __name__ == "__main__":
    main()
