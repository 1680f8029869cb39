import os
import sys
import unittest

try:
    import numpy as np
except ImportError:
    raise unittest.SkipTest("numpy not installed: run with /usr/bin/python3")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import shaping  # noqa: E402

SRC = """package stack

// Stack is a LIFO of ints.
type Stack struct {
	items []int
}

// Push adds v on top.
func (s *Stack) Push(v int) {
	s.items = append(s.items, v)
}

// Pop removes and returns the top.
func (s *Stack) Pop() (int, bool) {
	if len(s.items) == 0 {
		return 0, false
	}
	v := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}
""" * 3


def tokenizer():
    counts = {}
    for p in bpe.pretokenize(SRC):
        counts[p] = counts.get(p, 0) + 1
    return bpe.train_bpe(counts, 400)


class ShapingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = tokenizer()
        cls.stream = np.array(cls.tok.encode(SRC * 4), dtype=np.uint16)

    def rows(self, cfg, n=60, ctx=128):
        sh = shaping.Shaper(self.tok, ctx, cfg, seed=5)
        for i in range(n):
            s = sh.rng.randrange(0, len(self.stream) - ctx - 40)
            before = sh.fallbacks
            row = sh.fim_row(self.stream[s:s + ctx + 32])
            if sh.fallbacks == before:   # skip the rare row that found no hole
                yield self.stream[s:s + ctx + 32], row
        self.assertLess(sh.fallbacks, n * 0.1)

    def test_fim_row_rebuilds_the_text(self):
        """Filling every hole slot with its target (pads dropped) gives back
        the window's text: holes are cut at characters, never lose or
        truncate an answer, and the rest is untouched."""
        tok = self.tok
        for window, (inp, tgt, w) in self.rows({"reveal": {"full": 1.0}}):
            self.assertEqual(len(inp), 128)
            filled = [int(t) if t != shaping.IGNORE else int(i) for i, t in zip(inp, tgt)]
            hole = tgt != shaping.IGNORE
            self.assertTrue((inp[hole] == tok.mask).all())
            text = tok.decode([t for t, h in zip(filled, hole) if not (h and t == tok.pad)])
            orig = tok.decode(list(window))
            # the row ends where ctx cut it; compare up to its last full line
            cut = text.rfind("\n")
            self.assertEqual(text[:cut], orig[:cut])

    def test_surplus_is_small_and_pads_follow_the_answer(self):
        tok = self.tok
        surpluses = []
        for _, (inp, tgt, w) in self.rows({"reveal": {"full": 1.0}, "holes": [1.0]}, n=200):
            slots = tgt[tgt != shaping.IGNORE]
            pads = np.flatnonzero(slots == tok.pad)
            if len(pads):
                # pads are one run at the end of the hole
                self.assertEqual(list(pads), list(range(pads[0], len(slots))))
            surpluses.append(len(pads))
        self.assertLessEqual(max(surpluses), 32)
        self.assertGreater(np.mean(np.array(surpluses) <= 4), 0.45)
        self.assertLess(np.mean(surpluses), 8)

    def test_hole_never_exceeds_cap(self):
        cfg = {"reveal": {"full": 1.0}, "holes": [1.0], "max_hole_tokens": 8,
               "surplus": [[1.0, 0, 0]], "kinds": {"block": 1.0}}
        for _, (inp, tgt, w) in self.rows(cfg):
            self.assertLessEqual(int((tgt != shaping.IGNORE).sum()), 8)

    def test_left_to_right_reveal(self):
        tok = self.tok
        for _, (inp, tgt, w) in self.rows({"reveal": {"l2r": 1.0}, "holes": [1.0]}):
            m = np.flatnonzero(tgt != shaping.IGNORE)
            # masked slots are one contiguous run (the hole's unrevealed right part)
            self.assertEqual(list(m), list(range(m[0], m[0] + len(m))))
            self.assertTrue((inp[m] == tok.mask).all())
            self.assertAlmostEqual(float(w.sum()), 1.0, places=5)

    def test_diffusion_row_weights(self):
        sh = shaping.Shaper(self.tok, 64, {}, seed=1)
        for _ in range(20):
            inp, tgt, w = sh.diffusion_row(self.stream[:64])
            m = tgt != shaping.IGNORE
            self.assertTrue(m.any())
            self.assertTrue((inp[m] == self.tok.mask).all())
            self.assertTrue((inp[~m] == self.stream[:64][~m]).all())
            # every masked token carries 1/(t*ctx): the same weight
            self.assertTrue(np.allclose(w[m], w[m][0]))
            self.assertTrue((w[~m] == 0).all())

    def test_batch_shapes(self):
        sh = shaping.Shaper(self.tok, 96, {"fim_fraction": 0.5}, seed=2)
        inp, tgt, w = sh.batch(self.stream, 8)
        self.assertEqual(inp.shape, (8, 96))
        self.assertEqual(tgt.shape, (8, 96))
        self.assertEqual(w.dtype, np.float32)
        self.assertTrue(((tgt == shaping.IGNORE) == (w == 0)).all())


if __name__ == "__main__":
    unittest.main()
