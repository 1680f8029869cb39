import json
import os
import struct
import sys
import unittest

try:
    import numpy as np
except ImportError:
    raise unittest.SkipTest("numpy not installed: run with /usr/bin/python3")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf  # noqa: E402


class WriterTest(unittest.TestCase):
    def test_header_metadata_and_alignment(self):
        w = gguf.Writer()
        w.add("general.architecture", "llada")
        w.add("llada.block_count", 2)
        w.add("llada.attention.layer_norm_rms_epsilon", 1e-5)
        w.add("tokenizer.ggml.tokens", ["a", "Ġb"])
        w.add("tokenizer.ggml.token_type", [gguf.I32(1), gguf.I32(3)])
        w.add("flag", False)
        w.add_tensor("norm", np.ones(3, np.float32), gguf.GGML_F32)
        w.add_tensor("m", np.arange(64, dtype=np.float32).reshape(2, 32), gguf.GGML_F16)
        b = w.tobytes()
        self.assertEqual(b[:4], b"GGUF")
        self.assertEqual(struct.unpack_from("<IQQ", b, 4), (3, 2, 6))
        meta, tensors = gguf.read(b)
        self.assertEqual(meta["general.architecture"], "llada")
        self.assertEqual(meta["llada.block_count"], 2)
        self.assertAlmostEqual(meta["llada.attention.layer_norm_rms_epsilon"], 1e-5)
        self.assertEqual(meta["tokenizer.ggml.tokens"], ["a", "Ġb"])
        self.assertEqual(meta["tokenizer.ggml.token_type"], [1, 3])
        self.assertIs(meta["flag"], False)
        shape, t, a = tensors["m"]
        self.assertEqual((shape, t), ((2, 32), gguf.GGML_F16))
        self.assertTrue((a == np.arange(64).reshape(2, 32)).all())
        # dims are stored innermost first: ne0 = 32
        i = b.index(b"\x01\x00\x00\x00\x00\x00\x00\x00m")
        nd, ne0, ne1 = struct.unpack_from("<IQQ", b, i + 9)
        self.assertEqual((nd, ne0, ne1), (2, 32, 2))

    def test_q8_0_layout_and_error(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(3, 64)).astype(np.float32)
        data, deq = gguf.quantize_q8_0(x)
        self.assertEqual(len(data), 3 * 2 * 34)   # 6 blocks of fp16 scale + 32 int8
        d0 = np.frombuffer(data[:2], "<f2")[0]
        self.assertAlmostEqual(float(d0), np.abs(x[0, :32]).max() / 127, places=3)
        q0 = np.frombuffer(data[2:34], np.int8)
        self.assertEqual(int(np.abs(q0).max()), 127)
        self.assertLess(np.abs(deq - x).max(), np.abs(x).max() / 127)
        with self.assertRaises(ValueError):
            gguf.quantize_q8_0(np.ones((2, 31), np.float32))


