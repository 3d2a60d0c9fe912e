"""Plain text scraped from a web page -> Article.

The shape we expect (see corpus/ and the seed article): the first non-empty line is the title;
a short line without closing punctuation that leads a paragraph is a section heading;
"- Label: text" lines are list items. Page furniture is dropped: lines that lead nothing
("Comments", lone category labels such as "Technology") and a "Related Articles" block with
everything after it.
"""

from __future__ import annotations

import re

from ..errors import SkipFile
from .extract import is_question
from ..model import Article, Block

_ITEM = re.compile(r"^\s*(?:[-*•·–]|\d{1,3}[.)])\s+(.*\S)\s*$")
_CLOSING = tuple(".!?:;,…\"”’)")
_TRAILER = re.compile(
    r"^(related (articles|posts|stories|reading)|read (more|next)|more (stories|from)|"
    r"you (may|might) also like|recommended( for you)?|trending( now)?)\s*:?$",
    re.IGNORECASE,
)
HEADING_MAX_WORDS = 14
PARAGRAPH_MIN_WORDS = 8  # a short line without punctuation is a heading or furniture


def _kind_of(line: str) -> str:
    """Classify one line: 'item', 'paragraph' or 'short' (a heading if it leads text, else furniture)."""
    if _ITEM.match(line):
        return "item"
    if is_question(line) and len(line.split()) <= HEADING_MAX_WORDS * 2:
        return "question"
    if line.endswith(_CLOSING) or len(line.split()) > HEADING_MAX_WORDS:
        return "paragraph"
    return "short"


def read_text(text: str, source: str = "") -> Article:
    """Parse scraped article text into a title and blocks."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise SkipFile("empty file")
    title, body = lines[0], lines[1:]
    for i, line in enumerate(body):
        if _TRAILER.match(line):
            body = body[:i]
            break
    kinds = [_kind_of(line) for line in body]
    blocks: list[Block] = []
    for i, (line, kind) in enumerate(zip(body, kinds)):
        following = kinds[i + 1] if i + 1 < len(kinds) else None
        if kind == "item":
            blocks.append(Block("item", _ITEM.match(line).group(1)))
        elif kind == "paragraph":
            blocks.append(Block("paragraph", line))
        elif kind == "question":
            # A question line is a paragraph the extractor pairs with its answer in an FAQ section.
            blocks.append(Block("paragraph", line))
        elif following in ("paragraph", "item", "question"):
            blocks.append(Block("heading", line, level=2))
        # else: a short line that leads nothing is page furniture.
    if not any(b.kind != "heading" for b in blocks):
        raise SkipFile("no extractable text")
    return Article(title=title, blocks=tuple(blocks), source=source)
