"""The PyTorch twin of linformer.cpp's MaskedLM: the reference for the parity tests, and a timing peer.

The same architecture, parameter names and shapes as nn/models.h in every configuration lf has (standard
attention, or Linformer with sharing none / headwise / kv / layerwise; untied or tied embeddings), so lf's
files load into it with load_lf(): a model file (`save_safetensors(path, model.state_dict())`) or a
train_mlm checkpoint (its `model.` prefix is stripped, `optim.*` and `extra.*` are skipped). The model's
sizes, vocabulary included, come from the file's `config` metadata (lf's EncoderConfig as JSON).

  x = tok[ids] + pos[:n]                                  [B, n, D]
  per block: x = x + att(ln1(x)); x = x + ff(ln2(x))      pre-norm; ff = Linear(D, 4D), exact-erf GELU, Linear
  logits = head(ln(x))                                    [B, n, V]; the head reuses tok.weight when tied

Modes:
  step     time training steps (bench_train_step --torch):
           python3 bench/torch_twin.py step --n 512 --k 128 --dim 128 --depth 4 --heads 4 --batch 8 [--tf32]
  forward  bench_scaling's forward in PyTorch (the encoder alone, eval, no_grad, one shared E), with
           scaled_dot_product_attention as a third contender (bench/torch_forward.py):
           python3 bench/torch_twin.py forward --device cuda --ns 4096 8192 --ks 128 256 --tokens 65536
  train    train from lf's files and write the losses (bench_torch_parity):
           python3 bench/torch_twin.py train --dir DIR [--dtype float64 --out torch_losses_f64.json]
  check    load an lf model file or checkpoint and print its config and parameter count:
           python3 bench/torch_twin.py check runs/mlm/checkpoint.safetensors
--tf32 sets torch.backends.cuda.matmul.allow_tf32 (default off: full f32 products, as lf's default).
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- safetensors, by hand (the `safetensors` package is not a dependency) ----
# [u64 LE header length N][N bytes of JSON, space-padded to a multiple of 8][raw LE data], as
# io/safetensors.h; lf reads and writes F32, F64 and I64.
_DTYPES = {"F32": (np.float32, torch.float32), "F64": (np.float64, torch.float64), "I64": (np.int64, torch.int64)}
_NAMES = {t: name for name, (_, t) in _DTYPES.items()}


def read_safetensors(path):
    """-> ({name: tensor} in data order, {metadata key: string})"""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {}) or {}
    data = memoryview(raw)[8 + n :]
    out = {}
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        if e["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor '{name}' has dtype {e['dtype']}; only F32, F64 and I64 are read")
        np_type, _ = _DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype=np.dtype(np_type).newbyteorder("<")).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.astype(np_type, copy=True))
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: tensor} (f32, f64 or i64), written in the given order; metadata: {str: str}."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _NAMES:
            raise ValueError(f"write_safetensors: '{name}' is {t.dtype}; lf reads only f32, f64 and i64")
        b = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


# ---- the model ----


PROJ_INITS = ("uniform", "xavier", "gaussian", "pooling")  # lf's ProjectionInit kinds


class Config:
    """lf's EncoderConfig (nn/encoder_config.h) from its JSON; unknown keys (e.g. tokenizer ones) are ignored."""

    DEFAULTS = dict(vocab=256, dim=128, depth=4, heads=4, max_len=512, k=128, attention="linformer",
                    sharing="headwise", dropout=0.0, tie_embeddings=False, token_init_std=1.0, sinusoidal_init=True,
                    proj_init="uniform", causal=False, projection="learned")

    def __init__(self, d=None, **kw):
        d = {**self.DEFAULTS, **(d or {}), **kw}
        for key in self.DEFAULTS:
            setattr(self, key, type(self.DEFAULTS[key])(d[key]))
        if self.attention not in ("standard", "linformer"):
            raise ValueError(f"config: attention '{self.attention}' is not standard or linformer")
        if self.sharing not in ("none", "headwise", "kv", "layerwise"):
            raise ValueError(f"config: sharing '{self.sharing}' is not none, headwise, kv or layerwise")
        if self.proj_init not in PROJ_INITS:
            raise ValueError(f"config: proj_init '{self.proj_init}' is not uniform, xavier, gaussian or pooling")
        if self.dim % self.heads:
            raise ValueError(f"config: dim {self.dim} is not divisible by heads {self.heads}")
        if self.projection not in ("learned", "random", "pool"):
            # random and pool are fixed E, F: the same function as learned ones holding those values
            raise ValueError(f"config: projection '{self.projection}' is not one the twin has (learned, random, pool)")
        if self.causal and self.linformer:
            raise ValueError("config: causal attention needs standard attention (Linformer's E^T K mixes later positions)")

    @property
    def linformer(self):
        return self.attention == "linformer"

    def to_json(self):
        return json.dumps({key: getattr(self, key) for key in self.DEFAULTS})


