"""Trains dfim's built-in diffusion model.

    python3 train/train.py --config train/configs/cpu-tiny.json \
        --corpus build/corpus --out train/out/cpu-tiny [--resume] [--smoke]

The config (JSON) has "model", "train" and "shaping" sections (see
configs/). Training stops at train.steps or train.time_budget_s, whichever
comes first; the learning rate follows the further of the two (warmup, then
cosine to 10%). Every train.ckpt_every_s the checkpoint out/ckpt.pt is
rewritten, so a run can be exported (export.py) or resumed at any time.
Log: out/train.log (one line per log step) and out/metrics.json.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import corpus  # noqa: E402
import model as modellib  # noqa: E402
import shaping  # noqa: E402


def load_config(path):
    with open(path) as f:
        c = json.load(f)
    c.setdefault("shaping", {})
    return c


class Batches(torch.utils.data.IterableDataset):
    """Endless batches from a token stream; each worker its own seed."""

    def __init__(self, stream, tok, ctx, shaping_cfg, batch_size, seed):
        self.stream, self.tok, self.ctx = stream, tok, ctx
        self.cfg, self.bs, self.seed = shaping_cfg, batch_size, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid = info.id if info else 0
        sh = shaping.Shaper(self.tok, self.ctx, self.cfg, seed=self.seed * 1000 + wid)
        while True:
            inp, tgt, w = sh.batch(self.stream, self.bs)
            yield torch.from_numpy(inp), torch.from_numpy(tgt), torch.from_numpy(w)


def row_loss(out, h, tgt, w):
    """Sum over tokens of w * cross-entropy, averaged over rows. The output
    matrix is applied only at the positions that have a target (a few per
    infilling row), which saves most of its cost."""
    sel = (tgt != shaping.IGNORE).reshape(-1)
    hs = h.reshape(-1, h.shape[-1])[sel]
    logits = out(hs).float()
    ce = F.cross_entropy(logits, tgt.reshape(-1)[sel], reduction="none")
    return (ce * w.reshape(-1)[sel]).sum() / tgt.shape[0]


@torch.no_grad()
def evaluate(m, hidden, dev_batches, tok, device, amp):
    """Dev losses of infilling holes and diffusion rows, and how often the
    model's argmax is pad on hole slots against how often pad is the truth
    (the pad bias FINDINGS.md measured)."""
    m.eval()
    fim_ce, fim_n, diff_ce, diff_n = 0.0, 0, 0.0, 0
    pad_pred, pad_true, slot_n, hit = 0, 0, 0, 0
    for kind, (inp, tgt, w) in dev_batches:
        inp, tgt = inp.to(device), tgt.to(device)
        with amp():
            logits = m.out(hidden(inp))
        ce = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                             ignore_index=shaping.IGNORE, reduction="none")
        sel = tgt.reshape(-1) != shaping.IGNORE
        if kind == "fim":
            fim_ce += ce[sel].sum().item()
            fim_n += int(sel.sum())
            pred = logits.argmax(-1).reshape(-1)[sel]
            truth = tgt.reshape(-1)[sel]
            pad_pred += int((pred == tok.pad).sum())
            pad_true += int((truth == tok.pad).sum())
            hit += int((pred == truth).sum())
            slot_n += int(sel.sum())
        else:
            diff_ce += ce[sel].sum().item()
            diff_n += int(sel.sum())
    m.train()
    return {"dev_fim_loss": fim_ce / max(1, fim_n), "dev_diff_loss": diff_ce / max(1, diff_n),
            "dev_fim_acc": hit / max(1, slot_n), "dev_pad_pred": pad_pred / max(1, slot_n),
            "dev_pad_true": pad_true / max(1, slot_n)}


def make_dev(dev, tok, ctx, cfg, n_rows, bs):
    sh = shaping.Shaper(tok, ctx, cfg, seed=12345)
    sh.cfg["reveal"] = {"full": 1.0}
    out = []
    rng = np.random.default_rng(7)
    for kind in ("fim", "diff"):
        rows = []
        for _ in range(n_rows):
            s = int(rng.integers(0, len(dev) - ctx - 40))
            rows.append(sh.fim_row(dev[s:s + ctx + 32]) if kind == "fim"
                        else sh.diffusion_row(dev[s:s + ctx]))
        for k in range(0, n_rows, bs):
            inp, tgt, w = (torch.from_numpy(np.stack(x)) for x in zip(*rows[k:k + bs]))
            out.append((kind, (inp, tgt, w)))
    return out


def load_torch(path, device="cpu"):
    try:
        return torch.load(path, map_location=device, weights_only=False)
    except TypeError:   # torch < 1.13 has no weights_only
        return torch.load(path, map_location=device)


def save_ckpt(path, m, opt, step, tokens, cfg, tok_path):
    tmp = path + ".tmp"
    sd = {k: v for k, v in (m._orig_mod if hasattr(m, "_orig_mod") else m).state_dict().items()}
    torch.save({"model": sd, "opt": opt.state_dict(), "step": step, "tokens": tokens,
                "config": cfg, "tokenizer": tok_path}, tmp)
    os.replace(tmp, path)


def ledger_last(path):
    """(steps, tokens) at the end of the ledger's last run, (0, 0) without one."""
    try:
        with open(path) as f:
            lines = [json.loads(x) for x in f if x.strip()]
    except FileNotFoundError:
        return 0, 0
    return (lines[-1]["steps"][1], lines[-1]["tokens"][1]) if lines else (0, 0)


