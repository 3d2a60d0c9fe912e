"""numba kernels of the query path (imported only by faqbot.kernel.load(): importing numba takes ~0.4 s).

Module-level functions, so numba's on-disk cache (cache=True) finds them again in the next process.
"""

import numpy as np
from numba import njit

SEED = 512  # docs whose full scores set the first threshold (see seed_floor)


@njit(cache=True, nogil=True, inline="always")
def worse(s1, d1, s2, d2):
    """(s1, d1) ranks below (s2, d2): lower score, or the same score and a later doc."""
    return s1 < s2 or (s1 == s2 and d1 > d2)


@njit(cache=True, nogil=True)
def offer(heap_scores, heap_docs, size, score, d):
    """Keep (score, d) if it is among the k best seen; the heap's root is the worst kept. Returns the size."""
    k = len(heap_scores)
    if size < k:
        pos = size
        size += 1
        while pos > 0:
            parent = (pos - 1) >> 1
            if worse(score, d, heap_scores[parent], heap_docs[parent]):
                heap_scores[pos], heap_docs[pos] = heap_scores[parent], heap_docs[parent]
                pos = parent
            else:
                break
        heap_scores[pos], heap_docs[pos] = score, d
    elif worse(heap_scores[0], heap_docs[0], score, d):
        pos = 0
        while True:
            child = 2 * pos + 1
            if child >= k:
                break
            if child + 1 < k and worse(heap_scores[child + 1], heap_docs[child + 1], heap_scores[child], heap_docs[child]):
                child += 1
            if not worse(heap_scores[child], heap_docs[child], score, d):
                break
            heap_scores[pos], heap_docs[pos] = heap_scores[child], heap_docs[child]
            pos = child
        heap_scores[pos], heap_docs[pos] = score, d
    return size


@njit(cache=True, nogil=True)
def best_first(heap_scores, heap_docs, size):
    """The kept docs and scores, best first (insertion sort: k is small)."""
    for i in range(1, size):
        s, d = heap_scores[i], heap_docs[i]
        j = i - 1
        while j >= 0 and worse(heap_scores[j], heap_docs[j], s, d):
            heap_scores[j + 1], heap_docs[j + 1] = heap_scores[j], heap_docs[j]
            j -= 1
        heap_scores[j + 1], heap_docs[j + 1] = s, d
    return heap_docs[:size].copy(), heap_scores[:size].copy()


@njit(cache=True, nogil=True)
def exhaustive(docs0, weights0, docs1, weights1, fields, starts, stops, scales, k, acc, seen, touched):
    """The k best docs by summed weight*scale, adding every posting into acc (any weights, even < 0).

    List i is docs/weights{fields[i]}[starts[i]:stops[i]] (two fields at most: separate arguments
    compile to plain loads, where a tuple of arrays would not). acc, seen and touched are
    scratch space sized to the index: zero / False on entry and on exit.
    """
    n = 0
    for i in range(len(starts)):
        docs, weights = (docs0, weights0) if fields[i] == 0 else (docs1, weights1)
        scale = scales[i]
        for p in range(starts[i], stops[i]):
            d = docs[p]
            if not seen[d]:
                seen[d] = True
                touched[n] = d
                n += 1
            acc[d] += weights[p] * scale
    heap_scores = np.empty(min(k, n), np.float64)
    heap_docs = np.empty(min(k, n), np.int64)
    size = 0
    for i in range(n):
        d = touched[i]
        size = offer(heap_scores, heap_docs, size, acc[d], d)
        acc[d] = 0.0
        seen[d] = False
    return best_first(heap_scores, heap_docs, size)