def projection(c, *lead):
    """E or F [*lead, max_len, k] initialised as lf's linformer_projection(shape, cfg.proj_init)."""
    n, k = c.max_len, c.k
    shape = (*lead, n, k)
    if c.proj_init == "uniform":  # U(-1/sqrt(k), 1/sqrt(k))
        t = torch.empty(shape).uniform_(-1 / math.sqrt(k), 1 / math.sqrt(k))
    elif c.proj_init == "xavier":  # fairseq's xavier_uniform with gain 1/sqrt(2)
        b = math.sqrt(0.5) * math.sqrt(6 / (n + k))
        t = torch.empty(shape).uniform_(-b, b)
    elif c.proj_init == "gaussian":  # N(0, 1/k)
        t = torch.randn(shape) / math.sqrt(k)
    else:  # pooling: row i averages into block j = floor(i k / n), plus U(-0.01, 0.01)
        j = torch.arange(n) * k // n
        block = torch.zeros(n, k)
        block[torch.arange(n), j] = 1 / torch.bincount(j, minlength=k)[j].float()
        t = torch.empty(shape).uniform_(-0.01, 0.01) + block
    return nn.Parameter(t)


class Attention(nn.Module):
    """Multi-head self-attention; Linformer projects K and V along the sequence axis (n -> k rows).

    sharing none: E, F [h, max_len, k], head i projects its own dh columns of K, V with E[i], F[i];
    headwise: E, F [max_len, k]; kv: one E for keys and values; layerwise: the MaskedLM's E, passed in.
    """

    def __init__(self, c, project_first=False):
        super().__init__()
        self.h, self.dh, self.c, self.project_first = c.heads, c.dim // c.heads, c, project_first
        self.qkv = nn.Linear(c.dim, 3 * c.dim)  # rows: q, k, v blocks of D
        self.out = nn.Linear(c.dim, c.dim)
        if c.linformer and c.sharing == "none":
            self.E, self.F = projection(c, c.heads), projection(c, c.heads)
        elif c.linformer and c.sharing == "headwise":
            self.E, self.F = projection(c), projection(c)
        elif c.linformer and c.sharing == "kv":
            self.E = projection(c)

    def forward(self, x, shared=None):
        b, n, d = x.shape
        heads = lambda t: t.reshape(b, t.shape[1], self.h, self.dh).transpose(1, 2)  # [b, m, d] -> [b, h, m, dh]
        c = self.c
        if c.linformer and c.sharing != "none":
            E = shared if c.sharing == "layerwise" else self.E
            Fp = self.F if c.sharing == "headwise" else E
            E, Fp = E[:n], Fp[:n]  # the first n rows [n, k]
        if c.linformer and c.sharing != "none" and self.project_first:
            # lf's order: K' = (E^T X) Wk^T + (E^T 1) bk^T, the same function with the [d, d] map on k rows
            # (nn/linformer_attention.cpp, project_then_map)
            (wq, wk, wv), (bq, bk, bv) = self.qkv.weight.chunk(3), self.qkv.bias.chunk(3)
            q = F.linear(x, wq, bq)
            k = F.linear(E.t() @ x, wk) + E.sum(0)[:, None] * bk
            v = F.linear(Fp.t() @ x, wv) + Fp.sum(0)[:, None] * bv
            q, k, v = heads(q), heads(k), heads(v)
        else:
            q, k, v = self.qkv(x).chunk(3, dim=-1)  # [b, n, d] each
            if not c.linformer:
                q, k, v = heads(q), heads(k), heads(v)
            elif c.sharing == "none":  # [h, k, n] @ [b, h, n, dh] -> [b, h, k, dh]
                q = heads(q)
                k = self.E[:, :n].transpose(1, 2) @ heads(k)
                v = self.F[:, :n].transpose(1, 2) @ heads(v)
            else:  # the paper's order: K' = E^T K, V' = F^T V: [k, n] @ [b, n, d] -> [b, k, d]
                q, k, v = heads(q), heads(E.t() @ k), heads(Fp.t() @ v)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh)  # [b, h, n, n or k]
        if c.causal:  # standard attention only (Config refuses a causal Linformer): key j > query i is hidden
            scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1), -1e30)
        att = torch.softmax(scores, dim=-1)
        return self.out((att @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, c, project_first=False):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.dim, eps=1e-5), nn.LayerNorm(c.dim, eps=1e-5)  # lf's eps
        self.att = Attention(c, project_first)
        self.ff = nn.Sequential(nn.Linear(c.dim, 4 * c.dim), nn.GELU(approximate="none"), nn.Linear(4 * c.dim, c.dim))
        self.drop = nn.Dropout(c.dropout)  # on the residual branches, as lf; parity needs dropout 0

    def forward(self, x, shared=None):
        x = x + self.drop(self.att(self.ln1(x), shared))
        return x + self.drop(self.ff(self.ln2(x)))


