"""Never less main text than trafilatura alone: judge the own block selection against trafilatura's
extraction of the whole page, and merge in what trafilatura kept where the own rules kept much less."""

from __future__ import annotations

import copy
import re

import trafilatura
from lxml import etree

from ..model import Block

# Below this share of trafilatura's word trigrams the own selection has lost part of the article
# (furniture rules that hit the article's own container, or a detector run that picked another part).
MERGE_BELOW = 0.8
MERGE_MISSING = 40  # trigrams, about two sentences: a caption or a credit line is not a lost article
_WORD = re.compile(r"\w+")


_CODE = ("script", "style", "noscript", "template", "svg")


def reference_text(root: etree._Element) -> str:
    """trafilatura.extract alone on the untouched page (it edits the tree, hence the copy).

    Scripts, styles and inline SVG are left out of the copy first: trafilatura drops them too,
    and on pages that inline their code they are most of the tree it would clean."""
    page = copy.deepcopy(root)
    for el in list(page.iter(*_CODE)):
        if el.getparent() is not None:
            el.drop_tree()
    return trafilatura.extract(page, include_comments=False, include_tables=True) or ""


def _trigrams(text: str) -> set[tuple[str, str, str]]:
    words = _WORD.findall(text.lower())
    return set(zip(words, words[1:], words[2:]))


def coverage(reference: str, blocks: list[Block]) -> tuple[float, int]:
    """Share of the reference's word trigrams that the blocks' text holds (1.0 for an empty reference),
    and how many of them it lacks."""
    wanted = _trigrams(reference)
    if not wanted:
        return 1.0, 0
    have = _trigrams(" ".join(f"{b.question or ''} {b.text}" for b in blocks))
    found = len(wanted & have)
    return found / len(wanted), len(wanted) - found


def lacks_much(reference: str, blocks: list[Block]) -> bool:
    """True when the blocks hold much less than the reference: a share and some sentences' worth missing."""
    share, missing = coverage(reference, blocks)
    return share < MERGE_BELOW and missing >= MERGE_MISSING


def merge(own: list[Block], candidates: list[Block], extra: list[bool], everywhere: bool) -> list[Block]:
    """The own blocks plus the candidates marked extra that the own text lacks, in reading order.

    candidates are the blocks of the whole page (before furniture removal) in reading order; an own
    block is placed where the same text stands among them, an extra one where it stands itself.
    Unless everywhere, an extra block is only taken between two own blocks: inside the article.
    """
    have = " ".join(_key(f"{b.question or ''} {b.text}") for b in own)
    positions: dict[str, list[int]] = {}
    for n, block in enumerate(own):
        positions.setdefault(block.text, []).append(n)
    out: list[Block] = []
    pending: list[Block] = []
    next_own = 0
    for block, add in zip(candidates, extra):
        at = next((n for n in positions.get(block.text, ()) if n >= next_own), None)
        if at is not None:
            if next_own or everywhere:
                out.extend(pending)
            pending = []
            out.extend(own[next_own:at + 1])
            next_own = at + 1
        elif add and _key(block.text) not in have:
            pending.append(block)
    return out + own[next_own:] + (pending if everywhere else [])


def _key(text: str) -> str:
    return " ".join(text.lower().split())
