"""bench_scaling's forward pass in PyTorch: `torch_twin.py forward` (bench/torch_twin.py parses the flags).

The same model and measurement as bench/bench_scaling.cpp, so the two tables can be read side by side:
token embedding + positions, --depth pre-norm blocks (4x GELU feed-forward), final LayerNorm, no vocabulary
head; Linformer with layerwise sharing (one E for every layer, head, key and value) in lf's order
(E^T X) W^T. Pass bench_scaling's sizes (--dim 128 --heads 4 --depth 1: the
twin's own defaults are bench_train_step's). Eval mode, no_grad; --tokens tokens per forward (batch = tokens / n, at least 1). For each n the
contenders are timed in turns, at least --reps forwards each and until --min-seconds have passed (at most
100); each reports its median. Time: CUDA events around the forward on a GPU (perf_counter on the CPU).
Memory: torch.cuda.max_memory_allocated() during the forward minus the memory allocated before it, per
sequence (not measured on the CPU). Contenders:
  standard  the twin's own attention: softmax(q k^T / sqrt(dh)) v, the [B, h, n, n] scores materialised
            (skipped as "no fit" beyond --max-gb, as bench_scaling does)
  sdpa      torch.nn.functional.scaled_dot_product_attention: what a PyTorch user would pick today
            (flash / memory-efficient kernels; PyTorch >= 2.0)
  lin k=K   the Linformer, for each --ks value K <= n
"""
import math
import time

import torch
import torch.nn.functional as F

import torch_twin as tw


class SdpaAttention(tw.Attention):
    """Standard attention through scaled_dot_product_attention; the same parameters as tw.Attention."""

    def forward(self, x, shared=None):
        b, n, d = x.shape
        q, k, v = (t.reshape(b, n, self.h, self.dh).transpose(1, 2) for t in self.qkv(x).chunk(3, dim=-1))
        return self.out(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d))


def encode(m, ids):
    """The MaskedLM without its head: [B, n] -> [B, n, D]."""
    x = m.tok(ids) + m.pos[: ids.shape[1]]
    shared = getattr(m, "E", None)
    for blk in m.blocks:
        x = blk(x, shared)
    return m.ln(x)


class Contender:
    def __init__(self, a, name, n, k=None):
        self.name, self.ms, self.act, self.failed = name, [], 0.0, ""
        self.batch = max(1, a.tokens // n)
        self.cuda = a.device.startswith("cuda")
        if name == "sdpa" and not hasattr(F, "scaled_dot_product_attention"):
            self.failed = "n/a"  # run() says why
            return
        if name == "standard" and 2.0 * self.batch * a.heads * n * n * 4 / 1e9 > a.max_gb:
            self.failed = "no fit"
            return
        torch.manual_seed(0)
        c = tw.Config(vocab=256, dim=a.dim, depth=a.depth, heads=a.heads, max_len=n, k=k or 1,
                      attention="linformer" if k else "standard", sharing="layerwise", sinusoidal_init=False)
        try:
            self.model = tw.MaskedLM(c, project_first=True).to(a.device).eval()
            if name == "sdpa":
                for blk in self.model.blocks:
                    blk.att.__class__ = SdpaAttention
            self.x = torch.randint(0, 256, (self.batch, n), device=a.device)
            with torch.no_grad():
                encode(self.model, self.x).sum().item()  # warm-up: kernels chosen, memory cached
        except torch.cuda.OutOfMemoryError:
            self.drop("out of memory")

    def drop(self, why):
        self.model = self.x = None
        self.failed = why
        if self.cuda:
            torch.cuda.empty_cache()

    def time_once(self):
        try:
            with torch.no_grad():
                if not self.cuda:
                    t = time.perf_counter()
                    encode(self.model, self.x)
                    self.ms.append((time.perf_counter() - t) * 1e3)
                    return
                torch.cuda.synchronize()
                before = torch.cuda.memory_allocated()
                torch.cuda.reset_peak_memory_stats()
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                y = encode(self.model, self.x)
                end.record()
                end.synchronize()
                self.ms.append(start.elapsed_time(end))
                self.act = torch.cuda.max_memory_allocated() - before
                del y
        except torch.cuda.OutOfMemoryError:
            self.drop("out of memory")

    def result(self):
        """(ms per sequence, MB per sequence or None) or the reason there is none."""
        if self.failed or not self.ms:
            return self.failed or "no time"
        med = sorted(self.ms)[len(self.ms) // 2]
        return med / self.batch, (self.act / self.batch / 1e6 if self.cuda else None)


def fmt_cell(r, i, f):
    if isinstance(r, str):
        return r
    return "-" if r[i] is None else f.format(r[i])


def ratio(a, b, i):
    ok = not isinstance(a, str) and not isinstance(b, str) and a[i] is not None and b[i] is not None
    return f"{a[i] / b[i]:.2f}x" if ok else "-"


def run(a):
    dev = torch.cuda.get_device_name() if a.device.startswith("cuda") else "cpu"
    print(f"torch {torch.__version__} on {dev}: dim {a.dim}, heads {a.heads}, depth {a.depth}, {a.tokens} tokens "
          f"per forward, TF32 {'on' if a.tf32 else 'off'}")
    if not hasattr(F, "scaled_dot_product_attention"):
        print(f"sdpa: n/a, torch {torch.__version__} has no scaled_dot_product_attention (PyTorch >= 2.0)")
    print(f"{'n':>6} {'k':>4} | {'lin ms/seq':>10} {'std ms/seq':>10} {'sdpa ms/seq':>11} | {'std/lin':>8} "
          f"{'sdpa/lin':>8} | {'lin MB':>8} {'std MB':>8} {'sdpa MB':>8} | {'std/lin':>8} {'sdpa/lin':>8}")
    for n in sorted(set(a.ns)):
        ks = [k for k in sorted(set(a.ks)) if k <= n]
        cs = [Contender(a, "standard", n), Contender(a, "sdpa", n)] + [Contender(a, f"lin k={k}", n, k) for k in ks]
        start, r = time.perf_counter(), 0
        while r < a.reps or (r < 100 and time.perf_counter() - start < a.min_seconds):
            for c in cs:
                if not c.failed:
                    c.time_once()
            r += 1
        std, sdpa = cs[0].result(), cs[1].result()
        for k, c in zip(ks, cs[2:]):
            lin = c.result()
            print(f"{n:>6} {k:>4} | {fmt_cell(lin, 0, '{:.3f}'):>10} {fmt_cell(std, 0, '{:.3f}'):>10} "
                  f"{fmt_cell(sdpa, 0, '{:.3f}'):>11} | {ratio(std, lin, 0):>8} {ratio(sdpa, lin, 0):>8} | "
                  f"{fmt_cell(lin, 1, '{:.1f}'):>8} {fmt_cell(std, 1, '{:.1f}'):>8} {fmt_cell(sdpa, 1, '{:.1f}'):>8} | "
                  f"{ratio(std, lin, 1):>8} {ratio(sdpa, lin, 1):>8}", flush=True)
        del cs
        if a.device.startswith("cuda"):
            torch.cuda.empty_cache()
