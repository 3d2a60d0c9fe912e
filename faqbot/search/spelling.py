"""Spelling tolerance: a question term the index does not know is read as an indexed term one edit away.

Readers misspell ("symtoms", "distnacing", "incubaton"); an unknown term then matches nothing and
weighs against every passage's confidence. A term of MIN_LETTERS or more that no passage has is
replaced by the indexed term at edit distance 1 (a letter deleted, inserted, changed, or two
neighbours swapped) that the most passages have. Questions whose terms are all known are not
touched, so the lexical path costs nothing more for them.

The indexed neighbours are found in the deletion table the build writes (faqbot.index.spelling_table,
symmetric delete): the few indexed words sharing a key with the question term hold all its
neighbours; each is then checked exactly (is_neighbour). That is about 20 times cheaper than
looking every string one edit away up in the term table (about 450 strings for a 8-letter word),
which stays the way for an index built before the table and for terms too long for it; both give
the same corrections.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from ..index.spelling_table import MIN_LETTERS, deletion_keys
from ..index.store import MAX_TERM_BYTES, Index
from .lexical import Query

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Question terms up to this many UTF-8 bytes use the table: their neighbours (one byte more at
# most) are then shorter than MAX_TERM_BYTES, so never a term cut to fit the term table.
MAX_TABLE_BYTES = MAX_TERM_BYTES - 2


def neighbours(term: str) -> set[str]:
    """Every string at edit distance 1 from term (Damerau: swaps of neighbours count as one edit)."""
    splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    out |= {a + c + b for a, b in splits for c in _LETTERS}
    out.discard(term)
    return out


def is_neighbour(term: str, other: str) -> bool:
    """Whether other is in neighbours(term), without listing them."""
    if other == term:
        return False
    n, m = len(term), len(other)
    i = 0
    while i < min(n, m) and term[i] == other[i]:
        i += 1
    if m == n - 1:  # a letter deleted
        return term[i + 1:] == other[i:]
    if m == n + 1:  # a letter of a-z inserted
        return other[i] in _LETTERS and other[i + 1:] == term[i:]
    if m != n:
        return False
    if term[i + 1:] == other[i + 1:]:  # a letter changed to one of a-z
        return other[i] in _LETTERS
    # two neighbours swapped
    return i + 1 < n and term[i] == other[i + 1] and term[i + 1] == other[i] and term[i + 2:] == other[i + 2:]


def _table_rows(index: Index, term: str) -> list[tuple[str, int]] | None:
    """The indexed neighbours of term with their rows, from the deletion table; None without one."""
    keys, rows = index.arrays.get("spelling.keys"), index.arrays.get("spelling.rows")
    if keys is None or rows is None or len(term) < MIN_LETTERS or len(term.encode("utf-8")) > MAX_TABLE_BYTES:
        return None
    probe = np.array(deletion_keys(term), dtype=np.uint64)
    lo, hi = keys.searchsorted(probe, "left").tolist(), keys.searchsorted(probe, "right").tolist()
    found = set()
    for a, b in zip(lo, hi):
        if b > a:
            found.update(rows[a:b].tolist())
    out = []
    for row in sorted(found):
        word = index.terms[row].decode("utf-8")
        if is_neighbour(term, word):
            out.append((word, row))
    return out


def _known_rows(index: Index, candidates: list[str]) -> list[tuple[str, int]]:
    """The candidates the term table holds, with their rows (one vectorised binary search, no cache
    entries: most candidates are nonsense)."""
    if not candidates or not len(index.terms):
        return []
    keys = np.array([c.encode("utf-8")[:MAX_TERM_BYTES] for c in candidates], dtype=f"S{MAX_TERM_BYTES}")
    rows = np.minimum(np.searchsorted(index.terms, keys), len(index.terms) - 1)
    hits = index.terms[rows] == keys
    return [(c, int(r)) for c, r, h in zip(candidates, rows.tolist(), hits.tolist()) if h]


def indexed_neighbours(index: Index, term: str) -> list[tuple[str, int]]:
    """The neighbours of term the index holds, with their term rows (the deletion table when the index has one)."""
    found = _table_rows(index, term)
    return found if found is not None else _known_rows(index, sorted(neighbours(term)))


def correct(index: Index, query: Query) -> Query:
    """query with each unknown term of MIN_LETTERS+ letters replaced by its most common indexed
    neighbour (the query itself when nothing changes)."""
    unknown = [t for t, i in query.ids.items() if i is None and len(t) >= MIN_LETTERS and t.isalpha()]
    if not unknown:
        return query
    postings = index.fields["body"]
    fixed: dict[str, tuple[str, int]] = {}
    for term in unknown:
        found = indexed_neighbours(index, term)
        if found:
            # The neighbour in the most passages (then the first in order): the likeliest intended word.
            fixed[term] = max(found, key=lambda f: (int(postings.indptr[f[1] + 1] - postings.indptr[f[1]]), -f[1]))
    if not fixed:
        return query
    terms: Counter = Counter()
    ids: dict[str, int | None] = {}
    for term, count in query.terms.items():
        new, row = fixed.get(term, (term, query.ids[term]))
        terms[new] += count
        ids[new] = row
    return replace(query, terms=terms, ids=ids, known={i: terms[t] for t, i in ids.items() if i is not None})
