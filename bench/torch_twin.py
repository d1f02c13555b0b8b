"""The PyTorch twin of linformer.cpp's MaskedLM, for side-by-side timing (bench_train_step --torch).

Same architecture, sizes and parameter names as nn/models.h (so `model.safetensors` files load into it):
token embedding + learned positions, pre-norm blocks (LayerNorm -> attention -> residual, LayerNorm ->
GELU feed-forward x4 -> residual), final LayerNorm, a linear head. Linformer attention projects keys and
values along the sequence axis with E, F of shape (n, k), one pair per layer (headwise sharing).

  /usr/bin/python3 bench/torch_twin.py step --n 512 --k 128 --dim 128 --depth 4 --heads 4 --batch 8
  /usr/bin/python3 bench/torch_twin.py step --device cuda
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, dim, heads, n, k, linear, project_first=False):
        super().__init__()
        self.h, self.dh, self.linear, self.project_first = heads, dim // heads, linear, project_first
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        if linear:
            bound = 1 / math.sqrt(k)
            self.E = nn.Parameter(torch.empty(n, k).uniform_(-bound, bound))
            self.F = nn.Parameter(torch.empty(n, k).uniform_(-bound, bound))

    def forward(self, x):
        b, n, d = x.shape
        if self.linear and self.project_first:
            # lf's order: K' = E^T (X Wk^T + 1 bk^T) = (E^T X) Wk^T + (E^T 1) bk^T, the same function with
            # the [d, d] projection on k rows instead of n (nn/linformer_attention.cpp, project_then_map)
            (wq, wk, wv), (bq, bk, bv) = self.qkv.weight.chunk(3), self.qkv.bias.chunk(3)
            E, F_ = self.E[:n], self.F[:n]
            q = F.linear(x, wq, bq)
            k = F.linear(E.t() @ x, wk) + E.sum(0)[:, None] * bk
            v = F.linear(F_.t() @ x, wv) + F_.sum(0)[:, None] * bv
        else:
            q, k, v = self.qkv(x).chunk(3, dim=-1)
            if self.linear:  # K' = E^T K, V' = F^T V: (b, n, d) -> (b, k, d)
                k = self.E[:n].t() @ k
                v = self.F[:n].t() @ v
        split = lambda t: t.reshape(b, t.shape[1], self.h, self.dh).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), dim=-1)
        return self.out((att @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, dim, heads, n, k, linear, project_first=False):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.att = Attention(dim, heads, n, k, linear, project_first)
        self.ff = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.att(self.ln1(x))
        return x + self.ff(self.ln2(x))


class MaskedLM(nn.Module):
    def __init__(self, vocab, dim, depth, heads, n, k, linear=True, project_first=False):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(n, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, n, k, linear, project_first) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, idx):
        x = self.tok(idx) + self.pos[: idx.shape[1]]
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln(x))


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def step_bench(a):
    torch.manual_seed(0)
    m = MaskedLM(a.vocab, a.dim, a.depth, a.heads, a.n, a.k, not a.standard, a.project_first).to(a.device)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
    x = torch.randint(0, a.vocab, (a.batch, a.n), device=a.device)
    y = torch.randint(0, a.vocab, (a.batch * a.n,), device=a.device)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(x).reshape(-1, a.vocab), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        sync(a.device)
        t = time.perf_counter()
        step()
        sync(a.device)
        times.append(time.perf_counter() - t)
    times.sort()
    med = times[len(times) // 2]
    print(json.dumps({"peer": "torch", "version": torch.__version__, "threads": torch.get_num_threads(),
                      "device": a.device, "n": a.n, "k": a.k, "dim": a.dim, "depth": a.depth,
                      "batch": a.batch, "standard": a.standard, "project_first": a.project_first, "ms_per_step": round(med * 1e3, 2),
                      "tokens_per_s": round(a.batch * a.n / med)}), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["step"])
    p.add_argument("--vocab", type=int, default=256)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--n", type=int, default=512)
    p.add_argument("--k", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--standard", action="store_true")
    p.add_argument("--project-first", action="store_true", help="compute K', V' as (E^T X) W^T, as lf does")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    step_bench(a)