def ref_forward(meta, T, ids):
    """A numpy forward of llama.cpp's llada graph from the GGUF's own
    metadata and tensors (weights [out, in] as stored, rope on adjacent
    pairs), independent of model.py."""
    a = "llada."
    L, H, KV = meta[a + "block_count"], meta[a + "attention.head_count"], meta[a + "attention.head_count_kv"]
    eps, base = meta[a + "attention.layer_norm_rms_epsilon"], meta[a + "rope.freq_base"]
    g = lambda n: T[n][2].astype(np.float64)
    x = g("token_embd.weight")[ids]
    n, d = x.shape
    hd = d // H

    def norm(v, w):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + eps) * w

    def rope(v):   # v [n, heads, hd]
        out = v.copy()
        for i in range(hd // 2):
            th = np.arange(n)[:, None] * base ** (-2 * i / hd)
            c, s = np.cos(th), np.sin(th)
            x0, x1 = v[:, :, 2 * i], v[:, :, 2 * i + 1]
            out[:, :, 2 * i], out[:, :, 2 * i + 1] = x0 * c - x1 * s, x0 * s + x1 * c
        return out

    for l in range(L):
        p = f"blk.{l}."
        h = norm(x, g(p + "attn_norm.weight"))
        q = rope((h @ g(p + "attn_q.weight").T).reshape(n, H, hd))
        k = rope((h @ g(p + "attn_k.weight").T).reshape(n, KV, hd))
        v = (h @ g(p + "attn_v.weight").T).reshape(n, KV, hd)
        o = np.zeros((n, H, hd))
        for hh in range(H):
            kv = hh // (H // KV)
            s = q[:, hh] @ k[:, kv].T / np.sqrt(hd)
            s = np.exp(s - s.max(-1, keepdims=True))
            o[:, hh] = (s / s.sum(-1, keepdims=True)) @ v[:, kv]
        x = x + o.reshape(n, d) @ g(p + "attn_output.weight").T
        h = norm(x, g(p + "ffn_norm.weight"))
        gate, up = h @ g(p + "ffn_gate.weight").T, h @ g(p + "ffn_up.weight").T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ g(p + "ffn_down.weight").T
    return norm(x, g("output_norm.weight")) @ g("output.weight").T


class ExportTest(unittest.TestCase):
    def test_export_matches_reference_forward(self):
        try:
            import torch
        except ImportError:
            self.skipTest("torch not installed: apt-get install python3-torch (and run with /usr/bin/python3)")
        import bpe
        import export
        import model as modellib
        counts = {}
        for p in bpe.pretokenize(export.GOLDEN_PREFIX + export.GOLDEN_SUFFIX):
            counts[p] = counts.get(p, 0) + 1
        tok = bpe.train_bpe(counts, 300)
        torch.manual_seed(0)
        c = {"d": 64, "layers": 2, "heads": 4, "kv_heads": 2, "ff": 96, "ctx": 128,
             "vocab": len(tok), "eps": 1e-5, "rope_base": 10000.0}
        m = modellib.Model(c).eval()
        with torch.no_grad():   # make the norms non-trivial
            for b in m.blocks:
                b.attn_norm.weight.uniform_(0.5, 1.5)
        w, stored = export.build_gguf(m, tok)
        meta, T = gguf.read(w.tobytes())
        self.assertEqual(meta["general.architecture"], "llada")
        for key in ["context_length", "embedding_length", "block_count", "feed_forward_length",
                    "attention.head_count", "attention.head_count_kv",
                    "attention.layer_norm_rms_epsilon", "rope.freq_base", "vocab_size"]:
            self.assertIn("llada." + key, meta)
        self.assertEqual(meta["tokenizer.ggml.model"], "gpt2")
        self.assertEqual(meta["tokenizer.ggml.pre"], "qwen2")
        self.assertEqual(meta["tokenizer.ggml.mask_token_id"], tok.mask)
        self.assertEqual(meta["tokenizer.ggml.token_type"][tok.mask], 3)
        self.assertEqual(T["blk.0.attn_q.weight"][1], gguf.GGML_Q8_0)
        self.assertEqual(T["blk.0.attn_norm.weight"][1], gguf.GGML_F32)
        self.assertEqual(T["blk.0.attn_k.weight"][0], (32, 64))   # [out, in]: ne0 = in = 64
        export.load_stored(m, stored)
        g = export.golden(m, tok)
        json.dumps(g)
        self.assertLessEqual(len(g["positions"]), 4)
        self.assertTrue(all(g["tokens"][p] == tok.mask for p in g["positions"]))
        ref = ref_forward(meta, T, np.array(g["tokens"]))
        for p, row in zip(g["positions"], g["logits"]):
            self.assertEqual(len(row), len(tok))
            np.testing.assert_allclose(np.array(row), ref[p], rtol=1e-4, atol=1e-4)


if __name__ == "__main__":
    unittest.main()
