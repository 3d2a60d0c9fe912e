"""Semantic ranking: sentence embeddings of passages, mixed with BM25 over hybrid candidates.

BM25 and the nearest passage vectors (faqbot.search.dense) propose the candidates; the embedding model
(all-MiniLM-L6-v2, run offline in numpy) judges which of them means what the reader asked, even in
other words. Passage vectors are stored with the index (float16, memory-mapped) and reused across
builds for unchanged texts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .dense import code_arrays, cosines, nearest
from ..index.store import Index, read_manifest
from ..model import Passage
from .lexical import Hit, Query, lexical_scores

RERANK_DEPTH = 30  # BM25 candidates, and as many nearest by embedding, scored per question
# Share of cosine similarity in the mixed score (the rest is normalised BM25), and the share of
# that cosine part given to the FAQ question's vector (the rest to its question-with-answer vector).
# Chosen on the dev set and the tuning half of tests/data/realistic_faq.jsonl (docs/semantic.md):
# 0.9 and 0.45, against 0.7 on the better of the two cosines before.
SEMANTIC_WEIGHT = 0.9
QUESTION_SHARE = 0.45


@dataclass(frozen=True)
class Reranked:
    """A candidate after reranking: mixed score, and the parts it was made from."""

    doc: int
    score: float
    bm25: float
    cosine: float  # the better of the two below
    question_cosine: float = 0.0  # to the FAQ question's vector (a paragraph's text)
    pair_cosine: float = 0.0  # to the question-with-answer vector (a paragraph's text)


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
    from ..index.embed import MODEL_NAME

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


def has_vectors(index: Index) -> bool:
    """Whether this index was built with passage embeddings."""
    return "vectors" in index.arrays and "question_vectors" in index.arrays


def rerank(index: Index, query_vector: np.ndarray, hits: list[Hit], weight: float = SEMANTIC_WEIGHT) -> list[Reranked]:
    """Re-score BM25 hits by (1 - weight) * BM25 / best BM25 + weight * cosine, best first.

    The cosine of an FAQ pair is the better of its question's and its question-with-answer's.
    """
    if not hits:
        return []
    docs = np.array([h.doc for h in hits])
    q = query_vector.astype(np.float32)
    cos = np.maximum(np.asarray(index.arrays["vectors"][docs], np.float32) @ q,
                     np.asarray(index.arrays["question_vectors"][docs], np.float32) @ q)
    best = max(h.score for h in hits) or 1.0
    out = [Reranked(h.doc, (1 - weight) * h.score / best + weight * float(c), h.score, float(c))
           for h, c in zip(hits, cos)]
    return sorted(out, key=lambda r: (-r.score, r.doc))


def hybrid_rank(index: Index, query: Query, query_vector: np.ndarray, hits: list[Hit], depth: int = RERANK_DEPTH,
                weight: float = SEMANTIC_WEIGHT, question_share: float = QUESTION_SHARE) -> list[Reranked]:
    """BM25's hits and the depth passages nearest the question vector, scored by
    (1 - weight) * BM25 / best BM25 + weight * (question_share * question cosine + rest * pair cosine).

    Candidates found only by their vectors get their BM25 score looked up (0 if no word matches).
    """
    lexical = {h.doc: h.score for h in hits}
    near = [doc for doc, _ in nearest(index, query_vector, depth)]
    docs = np.array(list(dict.fromkeys([h.doc for h in hits] + near)), dtype=np.int64)
    if not len(docs):
        return []
    missing = [d for d in docs.tolist() if d not in lexical]
    if missing:
        lexical.update(zip(missing, lexical_scores(index, query, np.array(missing)).tolist()))
    bm25 = np.array([lexical[d] for d in docs.tolist()])
    cq, ca = cosines(index, query_vector, docs)
    best = bm25.max() or 1.0
    score = (1 - weight) * bm25 / best + weight * (question_share * cq + (1 - question_share) * ca)
    out = [Reranked(d, s, b, max(q, a), q, a) for d, s, b, q, a in
           zip(docs.tolist(), score.tolist(), bm25.tolist(), cq.tolist(), ca.tolist())]
    return sorted(out, key=lambda r: (-r.score, r.doc))
