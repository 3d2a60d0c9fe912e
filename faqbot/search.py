"""Question -> ranked passages: sum BM25 postings of the query's terms over the index fields."""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .analyze import analyze
from .index import Index

# How much a match on the FAQ question itself adds to the body score (see README: quality).
FIELD_WEIGHTS = {"body": 1.0, "question": 1.0}


@dataclass(frozen=True)
class Hit:
    """A passage number and its score."""

    doc: int
    score: float


@dataclass(frozen=True)
class Query:
    """An analysed question: its terms with counts and their ids in the index (None if unknown)."""

    terms: Counter
    ids: dict[str, int | None]

    @property
    def known(self) -> dict[int, int]:
        return {self.ids[t]: c for t, c in self.terms.items() if self.ids[t] is not None}


def parse_query(index: Index, question: str) -> Query:
    """Analyse a question with the index's analyzer and look its terms up."""
    terms = Counter(analyze(question))
    return Query(terms=terms, ids={t: index.term_id(t) for t in terms})


class _Accumulator(threading.local):
    """A per-thread dense score buffer, reset after each query so only touched entries cost time."""

    def __init__(self):
        self.buffer = np.zeros(0)

    def get(self, n: int) -> np.ndarray:
        if len(self.buffer) != n:
            self.buffer = np.zeros(n)
        return self.buffer


_accumulator = _Accumulator()


def _postings_lists(index: Index, fields: dict[str, float], term_counts: dict[int, int]):
    for field, field_weight in fields.items():
        postings = index.fields[field]
        for term, count in term_counts.items():
            lo, hi = postings.indptr[term], postings.indptr[term + 1]
            if hi > lo:
                yield postings.docs[lo:hi], postings.weights[lo:hi], count * field_weight


def score_candidates(index: Index, query: "Query | _QueryIds", fields: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Passages that match any query term (may repeat) and their weighted multi-field BM25 scores.

    Work is proportional to the postings of the query's terms, not to the number of passages:
    scores are added into a reused dense buffer and read back at the touched positions only.
    """
    fields = FIELD_WEIGHTS if fields is None else fields
    acc = _accumulator.get(index.n_passages)
    touched = []
    for docs, weights, scale in _postings_lists(index, fields, query.known):
        if scale == 1:
            acc[docs] += weights
        else:
            acc[docs] += weights * scale
        touched.append(docs)
    if not touched:
        return np.zeros(0, np.int32), np.zeros(0)
    docs = touched[0] if len(touched) == 1 else np.concatenate(touched)
    scores = acc[docs]
    acc[docs] = 0.0
    return docs, scores


def field_scores(index: Index, field: str, term_counts: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct passages matching the terms in one field and their BM25Okapi scores."""
    docs, scores = score_candidates(index, _QueryIds(term_counts), {field: 1.0})
    docs, first = np.unique(docs, return_index=True)
    return docs, scores[first]


class _QueryIds:
    """A query given directly as term ids (tests and benchmarks)."""

    def __init__(self, term_counts: dict[int, int]):
        self.known = term_counts


def top_hits(docs: np.ndarray, scores: np.ndarray, k: int, repeats: int = 1) -> list[Hit]:
    """The k best distinct (doc, score) pairs, best first, ties broken by index order.

    docs may list a passage up to `repeats` times (once per postings list it appeared in).
    """
    if k <= 0 or not len(docs):
        return []
    want = k * repeats
    if len(docs) > want:
        keep = np.argpartition(-scores, want - 1)[:want]
        docs, scores = docs[keep], scores[keep]
    docs, first = np.unique(docs, return_index=True)
    scores = scores[first]
    order = np.lexsort((docs, -scores))[:k]
    return [Hit(int(docs[i]), float(scores[i])) for i in order]


def search(index: Index, question: str, k: int) -> tuple[Query, list[Hit]]:
    """Analyse question and return its k best-matching passages (only passages with a match)."""
    query = parse_query(index, question)
    docs, scores = score_candidates(index, query)
    return query, top_hits(docs, scores, k, repeats=len(FIELD_WEIGHTS) * max(len(query.known), 1))


def term_coverage(index: Index, query: Query, doc: int, field: str = "body") -> float:
    """Share of the query's idf weight that occurs in a passage (unknown terms weigh the most).

    Unlike raw BM25 scores, this is comparable across questions and corpora, so confidence
    can be built on it.
    """
    postings = index.fields[field]
    n = max(index.n_passages, 1)
    unknown_idf = math.log((n + 0.5) / 0.5)
    total = found = 0.0
    for term, count in query.terms.items():
        term_id = query.ids[term]
        idf = float(postings.idf[term_id]) if term_id is not None else unknown_idf
        idf = idf if idf > 0 else unknown_idf if term_id is None else 0.01
        total += idf
        if term_id is not None:
            lo, hi = postings.indptr[term_id], postings.indptr[term_id + 1]
            pos = lo + np.searchsorted(postings.docs[lo:hi], doc)
            if pos < hi and postings.docs[pos] == doc:
                found += idf
    return found / total if total else 0.0
