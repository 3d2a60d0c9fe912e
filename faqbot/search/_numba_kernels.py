"""numba kernels of the query path (imported only by faqbot.search.kernel.load(): importing numba takes ~0.4 s).

This module holds the pruned top-k search (MaxScore, tiers); the heap and exhaustive scoring are in
_numba_exhaustive, the dense kernels in _numba_dense, the confidence features' in _numba_features,
all reached through this module.

Module-level functions, so numba's on-disk cache (cache=True) finds them again in the next process.
"""

import numpy as np
from numba import njit

from ._numba_dense import half_dots, pair_hamming  # noqa: F401 - the dense kernels, reached through this module
from ._numba_features import coverage  # noqa: F401
from ._numba_exhaustive import (add_positive, best_first, exhaustive, exhaustive_positive, exhaustive_scan,  # noqa: F401
                                first_at_least, offer, term_bounds, worse)

SEED = 128  # docs whose full scores set the first threshold (see chunk_seed_floor; 128 measured faster than 512-8192 at 1M)


PROBE = 3  # times k: the best partially scored docs whose full scores raise theta early
GALLOP = 16  # a candidate probed by galloping costs about this many postings of a full scan


@njit(cache=True, nogil=True)
def kth_best(acc, docs, n, k):
    """The k-th largest acc[d] over docs[:n] (n >= k), with a k-sized min-heap."""
    heap = np.empty(k)
    for j in range(k):
        heap[j] = acc[docs[j]]
    heap.sort()  # a sorted array is a valid min-heap
    for j in range(k, n):
        v = acc[docs[j]]
        if v > heap[0]:
            pos = 0
            while True:
                child = 2 * pos + 1
                if child >= k:
                    break
                if child + 1 < k and heap[child + 1] < heap[child]:
                    child += 1
                if heap[child] >= v:
                    break
                heap[pos] = heap[child]
                pos = child
            heap[pos] = v
    return heap[0]


@njit(cache=True, nogil=True)
def probe_floor(docs0, weights0, docs1, weights1, fields, starts, stops, scales, first, acc, touched, n, want, k):
    """A score k docs reach: the k-th best full score of the `want` docs with the best partial scores
    in acc (lists [:first] added), completing them by galloping through lists [first:]."""
    heap_scores = np.empty(want)
    heap_docs = np.empty(want, np.int64)
    size = 0
    for j in range(n):
        d = touched[j]
        if size < len(heap_scores) or worse(heap_scores[0], heap_docs[0], acc[d], d):
            size = offer(heap_scores, heap_docs, size, acc[d], d)
    if size < k:
        return -np.inf
    order = np.argsort(heap_docs[:size])
    probe_docs = heap_docs[:size][order]
    totals = heap_scores[:size][order].copy()
    for i in range(first, len(starts)):
        docs, weights = (docs0, weights0) if fields[i] == 0 else (docs1, weights1)
        cur, stop, scale = starts[i], stops[i], scales[i]
        for j in range(size):
            cur = first_at_least(docs, cur, stop, probe_docs[j])
            if cur == stop:
                break
            if docs[cur] == probe_docs[j]:
                totals[j] += weights[cur] * scale
    return np.partition(totals, size - k)[size - k]


@njit(cache=True, nogil=True, inline="always")
def still_reaching(acc, docs, n, out, rest, theta, strict):
    """Copy into out (which may be docs) those of docs[:n] for which acc + rest can still reach theta
    (beat it if strict); their count. Branch-free: which docs pass is unpredictable, and
    mispredicted branches cost more here than the stores (p99 at 1M: 1.8 against 2.3 ms, together
    with the branch-free scans in pruned() and chunked_max_score())."""
    c = 0
    if strict:
        for t in range(n):
            j = docs[t]
            out[c] = j
            c += acc[j] + rest > theta
    else:
        for t in range(n):
            j = docs[t]
            out[c] = j
            c += acc[j] + rest >= theta
    return c


