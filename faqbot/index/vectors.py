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
# The multilingual model's arrays are named as the English model's with this prefix ("e5_vectors"...):
# written only for an index holding passages in one of E5_LANGUAGES, with zero rows for the others.
E5_SPACE = "e5_"


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


def previous_vectors(index_dir, space: str = "") -> dict[bytes, np.ndarray]:
    """key -> vector of the published index's embedded texts (empty when there is none)."""
    try:
        index = Index.load(index_dir)
    except Exception:  # noqa: BLE001 - no usable previous index just means nothing to reuse
        return {}
    arrays = index.arrays
    if space + "vector_keys" not in arrays:
        return {}
    keys = arrays[space + "vector_keys"]
    vectors = np.concatenate([arrays[space + "question_vectors"], arrays[space + "vectors"]])
    if space:  # only the embedded passages' rows have keys
        vectors = vectors[arrays[space + "vector_rows"]]
    return {bytes(k): vectors[i] for i, k in enumerate(keys)}


def _reusable(index_dir, entry: str, tokens, space: str = "") -> dict[bytes, np.ndarray]:
    """previous_vectors, if the published index cut passages at the same length with the same model."""
    try:
        previous = read_manifest(index_dir).get(entry) or {}
    except Exception:  # noqa: BLE001 - no usable previous index: nothing to reuse
        previous = {}
    return previous_vectors(index_dir, space) if previous.get("passage_tokens") == tokens else {}


def vector_arrays(embedder, questions: list[str], texts: list[str], index_dir,
                  progress: Callable[[int, int], None] | None = None,
                  languages: list[str] | None = None, multilingual: bool = True) -> tuple[dict, dict]:
    """The index arrays and manifest entry holding passage vectors (empty without an embedder).

    questions[i] and texts[i] are passage i's two embedding_texts; vectors of texts the published
    index already holds are reused, if it cut passages at the same length. languages[i], passage
    i's analysis language: those in embed_e5.E5_LANGUAGES also get the multilingual model's vectors,
    unless multilingual is False (settings.multilingual_semantic).
    """
    if embedder is None:
        return {}, {}
    e5, e5_manifest = e5_arrays(questions, texts, (languages or []) if multilingual else [], index_dir, progress)
    from .embed import MODEL_NAME

    encode = getattr(embedder, "encode_passages", embedder.encode)
    tokens = getattr(embedder, "passage_tokens", None)
    reuse = _reusable(index_dir, "semantic", tokens)
    vectors = embed_texts(encode, questions + texts, reuse, progress)
    arrays = {
        "question_vectors": vectors[: len(questions)],
        "vectors": vectors[len(questions):],
        "vector_keys": np.array([text_key(t) for t in questions + texts], dtype="S16"),
        **code_arrays(vectors[: len(questions)], vectors[len(questions):]),
        **e5,
    }
    return arrays, {"semantic": {"model": MODEL_NAME, "dim": int(vectors.shape[1]), "passage_tokens": tokens},
                    **e5_manifest}


def e5_arrays(questions: list[str], texts: list[str], languages: list[str], index_dir,
              progress: Callable[[int, int], None] | None = None) -> tuple[dict, dict]:
    """The multilingual model's arrays (E5_SPACE) for the passages whose analysis language is one of
    E5_LANGUAGES, zero rows for the others; empty when there are none or the model is unavailable."""
    from .embed_e5 import E5_LANGUAGES, MODEL_NAME, load_e5_embedder

    rows = [i for i, language in enumerate(languages) if language in E5_LANGUAGES]
    embedder = load_e5_embedder() if rows else None
    if embedder is None:
        return {}, {}
    chosen = [questions[i] for i in rows] + [texts[i] for i in rows]
    reuse = _reusable(index_dir, "semantic_e5", embedder.passage_tokens, E5_SPACE)
    vectors = embed_texts(embedder.encode_passages, chosen, reuse, progress)
    question_vectors = np.zeros((len(questions), vectors.shape[1]), np.float16)
    pair_vectors = np.zeros_like(question_vectors)
    question_vectors[rows], pair_vectors[rows] = vectors[: len(rows)], vectors[len(rows):]
    arrays = {
        E5_SPACE + "question_vectors": question_vectors,
        E5_SPACE + "vectors": pair_vectors,
        E5_SPACE + "vector_rows": np.array(rows + [len(questions) + i for i in rows], np.int64),
        E5_SPACE + "vector_keys": np.array([text_key(t) for t in chosen], dtype="S16"),
        **{E5_SPACE + name: codes for name, codes in code_arrays(question_vectors, pair_vectors).items()},
    }
    used = sorted({languages[i] for i in rows})
    return arrays, {"semantic_e5": {"model": MODEL_NAME, "dim": int(vectors.shape[1]),
                                    "passage_tokens": embedder.passage_tokens, "languages": used}}


def configured_embedder(settings):
    """The embedding model (index/embed.py), or None when semantic ranking is off (settings.semantic)
    or the model is unavailable."""
    from .embed import load_embedder

    return load_embedder() if settings.semantic else None
