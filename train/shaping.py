"""Training rows for dfim's built-in diffusion model.

Two kinds of rows, mixed by cfg["fim_fraction"]:

- diffusion rows: a window of the token stream; each token is masked with
  probability t ~ U(t_min, t_max) (t_max = 1 is LLaDA's); loss on masked tokens weighted 1/t (LLaDA's
  objective), normalised by the row length.
- infilling rows, shaped like the holes an editor makes: the rest of a line,
  one line after its indentation, 2-6 whole lines, a block, or a random span of
  characters. Holes are cut in the *text* and prefix, middle and suffix are
  tokenized separately, exactly as the Go engine tokenizes a canvas, so the
  token boundaries at a hole's edges match inference. A hole gets
  len(middle) + surplus mask slots, surplus mostly 0-4 (rarely up to 32), the
  surplus targeted as pad (<|endoftext|>). That pad right after the last true
  token is the length signal: the Go decoder fills a hole left to right in
  blocks and stops at the first committed pad, so the model is trained on
  exactly those states (the first j slots already revealed, j <= true length)
  as well as on fully masked and randomly revealed holes. Loss: mean
  cross-entropy over the row's still-masked slots.

Rows are fixed length (ctx); a short row is filled with pad, without loss.
"""
import random

import numpy as np

IGNORE = -100

DEFAULT = {
    "fim_fraction": 0.6,
    "t_min": 0.01,
    "t_max": 1.0,    # < 1 gives small models more context to learn from early
    "max_hole_tokens": 64,
    # hole kinds and their weights
    "kinds": {"line": 0.3, "line_rest": 0.2, "lines": 0.2, "block": 0.1, "span": 0.2},
    # number of holes in an infilling row: weights for 1, 2, 3, ...
    "holes": [0.7, 0.2, 0.1],
    # surplus slots: [weight, lo, hi] (inclusive)
    "surplus": [[0.6, 0, 4], [0.3, 5, 12], [0.1, 13, 32]],
    # how much of a hole is already revealed: full mask, left-to-right prefix, random
    "reveal": {"full": 0.5, "l2r": 0.3, "random": 0.2},
}


def _pick(rng, weights):
    """Index or key chosen by weight from a list or dict."""
    items = list(weights.items()) if isinstance(weights, dict) else list(enumerate(weights))
    total = sum(w for _, w in items)
    x = rng.random() * total
    for k, w in items:
        x -= w
        if x < 0:
            return k
    return items[-1][0]