@njit(cache=True, nogil=True)
def pruned(docs0, weights0, docs1, weights1, fields, starts, stops, scales, bounds, ends, k, acc, touched):
    """The k best docs by summed weight*scale (all > 0), term at a time with MaxScore pruning.

    Lists as in exhaustive(), in groups (a term's lists in both fields; ends[i]: list i closes
    its group) sorted by group bound descending; bounds[i] is what list i may add at most, given
    the lists before it in its group (so sums of bounds from a list on bound what is left).
    Lists are added into acc in that order; theta, a score k docs reach, is raised from the
    partial sums (partial <= full) and once from the full scores of the best partial docs. When
    the groups left cannot lift an untouched doc to theta, no new doc can enter: the rest only
    complete the candidates (touched docs that can still reach theta), galloping when they are
    few. Every doc kept is completed with the lists in the same order, so its score is exact.
    """
    m = len(starts)
    rest = np.zeros(m + 1)  # rest[i]: the most lists i.. can add (rounded up)
    for i in range(m - 1, -1, -1):
        rest[i] = (rest[i + 1] + bounds[i]) * (1 + 1e-12)
    for i in range(m):
        rest[i] *= 1 + 1e-9
    left = np.zeros(m + 1, np.int64)  # left[i]: postings in lists i..
    for i in range(m - 1, -1, -1):
        left[i] = left[i + 1] + stops[i] - starts[i]
    n = 0
    theta = -np.inf
    probed = False
    i = 0
    while i < m:
        docs, weights = (docs0, weights0) if fields[i] == 0 else (docs1, weights1)
        n = add_positive(docs, weights, starts[i], stops[i], scales[i], acc, touched, n)
        i += 1
        if i == m or n < k or not ends[i - 1]:
            continue
        if not probed:  # usually right after the rarest term: few docs, likely the best ones
            probed = True
            theta = max(theta, probe_floor(docs0, weights0, docs1, weights1, fields, starts, stops, scales,
                                           i, acc, touched, n, min(n, PROBE * k), k))
        if rest[i] < theta:
            break
        if left[i] > 2 * n:  # the k-th best partial sum may end this phase: worth a pass over the docs
            theta = max(theta, kth_best(acc, touched, n, k))
            if rest[i] < theta:
                break
    cand = np.empty(n, np.int64)
    c = still_reaching(acc, touched, n, cand, rest[i], theta, False)
    ordered = False
    while i < m:
        docs, weights = (docs0, weights0) if fields[i] == 0 else (docs1, weights1)
        scale, start, stop = scales[i], starts[i], stops[i]
        if c * GALLOP < stop - start:
            if not ordered:
                cand[:c].sort()
                ordered = True
            cur = start
            for j in range(c):
                d = cand[j]
                cur = first_at_least(docs, cur, stop, d)
                if cur == stop:
                    break
                if docs[cur] == d:
                    acc[d] += weights[cur] * scale
        else:
            for p in range(start, stop):  # touched docs (acc != 0: weights are > 0), branch-free
                d = docs[p]
                a = acc[d]
                s = a + weights[p] * scale
                acc[d] = s if a != 0.0 else a
        i += 1
        if c >= k:
            theta = max(theta, kth_best(acc, cand, c, k))
        c = still_reaching(acc, cand, c, cand, rest[i], theta, False)
    heap_scores = np.empty(min(k, max(c, 1)), np.float64)
    heap_docs = np.empty(min(k, max(c, 1)), np.int64)
    size = 0
    for j in range(c):
        d = cand[j]
        if size < len(heap_scores) or worse(heap_scores[0], heap_docs[0], acc[d], d):
            size = offer(heap_scores, heap_docs, size, acc[d], d)
    for j in range(n):
        acc[touched[j]] = 0.0
    return best_first(heap_scores, heap_docs, size)


@njit(cache=True, nogil=True)
def pair_bounds(indptr0, docs0, weights0, bound0, indptr1, docs1, weights1, bound1):
    """Each term's largest weight0 + weight1 over the docs it occurs in (in either field)."""
    out = np.maximum(bound0, bound1)
    for t in range(len(indptr1) - 1):
        cur, stop = indptr0[t], indptr0[t + 1]
        for p in range(indptr1[t], indptr1[t + 1]):
            cur = first_at_least(docs0, cur, stop, docs1[p])
            if cur < stop and docs0[cur] == docs1[p]:
                out[t] = max(out[t], weights0[cur] + weights1[p])
    return out


