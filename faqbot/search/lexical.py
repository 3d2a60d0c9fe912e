"""Question -> ranked passages: sum BM25 postings of the query's terms over the index fields."""

from __future__ import annotations

import math
import weakref
from collections import Counter
from dataclasses import dataclass
from itertools import repeat
from typing import NamedTuple

import numpy as np

from . import kernel
from ..text.analyze import WORD_TABLE_LANGUAGE, analyze, stemmer_language
from ..index.bm25 import Postings
from ..index.store import SIDE_FIELD, TIERED_FIELD, Index
from .compounds import COMPOUNDING, widen

# How much a match on the FAQ question itself adds to the body score (see docs/quality.md).
FIELD_WEIGHTS = {"body": 1.0, "question": 1.0}


class Hit(NamedTuple):
    """A passage number and its score."""

    doc: int
    score: float


@dataclass(frozen=True)
class Query:
    """An analysed question: its terms with counts, their ids in the index (None if unknown),
    and known: term id -> count for the terms the index has."""

    terms: Counter
    ids: dict[str, int | None]
    known: dict[int, int]
    language: str = WORD_TABLE_LANGUAGE  # the analysis language (analyze.stemmer_language)
    sequence: tuple[str, ...] = ()  # the terms in the question's order (search.phrases)


def parse_query(index: Index, question: str, language: str | None = None) -> Query:
    """Analyse a question with the index's analyzer (in language: an analysis key or tag) and look its terms up."""
    sequence = tuple(analyze(question, language, index.word_table))
    terms = Counter(sequence)
    ids = dict(zip(terms, index.term_ids(list(terms))))
    return Query(terms=terms, ids=ids, known={i: terms[t] for t, i in ids.items() if i is not None},
                 language=stemmer_language(language) if language else WORD_TABLE_LANGUAGE, sequence=sequence)


_buffers = kernel.Buffers()  # per-thread scratch, zero again after each query


def _best(docs: np.ndarray, scores: np.ndarray, k: int, repeats: int = 1, head: tuple[int, int] | None = None) -> list[Hit]:
    """The k best docs, best first, ties (also at the k-th place) broken by index order.

    A doc may occur up to `repeats` times, always with the same score. head = (start, stop)
    marks a run of at least k distinct docs: the k-th best score among them is a threshold no
    top-k doc is below, found without partitioning everything.
    """
    want = k * repeats
    if len(docs) > want:
        if head is not None:
            lo, hi = head
            threshold = np.partition(scores[lo:hi], hi - lo - k)[hi - lo - k]
        else:
            # The k * repeats best entries hold at least k distinct docs.
            threshold = np.partition(scores, len(scores) - want)[len(scores) - want]
        keep = np.flatnonzero(scores >= threshold)
        docs, scores = docs[keep], scores[keep]
        if head is not None and len(docs) > 4 * want:
            return _best(docs, scores, k, repeats)
    order = np.lexsort((docs, -scores))
    docs, scores = docs[order], scores[order]
    if repeats > 1 and len(docs) > 1:
        # Repeats of a doc are adjacent now: same score, same doc.
        first = np.empty(len(docs), dtype=bool)
        first[0] = True
        np.not_equal(docs[1:], docs[:-1], out=first[1:])
        docs, scores = docs[first], scores[first]
    return [Hit(d, s) for d, s in zip(docs[:k].tolist(), scores[:k].tolist())]


class _List:
    """One postings list of the query: a term in a field, its weights scaled by count and field weight."""

    __slots__ = ("size", "lo", "postings", "term", "scale", "bound")

    def __init__(self, size: int, lo: int, postings: Postings, term: int, scale: float):
        self.size, self.lo, self.postings, self.term, self.scale = size, lo, postings, term, scale

    @property
    def docs(self) -> np.ndarray:
        return self.postings.docs[self.lo:self.lo + self.size]

    @property
    def weights(self) -> np.ndarray:
        weights = self.postings.weights[self.lo:self.lo + self.size]
        return weights if self.scale == 1 else weights * self.scale

    def lookup(self, docs: np.ndarray) -> np.ndarray:
        """This list's weight for each of docs (sorted int32), 0 where a doc is not in the list."""
        own = self.docs
        pos = np.searchsorted(own, docs)
        np.minimum(pos, self.size - 1, out=pos)
        found = own.take(pos) == docs
        weights = np.where(found, self.postings.weights[self.lo:self.lo + self.size].take(pos), 0.0)
        return weights if self.scale == 1 else weights * self.scale


