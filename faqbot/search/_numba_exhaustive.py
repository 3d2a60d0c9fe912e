"""numba kernels of the query path, part one: the top-k heap and scoring every posting (exhaustive).

Imported through faqbot.search._numba_kernels (see there); module-level functions, so numba's on-disk
cache (cache=True) finds them again in the next process.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def worse(s1, d1, s2, d2):
    """(s1, d1) ranks below (s2, d2): lower score, or the same score and a later doc."""
    return s1 < s2 or (s1 == s2 and d1 > d2)


@njit(cache=True, nogil=True, inline="always")
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
def add_list(docs, weights, start, stop, scale, acc, seen, touched, n):
    """Add docs/weights[start:stop] * scale into acc, listing first-seen docs in touched[n:]; the new n."""
    for p in range(start, stop):
        d = docs[p]
        if not seen[d]:
            seen[d] = True
            touched[n] = d
            n += 1
        acc[d] += weights[p] * scale
    return n


@njit(cache=True, nogil=True)
def add_positive(docs, weights, start, stop, scale, acc, touched, n):
    """add_list for weights * scale > 0: a doc is new while its acc is 0, so no seen flags are
    needed, and it is listed without a branch (touched needs one entry of room past the docs)."""
    for p in range(start, stop):
        d = docs[p]
        a = acc[d]
        touched[n] = d
        n += a == 0.0
        acc[d] = a + weights[p] * scale
    return n


@njit(cache=True, nogil=True)
def take_best(acc, touched, n, k):
    """The k best of docs touched[:n] by acc, best first; acc is zeroed at them."""
    heap_scores = np.empty(min(k, n), np.float64)
    heap_docs = np.empty(min(k, n), np.int64)
    size = 0
    for i in range(n):
        d = touched[i]
        v = acc[d]
        if size < len(heap_scores) or worse(heap_scores[0], heap_docs[0], v, d):
            size = offer(heap_scores, heap_docs, size, v, d)
        acc[d] = 0.0
    return best_first(heap_scores, heap_docs, size)


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
        n = add_list(docs, weights, starts[i], stops[i], scales[i], acc, seen, touched, n)
    for i in range(n):
        seen[touched[i]] = False
    return take_best(acc, touched, n, k)


@njit(cache=True, nogil=True, inline="always")
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
def term_bounds(indptr, weights):
    """The largest weight of each term's postings (0 for a term without any)."""
    out = np.zeros(len(indptr) - 1)
    for t in range(len(out)):
        if indptr[t + 1] > indptr[t]:
            out[t] = weights[indptr[t]:indptr[t + 1]].max()
    return out


@njit(cache=True, nogil=True)
def exhaustive_positive(docs0, weights0, docs1, weights1, fields, starts, stops, scales, k, acc, touched):
    """exhaustive() for weights * scale > 0, without seen flags (add_positive): about a fifth faster."""
    n = 0
    for i in range(len(starts)):
        docs, weights = (docs0, weights0) if fields[i] == 0 else (docs1, weights1)
        n = add_positive(docs, weights, starts[i], stops[i], scales[i], acc, touched, n)
    return take_best(acc, touched, n, k)


@njit(cache=True, nogil=True)
def exhaustive_scan(docs0, weights0, docs1, weights1, fields, starts, stops, scales, k, acc):
    """exhaustive_positive() without listing the docs: every posting is added into acc, then all
    of acc is scanned, and zeroed, for the k best. Faster when the lists are long for the size of
    acc: no per-posting bookkeeping, and the scan reads acc in order."""
    for i in range(len(starts)):
        docs, weights = (docs0, weights0) if fields[i] == 0 else (docs1, weights1)
        scale = scales[i]
        for p in range(starts[i], stops[i]):
            d = docs[p]
            acc[d] = acc[d] + weights[p] * scale  # summed as add_positive() does
    heap_scores = np.empty(k, np.float64)
    heap_docs = np.empty(k, np.int64)
    size = 0
    theta = 0.0  # a touched doc's score is > 0 (every weight * scale is)
    for d in range(len(acc)):
        v = acc[d]
        if v > theta:  # docs come in order: a later one tying the k-th best ranks below it
            size = offer(heap_scores, heap_docs, size, v, d)
            if size == k:
                theta = heap_scores[0]
        acc[d] = 0.0
    return best_first(heap_scores, heap_docs, size)