@njit(cache=True, nogil=True)
def top_k(indptr0, docs0, weights0, idf0, bound0, indptr1, docs1, weights1, idf1, bound1, bound01,
          terms, scales0, scales1, k, prune, scan_from, acc, seen, touched):
    """The k best passages for terms: field 0's lists plus field 1's (scale 0 leaves a list out),
    term at a time: pruned if prune, else exhaustive, scanning all of acc (exhaustive_scan) when
    the lists hold more than len(acc) / scan_from postings (scan_from 0: never); exhaustive with
    seen flags when a weight can be 0 or negative (BM25Okapi's idf at or below zero).

    bound0/bound1: each term's largest weight per field; bound01: of both fields' weights summed
    (pair_bounds; only pruning needs it exact, else any per-term array of bounds orders the lists).
    """
    nt = len(terms)
    positive = True  # every weight * scale > 0: not so where BM25Okapi's idf is 0 or floored below 0
    group_bound = np.zeros(nt)
    for j in range(nt):
        t = terms[j]
        has0 = scales0[j] != 0 and indptr0[t + 1] > indptr0[t]
        has1 = scales1[j] != 0 and indptr1[t + 1] > indptr1[t]
        if (has0 and (idf0[t] <= 0 or scales0[j] < 0)) or (has1 and (idf1[t] <= 0 or scales1[j] < 0)):
            positive = False
        if has0 and has1:
            if scales0[j] == scales1[j]:
                group_bound[j] = bound01[t] * scales0[j]
            else:
                group_bound[j] = bound0[t] * scales0[j] + bound1[t] * scales1[j]
        elif has0:
            group_bound[j] = bound0[t] * scales0[j]
        elif has1:
            group_bound[j] = bound1[t] * scales1[j]
    order = np.argsort(-group_bound, kind="mergesort")
    m = 0
    fields = np.empty(2 * nt, np.int64)
    starts = np.empty(2 * nt, np.int64)
    stops = np.empty(2 * nt, np.int64)
    scales = np.empty(2 * nt)
    bounds = np.empty(2 * nt)
    ends = np.zeros(2 * nt, np.bool_)
    for j in order:
        t = terms[j]
        first = m
        if scales0[j] != 0 and indptr0[t + 1] > indptr0[t]:
            fields[m], starts[m], stops[m], scales[m] = 0, indptr0[t], indptr0[t + 1], scales0[j]
            bounds[m] = group_bound[j]
            m += 1
        if scales1[j] != 0 and indptr1[t + 1] > indptr1[t]:
            fields[m], starts[m], stops[m], scales[m] = 1, indptr1[t], indptr1[t + 1], scales1[j]
            bounds[m] = bound1[t] * scales1[j]
            if m > first:  # the group's bound less what the question list may still add
                bounds[first] = max(group_bound[j] - bounds[m], 0.0)
            m += 1
        if m > first:
            ends[m - 1] = True
    if not positive:
        return exhaustive(docs0, weights0, docs1, weights1, fields[:m], starts[:m], stops[:m], scales[:m],
                          k, acc, seen, touched)
    if not prune:
        if (stops[:m] - starts[:m]).sum() * scan_from > len(acc):
            return exhaustive_scan(docs0, weights0, docs1, weights1, fields[:m], starts[:m], stops[:m], scales[:m],
                                   k, acc)
        return exhaustive_positive(docs0, weights0, docs1, weights1, fields[:m], starts[:m], stops[:m], scales[:m],
                                   k, acc, touched)
    return pruned(docs0, weights0, docs1, weights1, fields[:m], starts[:m], stops[:m], scales[:m],
                  bounds[:m], ends[:m], k, acc, touched)


@njit(cache=True, nogil=True, inline="always")
def list_arrays(source, docs0, weights0, docs1, weights1, qweights1, docs2, weights2):
    """A list's docs, weights and second weights (for the top tier: its question weights; for the
    others the weights again, always scaled by 0) from source 0 (body), 1 (top tiers) or 2 (question)."""
    if source == 0:
        return docs0, weights0, weights0
    if source == 1:
        return docs1, weights1, qweights1
    return docs2, weights2, weights2


@njit(cache=True, nogil=True)
def chunk_seed_floor(docs0, weights0, docs1, weights1, qweights1, docs2, weights2,
                     sources, starts, stops, scales, qscales, lows, skips, k):
    """A score k docs reach: the k-th best full score of the first SEED docs of the last list with
    k docs (lists as in chunked_max_score: a short one, with high weights), completed by galloping
    through every list."""
    m = len(starts)
    seeds = -1
    for i in range(m - 1, -1, -1):
        if stops[i] - starts[i] >= k:
            seeds = i
            break
    if seeds < 0:
        return -np.inf
    count = min(stops[seeds] - starts[seeds], max(SEED, k))
    sdocs, _, _ = list_arrays(sources[seeds], docs0, weights0, docs1, weights1, qweights1, docs2, weights2)
    cur = starts.copy()
    totals = np.zeros(count)
    for s in range(count):
        d = sdocs[starts[seeds] + s]
        for i in range(m):
            docs, weights, second = list_arrays(sources[i], docs0, weights0, docs1, weights1, qweights1, docs2, weights2)
            p = cur[i] = first_at_least(docs, cur[i], stops[i], d)
            if p < stops[i] and docs[p] == d and lows[i] <= weights[p] < skips[i]:
                totals[s] += weights[p] * scales[i] + second[p] * qscales[i]
    return np.partition(totals, count - k)[count - k] * (1 - 1e-9)