# Below this many postings a query is scored exhaustively: pruning's bookkeeping would cost more.
PRUNE_FROM_POSTINGS = 60_000
_FIRST_ROUND_SHARE = 0.03  # of the query's postings, rarest lists first, scored before pruning
_PROBE = 3  # times k: the best first-round passages whose full scores set the pruning threshold
_LOOKUP_RATIO = 8  # look passages up in a list (binary search) only if it is this much longer
_SLACK = 1e-9  # relative room for float rounding when comparing sums with bounds


def _query_lists(index: Index, fields: dict[str, float], term_counts: dict[int, int]) -> list[_List]:
    lists = []
    for field, field_weight in fields.items():
        postings = index.fields[field]
        indptr = postings.indptr
        for term, count in term_counts.items():
            lo, hi = int(indptr[term]), int(indptr[term + 1])
            if hi > lo:
                lists.append(_List(hi - lo, lo, postings, term, count * field_weight))
    lists.sort(key=lambda x: x.size)
    return lists


def _accumulate(acc: np.ndarray, lists: list[_List]) -> np.ndarray:
    """Add the lists into acc; return their docs (intp, repeated across lists)."""
    if len(lists) == 1:
        docs = lists[0].docs.astype(np.intp)
        acc[docs] += lists[0].weights  # a doc occurs once in one list
        return docs
    docs = np.concatenate([x.docs for x in lists]).astype(np.intp)
    # A passage repeats across lists: np.add.at sums the repeats (fancy-index += would not).
    np.add.at(acc, docs, np.concatenate([x.weights for x in lists]))
    return docs


