"""Compound words (German, Dutch, Swedish, Danish, Norwegian): a question's terms widened with the index's.

These languages write compounds as one word ("Infektionsrisiko", "Coronavirus"), so a question
and the passage that answers it often share a part of a word but no whole word. No word list is
needed: the index's own term table says which parts are words. A question term is

- split into two (or three) parts that are terms of the index, a linking "s", "es", "n", "en" or "e"
  allowed after the first ("infektionsrisiko" -> "infektion" + "risiko"), and
- widened with the index terms it begins or ends ("corona" -> "coronavirus", "coronakrank").

Those terms are searched beside the question's own at a lower weight (PART_WEIGHT, shared among
the terms one question term yields), so a passage with the whole word still leads.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..text.languages import analysis

COMPOUNDING = frozenset({"german", "dutch", "swedish", "danish", "norwegian"})
MIN_PART = 4  # characters of a part: shorter ones ("ab", "ein") match too much
LINKS = ("", "s", "es", "n", "en", "e")  # linking elements after a compound's first part
PART_WEIGHT = 1.0  # of the question term's weight, shared by the terms it is widened with
MAX_WIDER = 16  # index terms one question term may be widened with (the rarest kept)


class _Terms:
    """An index's term table as text, forwards and reversed, for prefix and suffix lookups."""

    def __init__(self, terms: np.ndarray):
        self.forward = terms  # sorted bytes (the index's own table)
        decoded = [t.decode("utf-8", "surrogatepass") for t in terms.tolist()]
        self.text = decoded
        backward = sorted((t[::-1].encode("utf-8", "surrogatepass"), i) for i, t in enumerate(decoded))
        self.backward = np.array([b for b, _ in backward], dtype=terms.dtype)
        self.backward_rows = np.array([i for _, i in backward], dtype=np.int64)

    def starting(self, prefix: str) -> range:
        key = prefix.encode("utf-8", "surrogatepass")
        lo = int(np.searchsorted(self.forward, key))
        hi = int(np.searchsorted(self.forward, key + b"\xff"))
        return range(lo, hi)

    def ending(self, suffix: str) -> np.ndarray:
        key = suffix[::-1].encode("utf-8", "surrogatepass")
        lo = int(np.searchsorted(self.backward, key))
        hi = int(np.searchsorted(self.backward, key + b"\xff"))
        return self.backward_rows[lo:hi]


_tables: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _table(index) -> _Terms:
    table = _tables.get(index)
    if table is None:
        table = _tables[index] = _Terms(index.terms)
    return table


def _split(index, term: str, stem, depth: int = 2) -> list[str]:
    """Parts of term that are index terms (first part possibly followed by a linking element).

    The first part is a whole word inside the compound: its stem is tried too ("ansteckungs"
    -> "ansteckung" -> "ansteck"); the last is already stemmed with the compound.
    """
    for i in range(len(term) - MIN_PART, MIN_PART - 1, -1):  # the longest first part first
        head, tail = term[:i], term[i:]
        rest = [tail] if index.term_id(tail) is not None else (_split(index, tail, stem, depth - 1) if depth > 1 else [])
        if not rest:
            continue
        for link in LINKS:
            if link and not head.endswith(link):
                continue
            first = head[: len(head) - len(link)]
            if len(first) < MIN_PART:
                continue
            for candidate in dict.fromkeys((first, stem(first) if stem is not None else first)):
                if index.term_id(candidate) is not None:
                    return [candidate, *rest]
    return []


def widen(index, terms: dict[str, int], language: str) -> dict[int, float]:
    """Extra term ids with their weights for a question's terms (term -> count) in a compounding language."""
    table = _table(index)
    stem = analysis(language).stem
    idf = index.fields["body"].idf
    out: dict[int, float] = {}
    own = set(index.term_ids(list(terms)))
    for term, count in terms.items():
        if len(term) < MIN_PART or not term.isalpha():
            continue
        rows = [index.term_id(p) for p in _split(index, term, stem)]
        wider = {int(r) for r in table.starting(term)} | set(table.ending(term).tolist())
        wider = [r for r in wider if len(table.text[r]) >= len(term) + MIN_PART]
        if len(wider) > MAX_WIDER:
            wider = sorted(wider, key=lambda r: -float(idf[r]))[:MAX_WIDER]
        found = [r for r in [*rows, *wider] if r is not None and r not in own]
        for row in found:
            out[row] = out.get(row, 0.0) + count * PART_WEIGHT / len(found)
    return out