class Head(nn.Module):
    """The output layer: "head.weight" [V, D] (absent when tied: tok.weight is used) and "head.bias" [V]."""

    def __init__(self, dim, vocab, tied):
        super().__init__()
        bound = 1 / math.sqrt(dim)  # nn.Linear's default
        if not tied:
            self.weight = nn.Parameter(torch.empty(vocab, dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(vocab).uniform_(-bound, bound))

    def forward(self, h, tied_weight=None):
        return F.linear(h, self.weight if tied_weight is None else tied_weight, self.bias)


def sinusoids(n, dim):
    """pos[i, 2j] = sin(i / 10000^(2j/D)), pos[i, 2j+1] = cos(...): lf's sinusoidal_init (nn/encoder.cpp)."""
    i = torch.arange(n, dtype=torch.float64)[:, None]
    j = torch.arange(dim)
    angle = i / torch.pow(10000.0, (j - j % 2).double() / dim)
    return torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle)).float()


class MaskedLM(nn.Module):
    """lf's MaskedLM; registration order (own parameters, then children) gives lf's state_dict order."""

    def __init__(self, c, project_first=False):
        super().__init__()
        self.c = c
        self.pos = nn.Parameter(sinusoids(c.max_len, c.dim) if c.sinusoidal_init else torch.randn(c.max_len, c.dim) * 0.02)
        if c.linformer and c.sharing == "layerwise":
            self.E = projection(c)  # one [n, k] for every layer, head, key and value
        self.tok = nn.Embedding(c.vocab, c.dim)
        nn.init.normal_(self.tok.weight, 0.0, c.token_init_std)
        self.blocks = nn.ModuleList([Block(c, project_first) for _ in range(c.depth)])
        self.ln = nn.LayerNorm(c.dim, eps=1e-5)
        self.head = Head(c.dim, c.vocab, c.tie_embeddings)

    def forward(self, ids):  # ids [B, n] -> logits [B, n, V]
        x = self.tok(ids) + self.pos[: ids.shape[1]]
        shared = getattr(self, "E", None)
        for b in self.blocks:
            x = b(x, shared)
        return self.head(self.ln(x), self.tok.weight if self.c.tie_embeddings else None)


def model_state(tensors):
    """A model file's entries as they are; a train_mlm checkpoint's `model.*` entries without the prefix
    (its `optim.*` and `extra.*` entries are skipped). No lf parameter name begins with `model.`."""
    if any(name.startswith("model.") for name in tensors):
        return {name[len("model.") :]: t for name, t in tensors.items() if name.startswith("model.")}
    return dict(tensors)


def load_lf(path, dtype=torch.float32, config=None):
    """An lf model file or training checkpoint -> (MaskedLM with its weights, the file's metadata). The model's
    config comes from the file's "config" metadata, or from `config` (a dict of lf's keys) for a file without."""
    tensors, meta = read_safetensors(path)
    if config is None and "config" not in meta:
        raise ValueError(f"{path}: no 'config' in the metadata; pass load_lf(path, config={{'vocab': ..., ...}})")
    d = dict(config) if config is not None else json.loads(meta["config"])
    if d.get("proj_init", "uniform") not in PROJ_INITS:
        d["proj_init"] = "uniform"  # an init kind this twin does not know: the weights are loaded over it anyway
    model = MaskedLM(Config(d)).to(dtype)
    state = {name: t.to(dtype) for name, t in model_state(tensors).items()}
    model.load_state_dict(state, strict=True)  # raises naming every missing and unexpected key
    return model, meta