class Shaper:
    def __init__(self, tok, ctx, cfg=None, seed=0):
        self.tok = tok
        self.ctx = ctx
        self.cfg = dict(DEFAULT)
        self.cfg.update(cfg or {})
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.fallbacks = 0   # infilling rows that found no hole and became diffusion rows

    # ---- diffusion rows ----------------------------------------------------

    def diffusion_row(self, window):
        ctx = self.ctx
        window = np.asarray(window[:ctx], dtype=np.int64)
        t = self.rng.uniform(self.cfg["t_min"], self.cfg["t_max"])
        m = self.np_rng.random(len(window)) < t
        if not m.any():
            m[self.rng.randrange(len(window))] = True
        inp = np.where(m, self.tok.mask, window)
        tgt = np.where(m, window, IGNORE)
        w = np.where(m, 1.0 / t / ctx, 0.0).astype(np.float32)
        return self._fit(inp, tgt, w)

    def _fit(self, inp, tgt, w):
        n = len(inp)
        if n >= self.ctx:
            return inp[:self.ctx], tgt[:self.ctx], w[:self.ctx]
        padn = self.ctx - n
        return (np.concatenate([inp, np.full(padn, self.tok.pad)]),
                np.concatenate([tgt, np.full(padn, IGNORE)]),
                np.concatenate([w, np.zeros(padn, np.float32)]))

    # ---- infilling rows ----------------------------------------------------

    def choose_holes(self, text, limit=None):
        """Non-overlapping (start, end) character spans of editor-like holes,
        ending before limit, sorted. May return [] when the text has no
        usable line."""
        limit = len(text) if limit is None else limit
        rng = self.rng
        k = _pick(rng, self.cfg["holes"]) + 1
        lines = _line_spans(text)
        # skip the first line (the window may start mid-line) and keep some
        # text after the last hole
        usable = [i for i in range(1, len(lines) - 1) if text[lines[i][0]:lines[i][1]].strip()]
        holes = []
        for _ in range(k * 8):
            if len(holes) >= k:
                break
            h = self._one_hole(text, lines, usable, limit)
            if h is None:
                continue
            s, e = h
            if e > limit:
                continue
            if "<|" in text[max(0, s - 12):e + 12]:
                continue
            if any(s <= e2 and s2 <= e for s2, e2 in holes):
                continue
            holes.append(h)
        return sorted(holes)

    def _one_hole(self, text, lines, usable, limit):
        rng = self.rng
        kind = _pick(rng, self.cfg["kinds"])
        if kind == "span" or not usable:
            if len(text) < 40:
                return None
            n = rng.randint(5, 80)
            s = rng.randrange(len(text) // 8, max(len(text) // 8 + 1, len(text) - n - 8))
            return s, min(len(text) - 1, s + n)
        i = rng.choice(usable)
        ls, le = lines[i]
        content_start = ls + (len(text[ls:le]) - len(text[ls:le].lstrip()))
        if kind == "line":
            return content_start, le
        if kind == "line_rest":
            if le - content_start < 2:
                return content_start, le
            return rng.randrange(content_start + 1, le), le
        n = rng.randint(2, 6) if kind == "lines" else rng.randint(4, 12)
        j = min(i + n - 1, len(lines) - 2)
        while j > i and lines[j][1] > limit:
            j -= 1
        return content_start, lines[j][1]

    def fim_row(self, window):
        """An infilling row from a token window (longer than ctx is better:
        the re-encoded text may come out a little shorter)."""
        tok = self.tok
        text = tok.decode_bytes(list(window)).decode("utf-8", errors="ignore")
        # holes end well inside the row, so that ctx never cuts an answer
        limit = len(tok.decode_bytes(list(window[:int(self.ctx * 0.8)])).decode("utf-8", errors="ignore"))
        holes = self.choose_holes(text, limit)
        if not holes:
            self.fallbacks += 1
            return self.diffusion_row(window)
        inp, tgt, w = [], [], []
        slots = []   # (start index in row, true length, n slots)
        pos = 0
        for s, e in holes:
            fixed = tok.encode(text[pos:s], specials=True)
            inp += fixed
            tgt += [IGNORE] * len(fixed)
            mid = tok.encode(text[s:e])
            cap = self.cfg["max_hole_tokens"]
            if len(mid) > cap:
                # shorten the hole, not its answer: the rest joins the suffix
                e = s + len(tok.decode_bytes(mid[:cap]).decode("utf-8", errors="ignore"))
                mid = tok.encode(text[s:e])[:cap]
            surplus = self._surplus()
            n = len(mid) + surplus
            if n == 0:
                n = 1
            slots.append((len(inp), len(mid), n))
            inp += [tok.mask] * n
            tgt += mid + [tok.pad] * (n - len(mid))
            pos = e
        fixed = tok.encode(text[pos:], specials=True)
        inp += fixed
        tgt += [IGNORE] * len(fixed)
        inp = np.array(inp, dtype=np.int64)
        tgt = np.array(tgt, dtype=np.int64)
        # reveal part of each hole as the decoder would have by now
        mode = _pick(self.rng, self.cfg["reveal"])
        masked = np.zeros(len(inp), bool)
        hole = np.zeros(len(inp), bool)
        for start, true_len, n in slots:
            hole[start:start + n] = True
            if mode == "l2r":
                j = self.rng.randint(0, min(true_len, n - 1))
                masked[start + j:start + n] = True
            elif mode == "random":
                t = self.rng.uniform(0.1, 1.0)
                m = self.np_rng.random(n) < t
                if not m.any():
                    m[self.rng.randrange(n)] = True
                masked[start:start + n] = m
            else:
                masked[start:start + n] = True
        masked[self.ctx:] = False
        inp = np.where(masked, tok.mask, np.where(hole, tgt, inp))
        tgt = np.where(masked, tgt, IGNORE)
        cnt = max(1, int(masked.sum()))
        w = np.where(masked, 1.0 / cnt, 0.0).astype(np.float32)
        if not masked.any():
            self.fallbacks += 1
            return self.diffusion_row(window)
        return self._fit(inp, tgt, w)

    def _surplus(self):
        _, lo, hi = self.cfg["surplus"][_pick(self.rng, [s[0] for s in self.cfg["surplus"]])]
        return self.rng.randint(lo, hi)

    # ---- batches -----------------------------------------------------------

    def batch(self, stream, batch_size):
        """(inp, tgt, w) numpy arrays [batch_size, ctx] from random windows of
        the uint16 token stream."""
        ctx = self.ctx
        rows = []
        hi = len(stream) - ctx - 33
        for _ in range(batch_size):
            s = self.rng.randrange(0, hi)
            if self.rng.random() < self.cfg["fim_fraction"]:
                rows.append(self.fim_row(stream[s:s + ctx + 32]))
            else:
                rows.append(self.diffusion_row(stream[s:s + ctx]))
        return tuple(np.stack(x) for x in zip(*rows))


def _line_spans(text):
    """(start, end) of each line, end excluding its newline."""
    spans = []
    s = 0
    while True:
        e = text.find("\n", s)
        if e < 0:
            spans.append((s, len(text)))
            return spans
        spans.append((s, e))
        s = e + 1
