"""The spelling deletion table an index build writes (faqbot.search.spelling reads it at query time).

Every indexed word of MIN_LETTERS - 1 letters or more gets a key (a 64-bit polynomial hash of its
code points) and one key per one-letter deletion of it. Two words one edit apart share a key: a
deletion of one equals the other, or a deletion of each does (symmetric delete). Stored as two
arrays beside the term table, memory-mapped like the rest: spelling.keys (sorted) and
spelling.rows (each key's term row).
"""

from __future__ import annotations

import numpy as np

MIN_LETTERS = 5  # shorter terms have too many neighbours to guess from ("cat" -> "car", "cut", "at")
DELETION_ARRAYS = ("spelling.keys", "spelling.rows")
_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1


def deletion_keys(word: str) -> list[int]:
    """The table keys of a word: its hash and the hash of each one-letter deletion (deletion_arrays's)."""
    codes = [ord(c) for c in word]
    n = len(codes)
    prefix = [0] * (n + 1)
    for i, c in enumerate(codes):
        prefix[i + 1] = (prefix[i] * _PRIME + c) & _MASK
    suffix, power = [0] * (n + 1), 1  # suffix[i]: hash of codes[i:]
    for i in range(n - 1, -1, -1):
        suffix[i] = (codes[i] * power + suffix[i + 1]) & _MASK
        power = (power * _PRIME) & _MASK
    powers = [1] * (n + 1)
    for k in range(1, n + 1):
        powers[k] = (powers[k - 1] * _PRIME) & _MASK
    # Deleting letter i: the prefix moves up by the n - 1 - i letters after it.
    return [prefix[n]] + [(prefix[i] * powers[n - 1 - i] + suffix[i + 1]) & _MASK for i in range(n)]


def table_words(terms, max_bytes: int) -> tuple[list[int], list[str]]:
    """The rows and text of the terms a deletion table holds: alphabetic, MIN_LETTERS - 1 letters or
    more, shorter than max_bytes bytes (the term table's width: longer terms may have been cut)."""
    rows, found = [], []
    for row, key in enumerate(terms):
        if len(key) >= max_bytes:
            continue
        word = key.decode("utf-8", "replace")
        if len(word) >= MIN_LETTERS - 1 and word.isalpha():
            rows.append(row)
            found.append(word)
    return rows, found


def deletion_arrays(terms, max_bytes: int) -> dict[str, np.ndarray]:
    """The deletion table of a sorted term table (bytes): every key of deletion_keys() of each table
    word, sorted, with the word's term row beside it. Computed column by column in numpy."""
    rows, found = table_words(terms, max_bytes)
    if not found:
        return {"spelling.keys": np.zeros(0, np.uint64), "spelling.rows": np.zeros(0, np.int32)}
    width, n = max(map(len, found)), len(found)
    # One row per letter position, one column per word: each step below reads contiguous memory.
    codes = np.array(found, dtype=f"U{width}").view(np.uint32).reshape(n, width).T.astype(np.uint64)
    lengths = np.array([len(w) for w in found], dtype=np.int64)
    powers = np.array([pow(_PRIME, k, 1 << 64) for k in range(width + 1)], dtype=np.uint64)
    prime = np.uint64(_PRIME)
    prefix = np.zeros((width + 1, n), dtype=np.uint64)  # prefix[i]: hash of each word's first i letters
    for i in range(width):
        np.add(prefix[i] * prime, codes[i], out=prefix[i + 1])
    suffix = np.zeros((width + 1, n), dtype=np.uint64)  # suffix[i]: hash of each word from letter i on
    for i in range(width - 1, -1, -1):  # padding code points are 0: they add nothing
        np.add(suffix[i + 1], codes[i] * powers[np.maximum(lengths - 1 - i, 0)], out=suffix[i])
    keys = [prefix[lengths, np.arange(n)]]
    owners = [np.arange(n)]
    for i in range(width):
        # Deleting letter i: the prefix moves up by the letters after it. In a run of one letter
        # ("ll") each deletion gives the same word: only the run's last is kept.
        has = np.flatnonzero((lengths > i) & (codes[i] != codes[i + 1] if i + 1 < width else True))
        keys.append(prefix[i][has] * powers[lengths[has] - 1 - i] + suffix[i + 1][has])
        owners.append(has)
    keys, owners = np.concatenate(keys), np.concatenate(owners)
    order = np.argsort(keys, kind="stable")
    return {"spelling.keys": keys[order], "spelling.rows": np.array(rows, dtype=np.int32)[owners[order]]}
