"""BM25 as rank-bm25's BM25Okapi defines it, precomputed per (term, passage) in a sparse column layout.

Scoring a question then touches only the postings of its terms: the weight stored for
(term, passage) is exactly the summand BM25Okapi.get_scores adds for that pair, so summing the
postings of the query's terms gives BM25Okapi's scores (to float rounding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

K1, B, EPSILON = 1.5, 0.75, 0.25  # BM25Okapi's defaults


@dataclass(frozen=True)
class Postings:
    """One field's BM25 postings: for term t, passages docs[indptr[t]:indptr[t+1]] with weights."""

    indptr: np.ndarray  # int64, n_terms + 1
    docs: np.ndarray  # int32, sorted within each term
    weights: np.ndarray  # float64, the BM25Okapi summand for (term, passage)
    idf: np.ndarray  # float64 per term, after BM25Okapi's epsilon floor; 0 for terms absent here


def okapi_idf(doc_freq: np.ndarray, n_docs: int, epsilon: float = EPSILON) -> np.ndarray:
    """BM25Okapi idf: log((N - n + 0.5) / (n + 0.5)); negatives replaced by epsilon * mean idf.

    The mean is taken over the terms of this field only (terms with doc_freq > 0), before the
    floor, exactly as rank-bm25 does.
    """
    present = doc_freq > 0
    idf = np.zeros(len(doc_freq))
    if not present.any():
        return idf
    n = doc_freq[present].astype(np.float64)
    raw = np.log(n_docs - n + 0.5) - np.log(n + 0.5)
    floor = epsilon * (math.fsum(raw) / len(raw))
    idf[present] = np.where(raw < 0, floor, raw)
    return idf


def build_postings(
    doc_terms: list[list[int]], n_terms: int, k1: float = K1, b: float = B, epsilon: float = EPSILON
) -> Postings:
    """Compute BM25Okapi weights for documents given as lists of term ids."""
    lengths = np.fromiter((len(d) for d in doc_terms), dtype=np.int64, count=len(doc_terms))
    flat = np.fromiter((t for d in doc_terms for t in d), dtype=np.int64, count=int(lengths.sum()))
    docs, terms, tf = count_pairs(flat, lengths, first_doc=0)
    return postings_from_pairs(docs, terms, tf, lengths.astype(np.float64), n_terms, k1, b, epsilon)


def count_pairs(flat_terms: np.ndarray, lengths: np.ndarray, first_doc: int) -> tuple[np.ndarray, ...]:
    """(doc, term, term frequency) for each distinct term of each document, sorted by doc then term."""
    docs = np.repeat(np.arange(first_doc, first_doc + len(lengths), dtype=np.int64), lengths)
    keys, tf = np.unique((docs << 32) | flat_terms.astype(np.int64), return_counts=True)
    return (keys >> 32).astype(np.int32), (keys & 0xFFFFFFFF).astype(np.int32), tf.astype(np.int32)


def postings_from_pairs(
    docs: np.ndarray, terms: np.ndarray, tf: np.ndarray, doc_len: np.ndarray, n_terms: int,
    k1: float = K1, b: float = B, epsilon: float = EPSILON,
) -> Postings:
    """BM25Okapi postings from (doc, term, tf) triples sorted by doc, and each document's length."""
    n_docs = len(doc_len)
    avgdl = float(doc_len.sum()) / n_docs if n_docs else 0.0
    # A stable sort by term keeps each term's passages in ascending order.
    order = np.argsort(terms, kind="stable")
    terms, docs, tf = terms[order], docs[order], tf[order].astype(np.float64)
    del order
    doc_freq = np.bincount(terms, minlength=n_terms)
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(doc_freq, out=indptr[1:])
    idf = okapi_idf(doc_freq, n_docs, epsilon)
    norm = k1 * (1 - b + b * doc_len[docs] / avgdl) if avgdl else np.full(len(tf), k1 * (1 - b))
    weights = idf[terms] * (tf * (k1 + 1) / (tf + norm))
    return Postings(indptr=indptr, docs=docs.astype(np.int32), weights=weights, idf=idf)


def accumulate(postings: Postings, term_counts: dict[int, int], n_docs: int, scale: float = 1.0) -> np.ndarray:
    """Dense BM25Okapi scores of every passage for a query given as {term id: occurrences}."""
    scores = np.zeros(n_docs)
    for term, count in term_counts.items():
        lo, hi = postings.indptr[term], postings.indptr[term + 1]
        scores[postings.docs[lo:hi]] += postings.weights[lo:hi] * (count * scale)
    return scores
