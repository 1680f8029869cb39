import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

TRICKY = [
    "func main() {\n\tx := 1\n\n\tif x > 0 {\n\t\treturn\n\t}\n}\n",
    "def f(a, b):\n    return a+b  # don't\r\n\n   \n",
    "It's we'LL 'Re x123 ü→ λx.   y\t\t\n\n  ",
    "a  b   \n",
    "",
    "   ",
    "'s'S'd", "(foo[bar])\n\n}\n", "x\u00a0y\u3000z",
]


class PretokenizerTest(unittest.TestCase):
    def test_pure_scanner_matches_regex(self):
        try:
            import regex
        except ImportError:
            self.skipTest("regex not installed: apt-get install python3-regex (and run with /usr/bin/python3)")
        pat = regex.compile(bpe.QWEN2_PATTERN)
        for s in TRICKY:
            self.assertEqual(bpe.pretokenize_pure(s), pat.findall(s), repr(s))

    def test_pieces_cover_text(self):
        for s in TRICKY:
            self.assertEqual("".join(bpe.pretokenize_pure(s)), s)

    def test_newline_runs_split_from_indentation(self):
        self.assertEqual(bpe.pretokenize_pure("{\n\t\tx"), ["{\n", "\t", "\tx"])


class TokenizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        text = "".join(TRICKY) * 20 + "return nil\n" * 50
        counts = {}
        for p in bpe.pretokenize(text):
            counts[p] = counts.get(p, 0) + 1
        cls.tok = bpe.train_bpe(counts, 300)

    def test_vocab_size_and_specials(self):
        tok = self.tok
        self.assertEqual(len(tok), 300)
        self.assertEqual(tok.tokens[-3:], list(bpe.SPECIALS))
        self.assertEqual(tok.pad, tok.eos)
        self.assertNotEqual(tok.mask, tok.eos)

    def test_frequent_word_becomes_one_token(self):
        self.assertEqual(len(self.tok.encode("return")), 1)

    def test_roundtrip(self):
        for s in TRICKY + ["unseen wörds ✓ 12345"]:
            self.assertEqual(self.tok.decode(self.tok.encode(s)), s)

    def test_specials_only_when_asked(self):
        s = "a<|mask|>b"
        self.assertIn(self.tok.mask, self.tok.encode(s, specials=True))
        self.assertNotIn(self.tok.mask, self.tok.encode(s))

    def test_merges_are_gpt2_strings(self):
        for m in self.tok.merges:
            a, b = m.split(" ")
            self.assertIn(a + b, self.tok.id_of)
            self.assertNotIn(" ", a + b)   # byte-level: space is Ġ

    def test_save_load(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "t.json")
            self.tok.save(p)
            t2 = bpe.Tokenizer.load(p)
        self.assertEqual(t2.encode(TRICKY[0]), self.tok.encode(TRICKY[0]))


if __name__ == "__main__":
    unittest.main()