def mlm_loss(model, ids, target):
    """Mean cross-entropy over the positions whose target is not -100 (lf's kIgnoreIndex)."""
    logits = model(ids)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100)


def clip_grad_norm(params, max_norm):
    """lf's clip_grad_norm exactly: scale by max_norm / (norm + 1e-6) only when the norm exceeds max_norm
    (torch's clip_grad_norm_ also scales, by min(1, that), when it does not)."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / (norm + 1e-6))
    return norm


# ---- modes ----


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def step_bench(a):
    torch.manual_seed(0)
    c = Config(vocab=a.vocab, dim=a.dim, depth=a.depth, heads=a.heads, max_len=a.n, k=a.k,
               attention="standard" if a.standard else "linformer", sharing="headwise", sinusoidal_init=False)
    m = MaskedLM(c, a.project_first).to(a.device)
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


def train(a):
    """Trains from DIR/init.safetensors (lf's initial weights, config and "train" metadata: AdamW's betas,
    eps, weight decay and the clip norm) on DIR/batches.safetensors (input.{i}, target.{i} i64 [B, n] and
    lr f64 [steps], lf's learning rate at each step), in --dtype; writes DIR/--out (JSON, "losses")."""
    model, meta = load_lf(os.path.join(a.dir, "init.safetensors"), getattr(torch, a.dtype))
    hp = json.loads(meta["train"])
    batches, _ = read_safetensors(os.path.join(a.dir, "batches.safetensors"))
    lrs = batches["lr"].tolist()
    opt = torch.optim.AdamW(model.parameters(), lr=lrs[0], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"],
                            weight_decay=hp["weight_decay"])
    params = list(model.parameters())
    losses, t0 = [], time.perf_counter()
    model.train()
    for i, lr in enumerate(lrs):  # train_mlm's order: set lr, forward, zero_grad, backward, clip, step
        for g in opt.param_groups:
            g["lr"] = lr
        loss = mlm_loss(model, batches[f"input.{i}"], batches[f"target.{i}"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if hp["clip"] > 0:
            clip_grad_norm(params, hp["clip"])
        opt.step()
        losses.append(loss.item())
    with open(os.path.join(a.dir, a.out), "w") as f:
        json.dump({"version": torch.__version__, "threads": torch.get_num_threads(), "dtype": a.dtype,
                   "seconds": time.perf_counter() - t0, "losses": losses}, f)


def check(a):
    model, meta = load_lf(a.file)
    n = sum(p.numel() for p in model.parameters())
    print(json.dumps({"file": a.file, "config": json.loads(model.c.to_json()), "parameters": n}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["step", "forward", "train", "check"])
    p.add_argument("file", nargs="?", help="check: an lf model file or checkpoint")
    p.add_argument("--dir", help="train: the directory bench_torch_parity wrote")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="train: the twin's dtype")
    p.add_argument("--out", default="torch_losses.json", help="train: the losses file written into --dir")
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
    p.add_argument("--tf32", action="store_true", help="f32 matrix products on TF32 tensor cores (CUDA)")
    p.add_argument("--ns", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192, 16384], help="forward")
    p.add_argument("--ks", type=int, nargs="+", default=[128, 256], help="forward")
    p.add_argument("--tokens", type=int, default=16384, help="forward: tokens per forward (batch = tokens / n)")
    p.add_argument("--reps", type=int, default=3, help="forward: timed repetitions at least (median)")
    p.add_argument("--min-seconds", type=float, default=2.0, help="forward: repeat until this much time passed")
    p.add_argument("--max-gb", type=float, default=16.0, help="forward: skip standard attention beyond this")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32

    def forward(a):  # bench/torch_forward.py, next to this file, imported for this mode only
        import torch_forward
        torch_forward.run(a)

    {"step": step_bench, "forward": forward, "train": train, "check": check}[a.mode](a)
