"""Passage vectors stored with the index: what is embedded per passage, reuse across builds, sign codes.

Both builders call vector_arrays; the query side (faqbot.search.dense, faqbot.search.semantic)
reads the arrays it writes.
"""

from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np

from ..model import Passage
from .store import Index, read_manifest

# Sign codes of question_vectors and vectors. Codes of vectors centred on their mean found fewer
# of the exact top 30 (6,000 real passages, 300 questions, 1,000 rescored: 0.984 against 0.993).
CODE_ARRAYS = ("question_codes", "vector_codes")


def sign_codes(vectors: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """One bit per dimension, set where the component is positive: uint8 rows of dim / 8 bytes."""
    out = np.empty((len(vectors), (vectors.shape[1] + 7) // 8), np.uint8)
    for start in range(0, len(vectors), chunk):
        out[start:start + chunk] = np.packbits(np.asarray(vectors[start:start + chunk]) > 0, axis=1)
    return out


def code_arrays(question_vectors: np.ndarray, vectors: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays the code scan needs, stored with the index beside the vectors."""
    return {CODE_ARRAYS[0]: sign_codes(question_vectors), CODE_ARRAYS[1]: sign_codes(vectors)}


def embedding_texts(passage: Passage) -> tuple[str, str]:
    """What is embedded for a passage: (its question or text, its question with the answer or text)."""
    if passage.question:
        return passage.question, f"{passage.question} {passage.text}"
    return passage.text, passage.text


def text_key(text: str) -> bytes:
    """A short content hash identifying an embedded text across builds."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def embed_texts(
    encode: Callable[[list[str]], np.ndarray], texts: list[str], reuse: dict[bytes, np.ndarray],
    progress: Callable[[int, int], None] | None = None, batch: int = 256,
) -> np.ndarray:
    """Embed texts as float16 rows, reusing vectors of texts embedded before (reuse: key -> vector)."""
    keys = [text_key(t) for t in texts]
    todo = list(dict.fromkeys(k for k in keys if k not in reuse))
    text_of = dict(zip(keys, texts))
    fresh: dict[bytes, np.ndarray] = {}
    for start in range(0, len(todo), batch):
        chunk = todo[start:start + batch]
        for key, vector in zip(chunk, encode([text_of[k] for k in chunk])):
            fresh[key] = vector.astype(np.float16)
        if progress:
            progress(min(start + batch, len(todo)), len(todo))
    dim = next(iter(fresh.values()), next(iter(reuse.values()), np.zeros(384))).shape[0]
    out = np.zeros((len(texts), dim), np.float16)
    for row, key in enumerate(keys):
        out[row] = fresh[key] if key in fresh else reuse[key]
    return out


def previous_vectors(index_dir) -> dict[bytes, np.ndarray]:
    """key -> vector of the published index's embedded texts (empty when there is none)."""
    try:
        index = Index.load(index_dir)
    except Exception:  # noqa: BLE001 - no usable previous index just means nothing to reuse
        return {}
    arrays = index.arrays
    if "vector_keys" not in arrays:
        return {}
    keys, vectors = arrays["vector_keys"], np.concatenate([arrays["question_vectors"], arrays["vectors"]])
    return {bytes(k): vectors[i] for i, k in enumerate(keys)}


def vector_arrays(embedder, questions: list[str], texts: list[str], index_dir,
                  progress: Callable[[int, int], None] | None = None) -> tuple[dict, dict]:
    """The index arrays and manifest entry holding passage vectors (empty without an embedder).

    questions[i] and texts[i] are passage i's two embedding_texts; vectors of texts the published
    index already holds are reused, if it cut passages at the same length.
    """
    if embedder is None:
        return {}, {}
    from .embed import MODEL_NAME

    encode = getattr(embedder, "encode_passages", embedder.encode)
    tokens = getattr(embedder, "passage_tokens", None)
    try:
        previous = read_manifest(index_dir).get("semantic") or {}
    except Exception:  # noqa: BLE001 - no usable previous index: nothing to reuse
        previous = {}
    reuse = previous_vectors(index_dir) if previous.get("passage_tokens") == tokens else {}
    vectors = embed_texts(encode, questions + texts, reuse, progress)
    arrays = {
        "question_vectors": vectors[: len(questions)],
        "vectors": vectors[len(questions):],
        "vector_keys": np.array([text_key(t) for t in questions + texts], dtype="S16"),
        **code_arrays(vectors[: len(questions)], vectors[len(questions):]),
    }
    return arrays, {"semantic": {"model": MODEL_NAME, "dim": int(vectors.shape[1]), "passage_tokens": tokens}}


def configured_embedder(settings):
    """The embedding model (index/embed.py), or None when semantic ranking is off (settings.semantic)
    or the model is unavailable."""
    from .embed import load_embedder

    return load_embedder() if settings.semantic else None