@njit(cache=True, nogil=True)
def first_at_least(docs, lo, hi, d):
    """First position in docs[lo:hi] (sorted) holding a doc >= d; galloping from lo."""
    step = 1
    while lo + step < hi and docs[lo + step] < d:
        lo += step
        step *= 2
    hi = min(hi, lo + step + 1)
    while lo < hi:
        mid = (lo + hi) >> 1
        if docs[mid] < d:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def seed_floor(docs0, weights0, docs1, weights1, fields, starts, stops, scales, k):
    """A score at least k passages reach: the k-th best full score of up to SEED docs of the
    highest-bound list holding k docs (it is usually the rarest word). -inf if there is none."""
    m = len(starts)
    seeds = -1
    for i in range(m - 1, -1, -1):
        if stops[i] - starts[i] >= k:
            seeds = i
            break
    if seeds < 0:
        return -np.inf
    count = min(stops[seeds] - starts[seeds], max(SEED, k))
    seed_docs = docs0 if fields[seeds] == 0 else docs1
    cur = starts.copy()
    totals = np.zeros(count)
    for s in range(count):
        d = seed_docs[starts[seeds] + s]
        for i in range(m):
            docs = docs0 if fields[i] == 0 else docs1
            cur[i] = first_at_least(docs, cur[i], stops[i], d)
            if cur[i] < stops[i] and docs[cur[i]] == d:
                totals[s] += (weights0 if fields[i] == 0 else weights1)[cur[i]] * scales[i]
    # Sums in another order may round differently: the floor is kept a little lower.
    return np.partition(totals, count - k)[count - k] * (1 - 1e-9)


@njit(cache=True, nogil=True)
def max_score(docs0, weights0, docs1, weights1, fields, starts, stops, scales, bounds, k):
    """The k best docs by summed weight*scale, document at a time with MaxScore pruning.

    Lists as in exhaustive(), sorted by bound (their largest weight*scale, all >= 0) ascending.
    A doc whose lists' bounds cannot reach theta is skipped; theta starts at seed_floor()
    (reached by k docs, so reaching it is enough) and becomes the k-th best score once k docs
    are kept (docs come in increasing order, so a later doc must beat it: ties go to the lower
    doc). Once the smallest bounds add up to less than that, their lists cannot bring a doc in
    alone: they are only probed for docs the other lists produce, while those could still make it.
    """
    m = len(starts)
    none = np.iinfo(np.int64).max
    cur = starts.copy()
    head = np.empty(m, np.int64)  # each list's current doc (none when exhausted)
    for i in range(m):
        head[i] = (docs0 if fields[i] == 0 else docs1)[cur[i]] if cur[i] < stops[i] else none
    reach = np.cumsum(bounds) * (1 + 1e-9)  # reach[i]: the most lists 0..i can add (rounded up)
    heap_scores = np.empty(k, np.float64)
    heap_docs = np.empty(k, np.int64)
    size = 0
    theta = seed_floor(docs0, weights0, docs1, weights1, fields, starts, stops, scales, k)
    strict = False  # False: a doc must reach theta; True: it must beat it
    essential = 0  # lists [essential:] produce candidates; [:essential] are only probed
    while essential < m and reach[essential] < theta:
        essential += 1
    while essential < m:
        d = none
        for i in range(essential, m):
            if head[i] < d:
                d = head[i]
        if d == none:
            break
        score = 0.0
        for i in range(essential, m):
            if head[i] == d:
                docs, weights = (docs0, weights0) if fields[i] == 0 else (docs1, weights1)
                score += weights[cur[i]] * scales[i]
                cur[i] += 1
                head[i] = docs[cur[i]] if cur[i] < stops[i] else none
        for i in range(essential - 1, -1, -1):
            if score + reach[i] < theta or (strict and score + reach[i] == theta):
                break
            if head[i] < d:
                docs = docs0 if fields[i] == 0 else docs1
                cur[i] = first_at_least(docs, cur[i], stops[i], d)
                head[i] = docs[cur[i]] if cur[i] < stops[i] else none
            if head[i] == d:
                score += (weights0 if fields[i] == 0 else weights1)[cur[i]] * scales[i]
        if score < theta or (strict and score == theta):
            continue
        size = offer(heap_scores, heap_docs, size, score, d)
        if size == k:
            theta, strict = heap_scores[0], True
            while essential < m and reach[essential] <= theta:
                essential += 1
    return best_first(heap_scores, heap_docs, size)