@njit(cache=True, nogil=True)
def chunked_max_score(docs0, weights0, docs1, weights1, qweights1, docs2, weights2, sources, starts, stops,
                      scales, qscales, lows, skips, bounds, k, n_docs, width, acc, touched, cand):
    """The k best docs by summed weight (all > 0): MaxScore over ranges of `width` docs.

    List i is docs/weights[starts[i]:stops[i]] of source sources[i] (see list_arrays), a doc's weight
    there weight*scales[i] + second weight*qscales[i], keeping only postings with lows[i] <= weight <
    skips[i] (a term's top tier and its rest split the body list at a floor); bounds[i] bounds it.
    theta is a score k docs reach. The first lists, while their bounds add up to less than theta,
    cannot bring a doc into the top k alone: in each range, the other ("essential") lists are added
    into acc; the docs that can still reach theta are then completed list by list, by galloping
    when few or by a scan of the range when many, and the ones that reach it are kept (theta rises).
    acc and cand hold `width` entries, touched one more (add_positive's way: a doc is new in the
    range while its acc is 0); acc is zero on entry and exit.
    """
    m = len(starts)
    cur = starts.copy()
    reach = np.cumsum(bounds) * (1 + 1e-9)  # reach[i]: the most lists 0..i can add
    heap_scores = np.empty(k, np.float64)
    heap_docs = np.empty(k, np.int64)
    size = 0
    theta = chunk_seed_floor(docs0, weights0, docs1, weights1, qweights1, docs2, weights2,
                             sources, starts, stops, scales, qscales, lows, skips, k)
    strict = False  # theta is the k-th kept score: a doc must beat it (a tie with a later doc ranks below)
    essential = 0
    while essential < m and reach[essential] < theta:
        essential += 1
    base = 0
    while base < n_docs and essential < m:
        limit = min(base + width, n_docs)
        ess = essential  # fixed for this range: its lists are added in full
        n = 0
        for i in range(m - 1, ess - 1, -1):
            docs, weights, second = list_arrays(sources[i], docs0, weights0, docs1, weights1, qweights1, docs2, weights2)
            p, stop, scale, qscale, low, skip = cur[i], stops[i], scales[i], qscales[i], lows[i], skips[i]
            while p < stop and docs[p] < limit:
                w = weights[p]
                if low <= w < skip:
                    j = docs[p] - base
                    a = acc[j]
                    touched[n] = j
                    n += a == 0.0
                    acc[j] = a + w * scale + second[p] * qscale
                p += 1
            cur[i] = p
        c = still_reaching(acc, touched, n, cand, reach[ess - 1] if ess > 0 else 0.0, theta, strict)
        ordered = False
        for i in range(ess - 1, -1, -1):
            if c == 0:
                break
            docs, weights, second = list_arrays(sources[i], docs0, weights0, docs1, weights1, qweights1, docs2, weights2)
            scale, qscale, low, skip, stop = scales[i], qscales[i], lows[i], skips[i], stops[i]
            p = first_at_least(docs, cur[i], stop, base)
            end = first_at_least(docs, p, stop, limit)
            if c * GALLOP < end - p:
                if not ordered:
                    cand[:c].sort()
                    ordered = True
                for t in range(c):
                    j = cand[t]
                    p = first_at_least(docs, p, end, base + j)
                    if p == end:
                        break
                    if docs[p] == base + j and low <= weights[p] < skip:
                        acc[j] = acc[j] + weights[p] * scale + second[p] * qscale  # summed as below
            else:
                for q in range(p, end):  # branch-free, as in still_reaching()
                    j = docs[q] - base
                    a = acc[j]
                    w = weights[q]
                    s = a + w * scale + second[q] * qscale
                    acc[j] = s if (a != 0.0) & (low <= w) & (w < skip) else a
            cur[i] = end
            c = still_reaching(acc, cand, c, cand, reach[i - 1] if i > 0 else 0.0, theta, strict)
        if c > 1 and not ordered:
            cand[:c].sort()
        for t in range(c):  # doc order, so a tie with a kept doc ranks below it
            j = cand[t]
            d = base + j
            score = acc[j]
            if size < k or worse(heap_scores[0], heap_docs[0], score, d):
                size = offer(heap_scores, heap_docs, size, score, d)
                if size == k:
                    theta, strict = heap_scores[0], True
                    while essential < m and reach[essential] <= theta:
                        essential += 1
        for t in range(n):
            acc[touched[t]] = 0.0
        base = limit
    return best_first(heap_scores, heap_docs, size)


