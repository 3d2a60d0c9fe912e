"""Spelling tolerance: a question term the index does not know is read as an indexed term one edit away.

Readers misspell ("symtoms", "distnacing", "incubaton"); an unknown term then matches nothing and
weighs against every passage's confidence. A term of MIN_LETTERS or more that no passage has is
replaced by the indexed term at edit distance 1 (a letter deleted, inserted, changed, or two
neighbours swapped) that the most passages have. Questions whose terms are all known are not
touched, so the lexical path costs nothing more for them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from ..index.store import MAX_TERM_BYTES, Index
from .lexical import Query

MIN_LETTERS = 5  # shorter terms have too many neighbours to guess from ("cat" -> "car", "cut", "at")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def neighbours(term: str) -> set[str]:
    """Every string at edit distance 1 from term (Damerau: swaps of neighbours count as one edit)."""
    splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    out |= {a + c + b for a, b in splits for c in _LETTERS}
    out.discard(term)
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


def correct(index: Index, query: Query) -> Query:
    """query with each unknown term of MIN_LETTERS+ letters replaced by its most common indexed
    neighbour (the query itself when nothing changes)."""
    unknown = [t for t, i in query.ids.items() if i is None and len(t) >= MIN_LETTERS and t.isalpha()]
    if not unknown:
        return query
    postings = index.fields["body"]
    fixed: dict[str, tuple[str, int]] = {}
    for term in unknown:
        found = _known_rows(index, sorted(neighbours(term)))
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
