#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/): a few small valid inputs, so
the fuzzer starts from the format's structure, and broken ones near each check. Deterministic: running it
again writes the same bytes. Standard library only.

    /usr/bin/python3 tests/fuzz/make_corpus.py

corpus/fuzz_mlm_config/subword_model is not written here: it is a real SentencePiece model (vocab 300,
Tokenizer::train_subword on a few sentences), base64, after a 0xFF byte that follows the config; the
Python standard library cannot make one."""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def safetensors(tensors, metadata=None, crc=True):
    """tensors: list of (name, dtype, shape, raw bytes), stored in order. Returns the file's bytes."""
    header, data, meta = {}, b"", dict(metadata or {})
    crcs = {}
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        crcs[name] = "%08x" % zlib.crc32(raw)
        data += raw
    if crc:
        meta["lf.crc32"] = json.dumps(crcs, separators=(",", ":"))
    if meta:
        header = {"__metadata__": meta, **header}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def f32(shape, start=0.0):
    n = 1
    for d in shape:
        n *= d
    return ("F32", shape, struct.pack("<%df" % n, *[start + 0.01 * i for i in range(n)]))


def raw_file(header_text, data=b""):
    text = header_text.encode() if isinstance(header_text, str) else header_text
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def tiny_mlm_tensors(D=2, n=4, k=2, V=258):
    names = [("pos", [n, D]), ("E", [n, k]), ("tok.weight", [V, D])]
    b = "blocks.0."
    names += [(b + "ln1.weight", [D]), (b + "ln1.bias", [D]), (b + "ln2.weight", [D]), (b + "ln2.bias", [D]),
              (b + "att.qkv.weight", [3 * D, D]), (b + "att.qkv.bias", [3 * D]), (b + "att.out.weight", [D, D]),
              (b + "att.out.bias", [D]), (b + "ff.0.weight", [4 * D, D]), (b + "ff.0.bias", [4 * D]),
              (b + "ff.2.weight", [D, 4 * D]), (b + "ff.2.bias", [D]), ("ln.weight", [D]), ("ln.bias", [D]),
              ("head.bias", [V])]
    return [(name,) + f32(shape) for name, shape in names]


TINY_CONFIG = {"vocab": 258, "dim": 2, "depth": 1, "heads": 1, "max_len": 4, "k": 2, "attention": "linformer",
               "sharing": "layerwise", "proj_init": "pooling", "dropout": 0.0, "tie_embeddings": True,
               "token_init_std": 1.0, "sinusoidal_init": True, "tokenizer": "bytes"}


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    t = "fuzz_safetensors"
    two = safetensors([("w",) + f32([2, 3]), ("ids", "I64", [2], struct.pack("<2q", -1, 7))], {"note": "seed"})
    write(t, "valid_two_tensors", two)
    write(t, "valid_python_no_metadata", safetensors([("test",) + f32([2, 2])], crc=False))
    write(t, "valid_empty_and_scalar", safetensors([("e", "F64", [0, 3], b""), ("s",) + f32([])]))
    write(t, "valid_mlm_tiny", safetensors(tiny_mlm_tensors(), {"config": json.dumps(TINY_CONFIG)}))
    write(t, "broken_truncated", two[:-5])
    flipped = bytearray(two)
    flipped[-3] ^= 0x10
    write(t, "broken_crc", bytes(flipped))
    write(t, "broken_deep", raw_file('{"__metadata__":{"k":' + "[" * 70 + "]" * 70 + "}}"))
    write(t, "broken_overflow", raw_file('{"a":{"dtype":"F32","shape":[0,65536,65536,65536,65536],'
                                         '"data_offsets":[0,0]}}'))
    write(t, "broken_duplicate", raw_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                          '"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"x" * 8))
    write(t, "broken_gap", raw_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"x" * 8))

    t = "fuzz_mlm_config"
    small = dict(TINY_CONFIG, dim=4, heads=2, max_len=8)
    write(t, "valid_full", json.dumps(small).encode())
    write(t, "valid_minimal", json.dumps({k: small[k] for k in
                                          ["vocab", "dim", "depth", "heads", "max_len", "k", "attention"]}).encode())
    write(t, "valid_standard_tied", json.dumps(dict(small, attention="standard", tie_embeddings=True)).encode())
    write(t, "valid_sharing_none", json.dumps(dict(small, sharing="none", depth=2)).encode())
    write(t, "valid_kv_headwise", json.dumps(dict(small, sharing="kv", proj_init="xavier")).encode())
    write(t, "broken_string_dim", json.dumps(dict(small, dim="4")).encode())
    write(t, "broken_unknown_key", json.dumps(dict(small, in_features=3)).encode())
    write(t, "broken_bytes_with_model", json.dumps(small).encode() + b"\xffQUJD")


if __name__ == "__main__":
    main()
