"""Question -> ranked passages: sum BM25 postings of the query's terms over the index fields."""

from __future__ import annotations

import math
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


def field_scores(index: Index, field: str, term_counts: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Passages touched by the terms in one field and their BM25Okapi scores (sparse)."""
    postings = index.fields[field]
    docs, weights = [], []
    for term, count in term_counts.items():
        lo, hi = postings.indptr[term], postings.indptr[term + 1]
        if hi > lo:
            docs.append(postings.docs[lo:hi])
            weights.append(postings.weights[lo:hi] * count)
    if not docs:
        return np.zeros(0, np.int32), np.zeros(0)
    all_docs = np.concatenate(docs)
    uniq, inverse = np.unique(all_docs, return_inverse=True)
    return uniq, np.bincount(inverse, weights=np.concatenate(weights), minlength=len(uniq))


def score_candidates(index: Index, query: Query) -> tuple[np.ndarray, np.ndarray]:
    """All passages that match any query term, with their weighted multi-field score."""
    parts = [field_scores(index, f, query.known) for f in FIELD_WEIGHTS]
    docs = np.concatenate([d for d, _ in parts])
    if not len(docs):
        return docs, np.zeros(0)
    weights = np.concatenate([s * FIELD_WEIGHTS[f] for f, (_, s) in zip(FIELD_WEIGHTS, parts)])
    uniq, inverse = np.unique(docs, return_inverse=True)
    return uniq, np.bincount(inverse, weights=weights, minlength=len(uniq))


def top_hits(docs: np.ndarray, scores: np.ndarray, k: int) -> list[Hit]:
    """The k best (doc, score) pairs, best first; ties broken by index order."""
    if k <= 0 or not len(docs):
        return []
    if len(docs) > k:
        keep = np.argpartition(-scores, k - 1)[:k]
        docs, scores = docs[keep], scores[keep]
    order = np.lexsort((docs, -scores))
    return [Hit(int(docs[i]), float(scores[i])) for i in order]


def search(index: Index, question: str, k: int) -> tuple[Query, list[Hit]]:
    """Analyse question and return its k best-matching passages (only passages with a match)."""
    query = parse_query(index, question)
    docs, scores = score_candidates(index, query)
    return query, top_hits(docs, scores, k)


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
