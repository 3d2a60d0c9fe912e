"""Dense candidates: the passages whose stored vectors are nearest a question's vector.

BM25 only proposes passages that share a word with the question; readers often share none
("covid dog" for "Can I travel to the United States with dogs ..."). So candidates also come
from the passage embeddings the index stores (float16, memory-mapped): each passage's nearness
is the better cosine of its two vectors (an FAQ pair's question, and its question with the answer).

Small indexes are searched exactly. Larger ones first compare 384-bit sign codes of the vectors
(Hamming distance, 96 bytes a passage, built with the index), then rescore the best
RESCORE passages exactly from the float16 rows: a full float scan of 100k passages reads 154 MB
per question, too slow for a 15 ms answer (see docs/semantic.md, and benchmarks/semantic_cost.py).
"""

from __future__ import annotations

import weakref

import numpy as np

from . import kernel
from ..index.store import Index
from ..index.vectors import CODE_ARRAYS, E5_SPACE, code_arrays

RESCORE = 2048  # passages rescored exactly after the code scan; every passage below this count
_made: "weakref.WeakKeyDictionary[Index, dict]" = weakref.WeakKeyDictionary()


def _codes(index: Index, space: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The index's codes of one vector space, made once per loaded index if it was built before
    codes were stored."""
    names = [space + name for name in CODE_ARRAYS]
    if all(name in index.arrays for name in names):
        return index.arrays[names[0]], index.arrays[names[1]]
    made = _made.setdefault(index, {})
    if space not in made:
        arrays = code_arrays(index.arrays[space + "question_vectors"], index.arrays[space + "vectors"])
        made[space] = arrays[CODE_ARRAYS[0]], arrays[CODE_ARRAYS[1]]
    return made[space]


def cosines(index: Index, query_vector: np.ndarray, docs: np.ndarray, space: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Cosine of the question to docs' question vectors and to their question-with-answer vectors.

    space: the prefix of the vector arrays ("" for the English model's, index.vectors.E5_SPACE).
    """
    q = np.asarray(query_vector, np.float32)
    questions, pairs = index.arrays[space + "question_vectors"], index.arrays[space + "vectors"]
    kernels = kernel.loaded()
    if kernels is not None and len(docs) > 64 and questions.dtype == pairs.dtype == np.float16:
        out_a, out_b = np.empty(len(docs), np.float32), np.empty(len(docs), np.float32)
        kernels.half_dots(questions.view(np.uint16), pairs.view(np.uint16), np.asarray(docs, np.int64), q,
                          _half_table(), out_a, out_b)
        return out_a, out_b
    return np.asarray(questions[docs], np.float32) @ q, np.asarray(pairs[docs], np.float32) @ q


_HALF_TABLE: list[np.ndarray] = []


def _half_table() -> np.ndarray:
    """float32 value of every float16 bit pattern (256 KB, stays in the core's cache)."""
    if not _HALF_TABLE:
        _HALF_TABLE.append(np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32))
    return _HALF_TABLE[0]


def _shortlist(index: Index, query_vector: np.ndarray, count: int, space: str = "") -> np.ndarray:
    """About count passages whose codes are nearest the question's (the better of their two codes)."""
    question_codes, vector_codes = _codes(index, space)
    q = np.packbits(np.asarray(query_vector) > 0)
    kernels = kernel.loaded()
    if kernels is not None and q.size % 8 == 0:
        distance = kernels.pair_hamming(question_codes, vector_codes, q)
    else:
        distance = np.minimum(np.bitwise_count(question_codes ^ q).sum(1, dtype=np.int32),
                              np.bitwise_count(vector_codes ^ q).sum(1, dtype=np.int32))
    return np.sort(np.argpartition(distance, count)[:count])


def nearest(index: Index, query_vector: np.ndarray, k: int, space: str = "") -> list[tuple[int, float]]:
    """The k passages nearest the question, (doc, cosine) best first (ties by passage order)."""
    n = index.n_passages
    if k <= 0 or n == 0:
        return []
    docs = np.arange(n) if n <= RESCORE else _shortlist(index, query_vector, RESCORE, space)
    cq, ca = cosines(index, query_vector, docs, space)
    best = np.maximum(cq, ca)
    k = min(k, len(docs))
    top = np.argpartition(-best, k - 1)[:k] if k < len(docs) else np.arange(len(docs))
    top = top[np.lexsort((docs[top], -best[top]))]
    return list(zip(docs[top].tolist(), best[top].tolist()))


def warm_up(index: Index) -> None:
    """Ready the vector search of a newly loaded index: its codes (made if the index has none) and
    the compiled scan (from numba's disk cache), so that no reader waits for them."""
    for space in ("", E5_SPACE):
        if space + "vectors" in index.arrays and index.n_passages > RESCORE:
            nearest(index, np.ones(index.arrays[space + "vectors"].shape[1], np.float32), 1, space)
