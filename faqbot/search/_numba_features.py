"""numba kernel of the confidence features (faqbot.search.answer.coverage): which question terms
each ranked passage holds. Imported through faqbot.search._numba_kernels."""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def coverage(indptr, postings_docs, idf, term_ids, unknown_idf, docs):
    """answer.coverage's numpy loop in one call: (share of the terms' idf found in each of docs,
    count of the terms found), summed in the same order, so the values are the same bit for bit.

    term_ids: the query's terms in order, -1 for a term the index lacks (it weighs unknown_idf).
    """
    n = len(docs)
    found = np.zeros(n)
    matched = np.zeros(n)
    total = 0.0
    for term in term_ids:
        if term < 0:
            total += unknown_idf
            continue
        weight = np.float64(idf[term])
        if not weight > 0:
            weight = 0.01
        total += weight
        lo, hi = indptr[term], indptr[term + 1]
        for i in range(n):
            d = docs[i]
            a, b = lo, hi
            while a < b:  # first posting >= d
                mid = (a + b) >> 1
                if postings_docs[mid] < d:
                    a = mid + 1
                else:
                    b = mid
            if a < hi and postings_docs[a] == d:
                found[i] += weight
                matched[i] += 1.0
    if total:
        for i in range(n):
            found[i] = found[i] / total
    return found, matched