@njit(cache=True, nogil=True)
def tiered_top_k(indptr0, docs0, weights0, idf0, bound0, top_indptr, top_docs, top_weights, top_qweights, floor,
                 rest_bound, top_bound, indptr2, docs2, weights2, idf2, bound2, terms, scales0, scales2, k, n_docs,
                 width, acc, seen, touched, cand):
    """top_k() with the body's long lists split into their top tier (which carries the term's
    question postings) and the rest (bm25.Tiers), searched range by range (chunked_max_score).
    Field 2 is the question field; a term searched in the question field only keeps its plain lists.
    Weights that can be 0 or negative (idf at or below 0): exhaustive(). acc, seen, touched: scratch
    space sized to the index (for exhaustive()); cand: `width` more."""
    nt = len(terms)
    sources = np.empty(2 * nt, np.int64)
    starts = np.empty(2 * nt, np.int64)
    stops = np.empty(2 * nt, np.int64)
    scales = np.empty(2 * nt)
    qscales = np.zeros(2 * nt)
    lows = np.full(2 * nt, -np.inf)
    skips = np.full(2 * nt, np.inf)
    bounds = np.empty(2 * nt)
    m = 0
    positive = True  # as in top_k()
    for j in range(nt):
        t = terms[j]
        s0, s2 = scales0[j], scales2[j]
        has0 = s0 != 0 and indptr0[t + 1] > indptr0[t]
        has2 = s2 != 0 and indptr2[t + 1] > indptr2[t]
        if (has0 and (idf0[t] <= 0 or s0 < 0)) or (has2 and (idf2[t] <= 0 or s2 < 0)):
            positive = False
        # Body and question: the whole tier. Body only: its body postings (weight >= floor), when
        # the floor tells them from the question-only docs (weight 0).
        if top_indptr[t + 1] > top_indptr[t] and s0 != 0 and (s2 != 0 or floor[t] > 0):
            sources[m], starts[m], stops[m], scales[m], qscales[m] = 1, top_indptr[t], top_indptr[t + 1], s0, s2
            if s2 == 0:
                lows[m] = floor[t]
            bounds[m] = top_bound[t] * s0 if s0 == s2 else bound0[t] * s0 + bound2[t] * s2
            m += 1
            if has0 and rest_bound[t] > 0:
                sources[m], starts[m], stops[m], scales[m], skips[m] = 0, indptr0[t], indptr0[t + 1], s0, floor[t]
                bounds[m] = rest_bound[t] * s0
                m += 1
            continue
        if has0:
            sources[m], starts[m], stops[m], scales[m], bounds[m] = 0, indptr0[t], indptr0[t + 1], s0, bound0[t] * s0
            m += 1
        if has2:
            sources[m], starts[m], stops[m], scales[m], bounds[m] = 2, indptr2[t], indptr2[t + 1], s2, bound2[t] * s2
            m += 1
    if not positive:
        fields = np.empty(2 * nt, np.int64)
        m = 0
        for j in range(nt):
            t = terms[j]
            if scales0[j] != 0 and indptr0[t + 1] > indptr0[t]:
                fields[m], starts[m], stops[m], scales[m] = 0, indptr0[t], indptr0[t + 1], scales0[j]
                m += 1
            if scales2[j] != 0 and indptr2[t + 1] > indptr2[t]:
                fields[m], starts[m], stops[m], scales[m] = 1, indptr2[t], indptr2[t + 1], scales2[j]
                m += 1
        return exhaustive(docs0, weights0, docs2, weights2, fields[:m], starts[:m], stops[:m], scales[:m],
                          k, acc, seen, touched)
    # Lists with the most postings per unit of bound first: theta then leaves out the most postings.
    order = np.argsort(bounds[:m] / (stops[:m] - starts[:m]), kind="mergesort")
    return chunked_max_score(docs0, weights0, top_docs, top_weights, top_qweights, docs2, weights2,
                             sources[order], starts[order], stops[order], scales[order], qscales[order],
                             lows[order], skips[order], bounds[order], k, n_docs, width, acc, touched, cand)