def append_ledger(path, entry):
    """One JSON line per run: the curve across runs and machines."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")


def main():
    ap = argparse.ArgumentParser(description="train dfim's built-in model")
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", required=True, help="folder with tokenizer.json and corpus-*.tar")
    ap.add_argument("--out", required=True)
    ap.add_argument("--resume", action="store_true", help="continue from out/ckpt.pt (optimizer included)")
    ap.add_argument("--init", help="start from this model.gguf (the committed built-in model) when "
                    "out/ckpt.pt does not exist; its model config replaces the config's, the "
                    "optimizer restarts. The corpus must use its tokenizer "
                    "(corpus.py --tokenizer model.gguf)")
    ap.add_argument("--ledger", default=os.path.join(HERE, "logs", "ledger.jsonl"),
                    help="append this run's record here (empty: none)")
    ap.add_argument("--smoke", action="store_true", help="a few steps, to check the pipeline")
    ap.add_argument("--time-budget", type=float, help="seconds; overrides the config")
    ap.add_argument("--lr", type=float, help="peak learning rate; overrides the config "
                    "(e.g. lower when continuing with --resume)")
    a = ap.parse_args()

    cfg = load_config(a.config)
    tcfg, mcfg = cfg["train"], cfg["model"]
    if a.smoke:
        tcfg.update(tcfg.get("smoke", {"steps": 5, "time_budget_s": 60}))
    if a.time_budget:
        tcfg["time_budget_s"] = a.time_budget
    if a.lr:
        tcfg["lr"] = a.lr
    os.makedirs(a.out, exist_ok=True)
    logf = open(os.path.join(a.out, "train.log"), "a")
    t0 = time.time()

    def log(msg):
        line = f"[{time.time()-t0:7.1f}s] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(int(tcfg.get("threads", os.cpu_count() or 1)))
    else:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(tcfg.get("seed", 1))

    tok_path = os.path.join(a.corpus, "tokenizer.json")
    tok = bpe.Tokenizer.load(tok_path)
    data = corpus.load_packed(a.corpus)
    train_stream, dev_stream = data["train"], data["dev"]
    init = None
    if a.init and not (a.resume and os.path.exists(os.path.join(a.out, "ckpt.pt"))):
        import export
        init = export.load_gguf(a.init)
        if init[1].tokens != tok.tokens or init[1].merges != tok.merges:
            sys.exit(f"train: {a.init} has another tokenizer than {tok_path}; "
                     f"rebuild the corpus with corpus.py --tokenizer {a.init}")
        mcfg = cfg["model"] = dict(init[0].c)
    mcfg["vocab"] = len(tok)
    mcfg.setdefault("ff", modellib.default_ff(mcfg["d"]))
    mcfg.setdefault("kv_heads", mcfg["heads"])
    ctx = mcfg["ctx"]
    log(f"data: train {len(train_stream)/1e6:.2f}M tokens, dev {len(dev_stream)/1e6:.2f}M; "
        f"pre-tokenizer {bpe.PRETOKENIZER_KIND}; device {device}")

    m = (init[0] if init else modellib.Model(mcfg)).to(device)
    log(f"model: {m.n_params()/1e6:.2f}M parameters {json.dumps(mcfg)}")
    decay = [p for n, p in m.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in m.named_parameters() if p.dim() < 2]
    opt_kw = {"lr": tcfg["lr"], "betas": (0.9, 0.95), "eps": 1e-8}
    if device == "cuda":
        opt_kw["fused"] = True
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": tcfg.get("weight_decay", 0.1)},
                             {"params": nodecay, "weight_decay": 0.0}], **opt_kw)
    step, tokens = 0, 0
    fresh_opt = True
    ckpt_path = os.path.join(a.out, "ckpt.pt")
    if a.resume and os.path.exists(ckpt_path):
        ck = load_torch(ckpt_path, device)
        m.load_state_dict(ck["model"])
        if "opt" in ck:   # weights-only checkpoints (KEEP_WEIGHTS) restart the optimizer
            opt.load_state_dict(ck["opt"])
            fresh_opt = False
        step, tokens = ck["step"], ck["tokens"]
        log(f"resumed at step {step}, {tokens/1e6:.2f}M tokens")
    elif init:
        step, tokens = init[2]["steps"], init[2]["tokens"]
        if not tokens:   # a model exported before GGUFs carried the record
            step, tokens = ledger_last(a.ledger)
        log(f"initialised from {a.init} (trained {step} steps, {tokens/1e6:.2f}M tokens before)")

    use_amp = device == "cuda" and tcfg.get("bf16", True)
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else \
        (lambda: torch.autocast("cpu", enabled=False))
    hidden = m.hidden
    if device == "cuda" and tcfg.get("compile", True) and hasattr(torch, "compile"):
        hidden = torch.compile(m.hidden)

    bs = tcfg["batch_size"]
    loader = torch.utils.data.DataLoader(
        Batches(train_stream, tok, ctx, cfg["shaping"], bs, tcfg.get("seed", 1) + step),
        batch_size=None, num_workers=tcfg.get("workers", 0),
        pin_memory=device == "cuda", **({"prefetch_factor": 4} if tcfg.get("workers", 0) else {}))
    dev_batches = make_dev(dev_stream, tok, ctx, cfg["shaping"], tcfg.get("dev_rows", 64), bs)

    steps = tcfg.get("steps", 10**9)
    budget = tcfg.get("time_budget_s", 1e12)
    warm = tcfg.get("warmup", 50)
    lr0 = tcfg["lr"]
    accum = tcfg.get("accum", 1)
    log_every = tcfg.get("log_every", 10)
    eval_every_s = tcfg.get("eval_every_s", 300)
    ckpt_every_s = tcfg.get("ckpt_every_s", 300)
    start_step, start_tokens = step, tokens
    # A fresh optimizer warms up again, also when continuing a trained model.
    warm_from = start_step if fresh_opt else 0
    t_start = time.time()
    last_eval = last_ckpt = t_start
    tok_window, t_window = 0, time.time()
    it = iter(loader)
    metrics = {}
    run_loss = None
    while True:
        elapsed = time.time() - t_start
        prog = max((step - start_step) / max(1, steps - start_step), elapsed / budget)
        if prog >= 1.0:
            break
        lr = lr0 * min(1.0, (step - warm_from + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, prog))))
        for g in opt.param_groups:
            g["lr"] = lr
        total = 0.0
        for _ in range(accum):
            inp, tgt, w = next(it)
            inp = inp.to(device, non_blocking=True)
            tgt = tgt.to(device, non_blocking=True)
            w = w.to(device, non_blocking=True)
            with amp():
                loss = row_loss(m.out, hidden(inp), tgt, w) / accum
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(m.parameters(), tcfg.get("grad_clip", 1.0))
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        n = bs * ctx * accum
        tokens += n
        tok_window += n
        run_loss = total if run_loss is None else 0.9 * run_loss + 0.1 * total
        if step % log_every == 0:
            now = time.time()
            tps = tok_window / (now - t_window)
            tok_window, t_window = 0, now
            log(f"step {step} tokens {tokens/1e6:.3f}M tok/s {tps:.0f} loss {total:.4f} "
                f"(avg {run_loss:.4f}) lr {lr:.2e}")
            metrics.update({"step": step, "tokens": tokens, "tokens_per_s": tps,
                            "train_loss": run_loss})
        now = time.time()
        if now - last_eval >= eval_every_s:
            last_eval = now
            ev = evaluate(m, hidden, dev_batches, tok, device, amp)
            metrics.update(ev)
            log("eval " + " ".join(f"{k} {v:.4f}" for k, v in ev.items()))
        if now - last_ckpt >= ckpt_every_s:
            last_ckpt = now
            save_ckpt(ckpt_path, m, opt, step, tokens, cfg, tok_path)
            log(f"checkpoint {ckpt_path}")
    ev = evaluate(m, hidden, dev_batches, tok, device, amp)
    metrics.update(ev)
    metrics.update({"step": step, "tokens": tokens, "params": m.n_params(), "train_loss": run_loss,
                    "seconds": time.time() - t_start,
                    "tokens_per_s_mean": (tokens - start_tokens) / max(1e-9, time.time() - t_start)})
    log("eval " + " ".join(f"{k} {v:.4f}" for k, v in ev.items()))
    save_ckpt(ckpt_path, m, opt, step, tokens, cfg, tok_path)
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    if a.ledger:
        append_ledger(a.ledger, {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "where": f"{os.uname().nodename} {device}"
                     + (f" {torch.cuda.get_device_name()}" if device == "cuda" else
                        f" {torch.get_num_threads()} threads"),
            "config": a.config, "from": a.init if init else ("resume" if start_step else "scratch"),
            "params": m.n_params(), "steps": [start_step, step], "tokens": [start_tokens, tokens],
            "seconds": round(metrics["seconds"], 1),
            "tokens_per_s": round(metrics["tokens_per_s_mean"]),
            "lr": tcfg["lr"], "train_loss": round(run_loss, 4) if run_loss is not None else None,
            **{k: round(v, 4) for k, v in ev.items()}})
    log(f"done: step {step}, {tokens/1e6:.2f}M tokens, checkpoint {ckpt_path}")


if __name__ == "__main__":
    main()