def _distinct(docs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct docs (int32) with their scores; repeats of a doc carry the same score."""
    order = np.argsort(docs, kind="stable")
    docs, scores = docs[order], scores[order]
    first = np.empty(len(docs), dtype=bool)
    first[:1] = True
    np.not_equal(docs[1:], docs[:-1], out=first[1:])
    return docs[first].astype(np.int32), scores[first]


def best_passages(index: Index, term_counts: dict[int, int], k: int, fields: dict[str, float] | None = None) -> list[Hit]:
    """The k best passages for a query given as term ids: exactly the top k of the matching passages.

    Scores are summed in a dense per-thread buffer, touched only at the query's postings.
    Queries with many postings (common words in a big index) are pruned, MaxScore style:
    the rare lists are scored first; the full scores of their best passages give a threshold
    theta that the k-th best passage reaches at least. A passage found only in long lists whose
    largest weights add up to less than theta cannot be in the top k, so those lists are not
    added: they are only looked up for the passages that could still make it.
    """
    if k <= 0:
        return []
    fields = FIELD_WEIGHTS if fields is None else fields
    kernels = kernel.loaded()
    if kernels and 0 < len(fields) <= 2 and term_counts:
        return _compiled_best(index, fields, term_counts, k, kernels)
    lists = _query_lists(index, fields, term_counts)
    if not lists:
        return []
    if len(lists) == 1:  # one list: its passages are distinct and its weights are the scores
        return _best(lists[0].docs, lists[0].weights, k)
    total = sum(x.size for x in lists)
    acc = _buffers.get(index.n_passages)[0]
    # BM25Okapi's idf floor is negative when the mean idf is: bounds only hold for weights >= 0.
    if total < PRUNE_FROM_POSTINGS or any(x.postings.idf[x.term] < 0 for x in lists):
        docs = _accumulate(acc, lists)
        try:
            scores = acc.take(docs)
        finally:
            acc[docs] = 0.0
        start, head = 0, None
        for x in lists:  # the rarest list with k passages: distinct docs, usually high scorers
            if x.size >= k:
                head = (start, start + x.size)
                break
            start += x.size
        return _best(docs, scores, k, len(lists), head)
    return _pruned(index, acc, lists, total, k)


# ids of the arrays a bound was computed from -> the bound (see _once)
_computed: dict[tuple[int, ...], np.ndarray] = {}


def _once(arrays: tuple[np.ndarray, ...], compute) -> np.ndarray:
    """compute() for these index arrays, once per loaded index (forgotten with the first array)."""
    key = tuple(map(id, arrays))
    value = _computed.get(key)
    if value is None:
        value = _computed[key] = compute()
        weakref.finalize(arrays[0], _computed.pop, key, None)
    return value


def _term_bounds(postings: Postings, kernels) -> np.ndarray:
    """Each term's largest weight in a field."""
    return _once((postings.weights,), lambda: kernels.term_bounds(postings.indptr, postings.weights))


def _pair_bounds(main: Postings, other: Postings, kernels) -> np.ndarray:
    """Each term's largest weight in main and other summed, per passage (only term at a time needs it)."""
    if other is main:
        return _term_bounds(main, kernels) * 2
    return _once((main.weights, other.weights), lambda: kernels.pair_bounds(
        main.indptr, main.docs, main.weights, _term_bounds(main, kernels),
        other.indptr, other.docs, other.weights, _term_bounds(other, kernels)))


# From this many passages the compiled term-at-a-time kernel prunes (MaxScore). Below, adding every
# posting is faster than pruning's bookkeeping (same 2,000 questions, medians of four passes):
# p50 / p99 0.073 / 0.28 ms against 0.104 / 0.41 at 100k, 0.30 / 1.0 against 0.33 / 1.4 at 300k;
# at 1M (an index without top tiers) pruning wins for short and long questions alike (mean 2.7
# against 3.2 ms for those with 400k postings or more).
PRUNE_FROM_PASSAGES = 1_000_000
# Without pruning, a question whose lists hold more postings than an eighth of the passages adds
# them all without listing the passages it touches, then scans every score (kernels.exhaustive_scan).
# At 100k, same 2,000 questions interleaved, p50 / p90 / p99: 0.077 / 0.126 / 0.164 ms against
# 0.086 / 0.178 / 0.265 always listing; 1/4: 0.080 / 0.137 / 0.172; 1/16: 0.086 / 0.114 / 0.142.
SCAN_FROM = 8
# From this many passages the score buffer outgrows the core's cache: indexes with top tiers
# (bm25.Tiers) are then searched range by range with them (kernels.tiered_top_k).
TIERED_FROM_PASSAGES = 300_000
# Passages per range: the range's score buffer (128 KB) stays in the core's cache, and theta rises
# between ranges (at 1M, p99 2.6 ms against 2.85 with 65,536; p50 within 3%).
RANGE_WIDTH = 16_384


class _Plan(NamedTuple):
    """What the compiled kernel needs of a loaded index to search some fields (see _plan)."""

    tiered: bool  # range by range over the top tiers (kernels.tiered_top_k), else kernels.top_k
    prune: bool  # kernels.top_k prunes (PRUNE_FROM_PASSAGES)
    arrays: tuple  # the kernel's leading arguments: postings, idf and bounds
    weight0: float  # the first field's weight
    weight1: float | None  # the second field's, None when one field is searched


_plans: "weakref.WeakKeyDictionary[Index, dict]" = weakref.WeakKeyDictionary()


def _plan(index: Index, fields: dict[str, float], kernels) -> _Plan:
    """The kernel plan for index and fields, made once per loaded index: per question, only its
    terms and counts are left to prepare."""
    plans = _plans.get(index)
    if plans is None:
        plans = _plans[index] = {}
    key = tuple(fields.items())
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _make_plan(index, fields, kernels)
    return plan


def _make_plan(index: Index, fields: dict[str, float], kernels) -> _Plan:
    names = list(fields)
    main = index.fields[names[0]]
    # One field: the other lists get scale 0; any other field of the index does (its bounds are cached).
    other = index.fields[names[1]] if len(names) == 2 else next(
        (p for f, p in index.fields.items() if f != names[0]), main)
    bound0, bound1 = _term_bounds(main, kernels), _term_bounds(other, kernels)
    weight1 = fields[names[1]] if len(names) == 2 else None
    tiers = getattr(index, "tiers", None)
    if (tiers is not None and names[0] == TIERED_FIELD and (len(names) == 1 or names[1] == SIDE_FIELD)
            and index.n_passages >= TIERED_FROM_PASSAGES):
        return _Plan(True, True, (main.indptr, main.docs, main.weights, main.idf, bound0,
                                  tiers.indptr, tiers.docs, tiers.weights, tiers.qweights, tiers.floor,
                                  tiers.rest_bound, tiers.top_bound,
                                  other.indptr, other.docs, other.weights, other.idf, bound1), fields[names[0]], weight1)
    prune = index.n_passages >= PRUNE_FROM_PASSAGES
    return _Plan(False, prune, (main.indptr, main.docs, main.weights, main.idf, bound0,
                                other.indptr, other.docs, other.weights, other.idf, bound1,
                                _pair_bounds(main, other, kernels) if prune else bound0 + bound1),
                 fields[names[0]], weight1)


def _compiled_best(index: Index, fields: dict[str, float], term_counts: dict[int, int], k: int, kernels) -> list[Hit]:
    """best_passages with the compiled kernel (see kernels.top_k and kernels.tiered_top_k)."""
    plan = _plan(index, fields, kernels)
    terms = np.fromiter(term_counts, np.int64, len(term_counts))
    counts = np.fromiter(term_counts.values(), np.float64, len(term_counts))
    scales0 = counts if plan.weight0 == 1 else counts * plan.weight0
    scales1 = (np.zeros(len(counts)) if plan.weight1 is None else counts if plan.weight1 == 1
               else counts * plan.weight1)
    acc, seen, touched = _buffers.get(index.n_passages)
    if plan.tiered:
        width = min(RANGE_WIDTH, index.n_passages)
        cand = touched[width + 1:2 * width + 1] if len(touched) > 2 * width else np.empty(width, np.int32)
        docs, scores = kernels.tiered_top_k(*plan.arrays, terms, scales0, scales1, k, index.n_passages,
                                            width, acc, seen, touched, cand)
    else:
        docs, scores = kernels.top_k(*plan.arrays, terms, scales0, scales1, k, plan.prune, SCAN_FROM, acc, seen, touched)
    # Hits built as plain tuples of the Hit class: a third of the cost of calling Hit() ten times.
    return list(map(tuple.__new__, repeat(Hit), zip(docs.tolist(), scores.tolist())))


def _pruned(index: Index, acc: np.ndarray, lists: list[_List], total: int, k: int) -> list[Hit]:
    first = 1
    while first < len(lists) - 1 and (
            sum(x.size for x in lists[:first + 1]) <= _FIRST_ROUND_SHARE * total or sum(x.size for x in lists[:first]) < k):
        first += 1
    rest = lists[first:]
    touched = [_accumulate(acc, lists[:first])]
    skipped: list[_List] = []
    try:
        docs = touched[0]
        partial = acc.take(docs)
        # theta: the k-th best full score among the first round's best passages (a few lookups).
        probe = np.argpartition(partial, len(partial) - _PROBE * k)[-_PROBE * k:] if len(partial) > _PROBE * k else slice(None)
        probe_docs, probe_scores = _distinct(docs[probe], partial[probe])
        theta = -np.inf
        if len(probe_docs) >= k:
            for x in rest:
                probe_scores = probe_scores + x.lookup(probe_docs)
            theta = np.partition(probe_scores, len(probe_scores) - k)[len(probe_scores) - k]
        # Skip the longest lists first, while their bounds add up to less than theta.
        bound = 0.0
        for x in sorted(rest, key=lambda x: -x.size):
            x.bound = index.max_weight(x.postings, x.term) * x.scale
            if (bound + x.bound) * (1 + _SLACK) < theta:
                skipped.append(x)
                bound += x.bound
        more = [x for x in rest if x not in skipped]
        if more:
            touched.append(_accumulate(acc, more))
            docs = np.concatenate(touched)
            partial = acc.take(docs)
    finally:
        for t in touched:
            acc[t] = 0.0
    if not skipped:
        return _best(docs, partial, k, len(lists))
    # A passage that stays below theta even with every skipped list's largest weight is out;
    # the others get their exact scores, the most discriminating list first.
    could = np.flatnonzero(partial + bound * (1 + _SLACK) >= theta * (1 - _SLACK))
    docs, scores = _distinct(docs[could], partial[could])
    skipped.sort(key=lambda x: -x.bound)
    for i, x in enumerate(skipped):
        if len(docs) * _LOOKUP_RATIO > x.size:  # many passages left: adding the list is cheaper
            own = x.docs.astype(np.intp)
            try:
                acc[own] = x.weights
                scores = scores + acc.take(docs)
            finally:
                acc[own] = 0.0
        else:
            scores = scores + x.lookup(docs)
        left = sum(y.bound for y in skipped[i + 1:])
        if left:
            could = scores + left * (1 + _SLACK) >= theta * (1 - _SLACK)
            docs, scores = docs[could], scores[could]
    return _best(docs, scores, k)


def warm_up(index: Index) -> bool:
    """Load the compiled kernel and run it on this index (for long-running processes).

    The first call per array type loads machine code from numba's disk cache (or compiles it once
    after an install), and each field's term bounds are computed: done here, so no reader waits.
    False if the kernel is unavailable.
    """
    if not kernel.load():
        return False
    if len(index.terms):
        best_passages(index, {0: 1}, 1)
        best_passages(index, {0: 1}, 1, {"body": 1.0})
        one = np.zeros(1, np.int64)
        for postings in index.fields.values():  # the confidence features' kernel (answer.coverage)
            kernel.loaded().coverage(postings.indptr, postings.docs, postings.idf, one, 1.0, one)
    return True


def search(index: Index, question: str, k: int, language: str | None = None) -> tuple[Query, list[Hit]]:
    """Analyse question (in language, English by default) and return its k best-matching passages (only passages with a match)."""
    query = parse_query(index, question, language)
    return query, best_passages(index, term_weights(index, query), k)


def term_weights(index: Index, query: Query) -> dict[int, float]:
    """The term ids a query searches with their weights: its own terms, and in languages that write
    compounds as one word, the index terms they split into or are part of (faqbot.search.compounds)."""
    if query.language not in COMPOUNDING or not query.terms:
        return query.known
    return {**widen(index, query.terms, query.language), **query.known}


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


def lexical_scores(index: Index, query: Query, docs: np.ndarray, fields: dict[str, float] | None = None) -> np.ndarray:
    """The BM25 scores best_passages gives these passages (sorted or not; 0 where no term matches):
    for passages found another way (faqbot.search.dense), one binary search per term and field."""
    docs = np.asarray(docs, dtype=np.int64)
    scores = np.zeros(len(docs))
    for field, field_weight in (FIELD_WEIGHTS if fields is None else fields).items():
        postings = index.fields[field]
        for term, count in query.known.items():
            lo, hi = int(postings.indptr[term]), int(postings.indptr[term + 1])
            if hi > lo:
                row = postings.docs[lo:hi]
                pos = row.searchsorted(docs).clip(0, hi - lo - 1)
                found = row.take(pos) == docs
                scores += np.where(found, postings.weights[lo:hi].take(pos), 0.0) * (count * field_weight)
    return scores