@njit(cache=True, nogil=True)
def merged(docs, weights, indptr, terms, scales):
    """The lists of terms in one field summed into one list: (sorted docs, their summed weight*scale)."""
    n = 0
    for j in range(len(terms)):
        if scales[j] != 0:
            n += indptr[terms[j] + 1] - indptr[terms[j]]
    all_docs = np.empty(n, docs.dtype)
    all_weights = np.empty(n, np.float64)
    n = 0
    for j in range(len(terms)):
        if scales[j] != 0:
            for p in range(indptr[terms[j]], indptr[terms[j] + 1]):
                all_docs[n] = docs[p]
                all_weights[n] = weights[p] * scales[j]
                n += 1
    order = np.argsort(all_docs, kind="mergesort")
    out_docs = np.empty(n, docs.dtype)
    out_weights = np.empty(n, np.float64)
    m = 0
    for i in order:
        if m > 0 and out_docs[m - 1] == all_docs[i]:
            out_weights[m - 1] += all_weights[i]
        else:
            out_docs[m] = all_docs[i]
            out_weights[m] = all_weights[i]
            m += 1
    return out_docs[:m], out_weights[:m]


@njit(cache=True, nogil=True)
def term_lists(indptr, terms, scales, field):
    """The non-empty postings lists of terms in one field, leaving out scale 0: (field, term, start, stop, scale) columns."""
    keep = np.zeros(len(terms), np.bool_)
    for j in range(len(terms)):
        keep[j] = scales[j] != 0 and indptr[terms[j] + 1] > indptr[terms[j]]
    kept = terms[keep]
    return np.full(len(kept), field, np.int64), kept, indptr[kept], indptr[kept + 1], scales[keep]


@njit(cache=True, nogil=True)
def top_k(indptr0, docs0, weights0, idf0, bound0, indptr1, docs1, weights1, idf1,
          terms, scales0, scales1, k, acc, seen, touched):
    """The k best passages for terms: field 0's lists plus field 1's (scale 0 leaves a list out).

    bound0[t] is the largest weight of term t in field 0. Field 1 (the FAQ question: short
    lists) is first summed into one list whose bound is exact. Then MaxScore, or, when a
    weight can be negative (BM25Okapi's idf floor below zero), every posting is added.
    """
    negative = False
    for j in range(len(terms)):
        t = terms[j]
        if (scales0[j] != 0 and (idf0[t] < 0 or scales0[j] < 0)) or (scales1[j] != 0 and (idf1[t] < 0 or scales1[j] < 0)):
            negative = True
    fields, list_terms, starts, stops, scales = term_lists(indptr0, terms, scales0, 0)
    if negative:
        fields1, _, starts1, stops1, list_scales1 = term_lists(indptr1, terms, scales1, 1)
        return exhaustive(docs0, weights0, docs1, weights1, np.concatenate((fields, fields1)),
                          np.concatenate((starts, starts1)), np.concatenate((stops, stops1)),
                          np.concatenate((scales, list_scales1)), k, acc, seen, touched)
    bounds = bound0[list_terms] * scales
    extra_docs, extra_weights = merged(docs1, weights1, indptr1, terms, scales1)
    if len(extra_docs):
        fields = np.concatenate((fields, np.ones(1, np.int64)))
        starts = np.concatenate((starts, np.zeros(1, np.int64)))
        stops = np.concatenate((stops, np.full(1, len(extra_docs), np.int64)))
        scales = np.concatenate((scales, np.ones(1)))
        bounds = np.concatenate((bounds, np.full(1, extra_weights.max())))
    order = np.argsort(bounds, kind="mergesort")
    return max_score(docs0, weights0, extra_docs, extra_weights, fields[order], starts[order], stops[order],
                     scales[order], bounds[order], k)


@njit(cache=True, nogil=True)
def term_bounds(indptr, weights):
    """The largest weight of each term's postings (0 for a term without any)."""
    out = np.zeros(len(indptr) - 1)
    for t in range(len(out)):
        if indptr[t + 1] > indptr[t]:
            out[t] = weights[indptr[t]:indptr[t + 1]].max()
    return out
