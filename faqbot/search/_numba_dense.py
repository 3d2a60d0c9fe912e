"""numba kernels of the dense candidates (faqbot.search.dense): Hamming distances of sign codes and
float16 dot products. Imported through faqbot.search._numba_kernels."""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def pair_hamming(codes_a, codes_b, query):
    """Per row, the smaller Hamming distance of query (uint8 bits) to codes_a's and codes_b's row
    (dense.py: sign codes of a passage's two vectors). Rows are read 8 bytes at a time: their width
    must be a multiple of 8 and the arrays C-contiguous."""
    n, width = codes_a.shape
    words = width // 8
    a = codes_a.reshape(-1).view(np.uint64).reshape(n, words)
    b = codes_b.reshape(-1).view(np.uint64).reshape(n, words)
    q = query.view(np.uint64)
    out = np.empty(n, np.int32)
    m1, m2, m4, h01 = np.uint64(0x5555555555555555), np.uint64(0x3333333333333333), \
        np.uint64(0x0F0F0F0F0F0F0F0F), np.uint64(0x0101010101010101)
    for i in range(n):
        da = 0
        db = 0
        for j in range(a.shape[1]):
            x = a[i, j] ^ q[j]
            x = x - ((x >> np.uint64(1)) & m1)
            x = (x & m2) + ((x >> np.uint64(2)) & m2)
            da += ((x + (x >> np.uint64(4))) & m4) * h01 >> np.uint64(56)
            y = b[i, j] ^ q[j]
            y = y - ((y >> np.uint64(1)) & m1)
            y = (y & m2) + ((y >> np.uint64(2)) & m2)
            db += ((y + (y >> np.uint64(4))) & m4) * h01 >> np.uint64(56)
        out[i] = min(da, db)
    return out


@njit(cache=True, nogil=True, fastmath=True)
def half_dots(a_bits, b_bits, docs, query, lut, out_a, out_b):
    """Dot products of query (float32) with rows docs of two float16 matrices given as their uint16
    bits (dense.py), each half converted through lut (bits -> float32): numpy's float16 -> float32
    conversion cost 8 ms for 2 x 2,048 rows, this 0.6 ms."""
    for i in range(len(docs)):
        d = docs[i]
        sa = np.float32(0.0)
        sb = np.float32(0.0)
        for j in range(a_bits.shape[1]):
            sa += lut[a_bits[d, j]] * query[j]
            sb += lut[b_bits[d, j]] * query[j]
        out_a[i] = sa
        out_b[i] = sb
