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


@dataclass(frozen=True)
class Tiers:
    """Each long body list's highest weights and its question postings, copied out as the term's "top" tier.

    For term t with a top tier (indptr[t+1] > indptr[t]): the docs, ascending, whose body weight
    is >= floor[t] or that have the term in their question; weights holds their body weight if
    >= floor[t] (else 0) and qweights their question weight (or 0). The rest of the body list
    (weights < floor[t]) is bounded by rest_bound[t], far below the list's largest weight, so
    pruning skips more of it; top_bound[t] is the largest weight + qweight in the tier. The
    query kernel adds the tier and the rest as separate lists: every posting is in exactly one.
    """

    indptr: np.ndarray  # int64, n_terms + 1
    docs: np.ndarray  # int32
    weights: np.ndarray  # float64
    qweights: np.ndarray  # float64
    floor: np.ndarray  # float64 per term (+inf for a term without a top tier)
    rest_bound: np.ndarray  # float64 per term
    top_bound: np.ndarray  # float64 per term


TIER_FROM_POSTINGS = 4096  # shorter lists are not split: pruning them gains little
TIER_SHARE = 0.05  # of a list's postings, the highest weights, in its top tier (measured best of 2-20% at 1M)


def top_tiers(body: Postings, question: Postings, min_postings: int = TIER_FROM_POSTINGS,
              share: float = TIER_SHARE) -> Tiers:
    """The top tier (see Tiers) of every body list with at least min_postings postings."""
    n_terms = len(body.indptr) - 1
    floor = np.full(n_terms, np.inf)
    rest_bound = np.zeros(n_terms)
    top_bound = np.zeros(n_terms)
    counts = np.zeros(n_terms, np.int64)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for t in np.flatnonzero(np.diff(body.indptr) >= max(min_postings, 1)).tolist():
        lo, hi = int(body.indptr[t]), int(body.indptr[t + 1])
        w = body.weights[lo:hi]
        top = max(int(len(w) * share), 1)
        floor[t] = np.partition(w, len(w) - top)[len(w) - top]
        high = w >= floor[t]
        rest = w[~high]
        rest_bound[t] = rest.max() if len(rest) else 0.0
        qlo, qhi = int(question.indptr[t]), int(question.indptr[t + 1])
        docs = np.union1d(body.docs[lo:hi][high], question.docs[qlo:qhi])
        weights = np.zeros(len(docs))
        weights[np.searchsorted(docs, body.docs[lo:hi][high])] = w[high]
        qweights = np.zeros(len(docs))
        qweights[np.searchsorted(docs, question.docs[qlo:qhi])] = question.weights[qlo:qhi]
        top_bound[t] = (weights + qweights).max()
        parts.append((docs, weights, qweights))
        counts[t] = len(docs)
    indptr = np.zeros(n_terms + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])

    def joined(i, dtype):
        return np.concatenate([part[i] for part in parts]).astype(dtype) if parts else np.zeros(0, dtype)

    return Tiers(indptr=indptr, docs=joined(0, np.int32), weights=joined(1, np.float64),
                 qweights=joined(2, np.float64), floor=floor, rest_bound=rest_bound, top_bound=top_bound)


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
    chunk = count_pairs(flat, lengths, first_doc=0)
    return postings_from_chunks([chunk], lengths.astype(np.float64), n_terms, k1, b, epsilon)


def count_pairs(flat_terms: np.ndarray, lengths: np.ndarray, first_doc: int) -> tuple[np.ndarray, ...]:
    """(doc, term, term frequency) int32 arrays for each distinct term of each document, sorted by term then doc.

    flat_terms: the documents' term ids one after the other; lengths: each document's token count.
    """
    n = len(lengths)
    shift = max(int(n).bit_length(), 1)
    keys = np.repeat(np.arange(n, dtype=np.int64), lengths)
    keys |= np.asarray(flat_terms, dtype=np.int64) << shift
    keys.sort()
    if not len(keys):
        empty = np.zeros(0, np.int32)
        return empty, empty, empty
    starts = np.empty(len(keys), dtype=bool)
    starts[0] = True
    np.not_equal(keys[1:], keys[:-1], out=starts[1:])
    starts = np.flatnonzero(starts)
    tf = np.diff(starts, append=len(keys)).astype(np.int32)
    keys = keys[starts]
    docs = (keys & ((1 << shift) - 1)).astype(np.int32)
    docs += first_doc
    return docs, (keys >> shift).astype(np.int32), tf


def _runs(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each run of equal values."""
    if not len(terms):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    change = np.empty(len(terms), dtype=bool)
    change[0] = True
    np.not_equal(terms[1:], terms[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    return starts, np.diff(starts, append=len(terms))


def postings_from_chunks(
    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]], doc_len: np.ndarray, n_terms: int,
    k1: float = K1, b: float = B, epsilon: float = EPSILON, term_map: np.ndarray | None = None,
) -> Postings:
    """BM25Okapi postings from chunks of (doc, term, tf) triples, and each document's length.

    Within a chunk the triples of one term are together, docs ascending (count_pairs' order); each
    chunk's docs come after those of the chunks before it. term_map (optional) renumbers the
    chunks' term ids. The chunks are placed by a counting sort on term, one chunk at a time, and
    the list is emptied as they are used, so memory stays near the size of the result.
    """
    n_docs = len(doc_len)
    avgdl = float(doc_len.sum()) / n_docs if n_docs else 0.0

    def mapped(terms):
        return term_map[terms] if term_map is not None else terms

    doc_freq = np.zeros(n_terms, dtype=np.int64)
    for _, terms, _ in chunks:
        doc_freq += np.bincount(mapped(terms), minlength=n_terms)
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(doc_freq, out=indptr[1:])
    idf = okapi_idf(doc_freq, n_docs, epsilon)
    total = int(indptr[-1])
    out_docs = np.empty(total, dtype=np.int32)
    weights = np.empty(total, dtype=np.float64)
    cursor = indptr[:-1].copy()
    chunks.reverse()
    while chunks:
        docs, terms, tf = chunks.pop()
        terms = mapped(terms)
        starts, lengths = _runs(terms)
        run_terms = terms[starts]
        pos = np.repeat(cursor[run_terms] - starts, lengths)
        pos += np.arange(len(terms))
        cursor[run_terms] += lengths
        out_docs[pos] = docs
        tf = tf.astype(np.float64)
        if avgdl:
            norm = doc_len[docs] * b  # rank-bm25's order of operations, for the same rounding
            norm /= avgdl
            norm += 1 - b
            norm *= k1
        else:
            norm = np.full(len(tf), k1 * (1 - b))
        norm += tf
        tf *= k1 + 1
        tf /= norm
        tf *= idf[terms]
        weights[pos] = tf
        del docs, terms, tf, norm, pos
    return Postings(indptr=indptr, docs=out_docs, weights=weights, idf=idf)


def accumulate(postings: Postings, term_counts: dict[int, int], n_docs: int, scale: float = 1.0) -> np.ndarray:
    """Dense BM25Okapi scores of every passage for a query given as {term id: occurrences}."""
    scores = np.zeros(n_docs)
    for term, count in term_counts.items():
        lo, hi = postings.indptr[term], postings.indptr[term + 1]
        scores[postings.docs[lo:hi]] += postings.weights[lo:hi] * (count * scale)
    return scores
