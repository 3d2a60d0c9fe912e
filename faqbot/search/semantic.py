"""Semantic ranking: sentence embeddings of passages, mixed with BM25 over hybrid candidates.

BM25 and the nearest passage vectors (faqbot.search.dense) propose the candidates; the embedding model
(all-MiniLM-L6-v2, run offline in numpy) judges which of them means what the reader asked, even in
other words. Passage vectors are stored with the index (float16, memory-mapped) and reused across
builds for unchanged texts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import default
from .dense import cosines, nearest
from ..index.store import Index
from .lexical import Hit, Query, lexical_scores

RERANK_DEPTH = default("rerank_depth")  # BM25 candidates, and as many nearest by embedding, scored per question
# Share of cosine similarity in the mixed score (the rest is normalised BM25), and the share of
# that cosine part given to the FAQ question's vector (the rest to its question-with-answer vector).
# Chosen on the dev set and the tuning half of tests/data/realistic_faq.jsonl (docs/semantic.md):
# 0.9 and 0.45, against 0.7 on the better of the two cosines before.
SEMANTIC_WEIGHT = default("semantic_weight")  # both from the settings table (faqbot/config.py)
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
    lexical_first: bool = False  # BM25's best passage
    dense_first: bool = False  # the passage whose vectors are nearest the question's


def has_vectors(index: Index, space: str = "") -> bool:
    """Whether this index was built with passage embeddings (of the model whose arrays start with space)."""
    return space + "vectors" in index.arrays and space + "question_vectors" in index.arrays


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
                weight: float = SEMANTIC_WEIGHT, question_share: float = QUESTION_SHARE,
                space: str = "", faq_weight: float | None = None) -> list[Reranked]:
    """BM25's hits and the depth passages nearest the question vector, scored by
    (1 - weight) * BM25 / best BM25 + weight * (question_share * question cosine + rest * pair cosine).

    Candidates found only by their vectors get their BM25 score looked up (0 if no word matches).
    space: which model's vectors (the prefix of their arrays; "" for the English model's).
    faq_weight: the cosine's share for FAQ pairs when it differs from weight (None: weight), on the
    paragraphs' scale: weight * cosine + weight * (1 - faq_weight) / faq_weight * BM25 / best BM25.
    """
    lexical = {h.doc: h.score for h in hits}
    near = [doc for doc, _ in nearest(index, query_vector, depth, space)]
    docs = np.array(list(dict.fromkeys([h.doc for h in hits] + near)), dtype=np.int64)
    if not len(docs):
        return []
    missing = [d for d in docs.tolist() if d not in lexical]
    if missing:
        lexical.update(zip(missing, lexical_scores(index, query, np.array(missing)).tolist()))
    bm25 = np.array([lexical[d] for d in docs.tolist()])
    cq, ca = cosines(index, query_vector, docs, space)
    best = bm25.max() or 1.0
    score = (1 - weight) * bm25 / best + weight * (question_share * cq + (1 - question_share) * ca)
    if faq_weight is not None:
        faq = index.kinds[docs].astype(bool)
        score[faq] = weight * ((question_share * cq + (1 - question_share) * ca)[faq]
                               + (1 - faq_weight) / faq_weight * bm25[faq] / best)
    lexical_first, dense_first = hits[0].doc if hits else -1, near[0] if near else -1
    out = [Reranked(d, s, b, max(q, a), q, a, d == lexical_first, d == dense_first) for d, s, b, q, a in
           zip(docs.tolist(), score.tolist(), bm25.tolist(), cq.tolist(), ca.tolist())]
    return sorted(out, key=lambda r: (-r.score, r.doc))
