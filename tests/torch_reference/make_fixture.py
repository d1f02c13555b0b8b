"""Writes the PyTorch reference fixtures that tests/nn/test_torch_reference.cpp checks lf against.

Each fixture is a tiny MaskedLM computed by the twin (bench/torch_twin.py) in float64, as a safetensors
file named *.fixture (*.safetensors is git-ignored; lf::load_safetensors does not look at the extension):

  init.<name>         the initial weights, every entry of lf's state_dict (LayerNorm weights and biases
                      are perturbed away from 1 and 0 so that a mix-up of the two shows)
  input, target       i64 [B, n]: ids, some replaced by id vocab-1 ("[MASK]"); the original id at those
                      positions, -100 (lf's kIgnoreIndex) elsewhere
  logits              f64 [B, n, V], model(input)
  loss                f64 [], cross-entropy averaged over the non-ignored targets
  grad.<name>         d loss / d parameter, every parameter
  adamw.<name>        the parameters after `steps` torch.optim.AdamW steps on the same batch
  __metadata__        "config": lf's EncoderConfig as JSON; "adamw": lr, beta1, beta2, eps, weight_decay,
                      steps; "generator": this script and the torch version

Run by hand (not by CI) from the repository root, with a Python that has torch:
  /usr/bin/python3 tests/torch_reference/make_fixture.py
  /usr/bin/python3 tests/torch_reference/make_fixture.py --mutant gelu_tanh --out /tmp/mutant
The second writes fixtures from a deliberately wrong twin, to check that the test's tolerances catch such a
bug: LF_TORCH_REFERENCE_DIR=/tmp/mutant build/test_torch_reference must fail.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import torch_twin as tt  # noqa: E402

SMALL = dict(vocab=40, heads=2, max_len=12, k=4, dropout=0.0)
# name -> lf config. Layerwise (the project's default) at dim 12, depth 2 (one E shared across the layers);
# the other attention paths at dim 8, depth 1 to keep the files small (~290 KB in all): sharing none
# (per-head E, F), headwise (separate E and F) with tied embeddings, and standard attention. kv sharing runs
# lf's layerwise code path (E = F), only with the E owned by the layer.
CASES = {
    "linformer_layerwise": dict(SMALL, dim=12, depth=2, attention="linformer", sharing="layerwise"),
    "linformer_none": dict(SMALL, dim=8, depth=1, attention="linformer", sharing="none"),
    "linformer_headwise_tied": dict(SMALL, dim=8, depth=1, attention="linformer", sharing="headwise",
                                    tie_embeddings=True, token_init_std=0.5),
    "standard": dict(SMALL, dim=8, depth=1, attention="standard", sharing="layerwise"),
}
BATCH = 2
ADAMW = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, steps=3)


def mutate(model, mutant):
    """Makes the twin wrong on purpose, the way a bug in lf would be."""
    D = model.c.dim
    if mutant == "gelu_tanh":  # the tanh approximation instead of the exact erf form
        for m in model.modules():
            if isinstance(m, nn.GELU):
                m.approximate = "tanh"
    elif mutant == "ln_eps":  # LayerNorm eps 1e-6 instead of 1e-5
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.eps = 1e-6
    elif mutant == "no_key_bias":  # K computed without its bias (e.g. (E^T 1) bk^T dropped)
        for b in model.blocks:
            lin = b.att.qkv
            keep = torch.ones(3 * D, dtype=lin.bias.dtype)
            keep[D : 2 * D] = 0
            lin.forward = lambda x, lin=lin, keep=keep: F.linear(x, lin.weight, lin.bias * keep)
    elif mutant != "none":
        raise ValueError(f"--mutant: unknown '{mutant}' (gelu_tanh, ln_eps, no_key_bias)")


def make(name, cfg, seed, mutant):
    torch.manual_seed(seed)
    c = tt.Config(cfg)
    model = tt.MaskedLM(c).double()
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith(("ln1.weight", "ln2.weight", "ln.weight")):
                p.add_(0.2 * torch.randn_like(p))
            elif pname.endswith(("ln1.bias", "ln2.bias", "ln.bias")):
                p.copy_(0.2 * torch.randn_like(p))
    n, V = c.max_len, c.vocab
    ids = torch.randint(0, V - 1, (BATCH, n))
    chosen = torch.rand(BATCH, n) < 0.3
    chosen[:, 0] = True  # at least one target per row
    target = torch.where(chosen, ids, torch.full_like(ids, -100))
    inp = torch.where(chosen, torch.full_like(ids, V - 1), ids)

    out = {f"init.{k}": v.detach().clone() for k, v in model.state_dict().items()}
    out["input"], out["target"] = inp, target
    mutate(model, mutant)
    opt = torch.optim.AdamW(model.parameters(), lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]),
                            eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])
    for step in range(ADAMW["steps"]):
        opt.zero_grad(set_to_none=True)
        logits = model(inp)
        loss = F.cross_entropy(logits.reshape(-1, V), target.reshape(-1), ignore_index=-100)
        loss.backward()
        if step == 0:
            out["logits"], out["loss"] = logits.detach().clone(), loss.detach().clone()
            for k, p in model.named_parameters():
                out[f"grad.{k}"] = p.grad.detach().clone()
        opt.step()
    for k, p in model.named_parameters():
        out[f"adamw.{k}"] = p.detach().clone()
    meta = {"config": c.to_json(), "adamw": json.dumps(ADAMW),
            "generator": f"tests/torch_reference/make_fixture.py (mutant {mutant}), torch {torch.__version__}"}
    return out, meta, float(loss)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=HERE, help="directory for the *.fixture files")
    p.add_argument("--mutant", default="none", help="gelu_tanh | ln_eps | no_key_bias")
    a = p.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    for seed, (name, cfg) in enumerate(CASES.items()):
        tensors, meta, loss = make(name, cfg, 1000 + seed, a.mutant)
        path = os.path.join(a.out, f"{name}.fixture")
        tt.write_safetensors(path, tensors, meta)
        nparam = sum(v.numel() for k, v in tensors.items() if k.startswith("init."))
        print(f"{path}: {nparam} parameters, loss {float(tensors['loss']):.6f} -> {loss:.6f} after "
              f"{ADAMW['steps'] - 1} AdamW steps, {os.path.getsize(path)} bytes")
