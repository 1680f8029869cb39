"""The built-in model: a bidirectional transformer with llama.cpp's `llada`
graph (RMSNorm, RoPE on adjacent pairs, grouped-query attention without a
causal mask, SwiGLU, separate output matrix). No QK-norm: llada has none.

Works on torch 1.13 (CPU, no scaled_dot_product_attention) and torch 2.x
(CUDA, bf16, torch.compile).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (xf * self.weight.float()).to(x.dtype)


def rope_tables(ctx, head_dim, base, device=None):
    """cos, sin [ctx, head_dim/2] for llama.cpp's normal rope: pair (2i, 2i+1)
    turns by pos * base^(-2i/head_dim)."""
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    ang = torch.arange(ctx, dtype=torch.float64)[:, None] * inv[None, :]
    return ang.cos().float().to(device), ang.sin().float().to(device)


def apply_rope(x, cos, sin):
    """x [B, H, T, hd]; rotates adjacent pairs."""
    T = x.shape[-2]
    xf = x.float().reshape(*x.shape[:-1], -1, 2)
    x0, x1 = xf[..., 0], xf[..., 1]
    c, s = cos[:T], sin[:T]
    out = torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1)
    return out.flatten(-2).to(x.dtype)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, kv = c["d"], c["heads"], c["kv_heads"]
        self.h, self.kv, self.hd = h, kv, d // h
        self.attn_norm = RMSNorm(d, c["eps"])
        self.q = nn.Linear(d, h * self.hd, bias=False)
        self.k = nn.Linear(d, kv * self.hd, bias=False)
        self.v = nn.Linear(d, kv * self.hd, bias=False)
        self.o = nn.Linear(h * self.hd, d, bias=False)
        self.ffn_norm = RMSNorm(d, c["eps"])
        self.gate = nn.Linear(d, c["ff"], bias=False)
        self.up = nn.Linear(d, c["ff"], bias=False)
        self.down = nn.Linear(c["ff"], d, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        hx = self.attn_norm(x)
        q = self.q(hx).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k(hx).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = self.v(hx).view(B, T, self.kv, self.hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if self.kv != self.h:
            rep = self.h // self.kv
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if HAS_SDPA:
            a = F.scaled_dot_product_attention(q, k, v)
        else:
            att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd))
            a = att.softmax(-1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(B, T, -1))
        hx = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(hx)) * self.up(hx))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = dict(c)
        self.embed = nn.Embedding(c["vocab"], c["d"])
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.norm = RMSNorm(c["d"], c["eps"])
        self.out = nn.Linear(c["d"], c["vocab"], bias=False)
        if c.get("tied"):
            self.out.weight = self.embed.weight
        cos, sin = rope_tables(c["ctx"], c["d"] // c["heads"], c["rope_base"])
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.apply(self._init)
        for b in self.blocks:
            nn.init.normal_(b.o.weight, std=0.02 / math.sqrt(2 * c["layers"]))
            nn.init.normal_(b.down.weight, std=0.02 / math.sqrt(2 * c["layers"]))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def hidden(self, ids):
        """The normed last hidden state [B, T, d], before the output matrix
        (training applies `out` only where a loss is taken)."""
        x = self.embed(ids)
        for b in self.blocks:
            x = b(x, self.cos, self.sin)
        return self.norm(x)

    def forward(self, ids):
        return self.out(self.hidden(ids))

    def n_params(self):
        return sum(p.numel() for p in self.parameters())


def default_ff(d):
    """SwiGLU width about 8/3 d, a multiple of 64."""
    return int(math.ceil(d * 8 / 3 / 64) * 64)
