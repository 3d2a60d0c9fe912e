"""Markdown -> Article: front matter, `#` title, `##`/`###` headings, paragraphs and lists."""

from __future__ import annotations

import re

from ..errors import SkipFile
from .markdown_inline import inline_text
from ..model import Article, Block
from .urls import checked_url, refused_note

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_SETEXT = re.compile(r"^(=+|-+)[ \t]*$")
_ITEM = re.compile(r"^[ \t]{0,3}(?:[-*+]|\d{1,3}[.)])[ \t]+(.*)$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_SOURCE = re.compile(r"^(?:source|url|canonical)\s*:\s*<?(https?://\S+?)>?\s*$", re.IGNORECASE)
_RULE = re.compile(r"^[ \t]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
# A paragraph that is all bold and asks a question opens an FAQ pair (faq_rules: bold-question).
_BOLD_QUESTION = re.compile(r"^(\*\*|__)(?!.*\1.+\1)(.+[?？؟])\1$")

_ATX = re.compile(r"^(#{1,6})[ \t]+(.*)$")  # trailing ' #' are stripped with rstrip, not a lazy group
_ANCHOR_ID = re.compile(r"\{#([\w.:-]+)")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t", "-")):
            fields[key.strip().lower()] = value.strip().strip("'\"")
    return fields, text[match.end():]


def _split_anchor(raw: str) -> tuple[str | None, str]:
    """(id, heading text) of a heading ending in `{#id ...}`; (None, raw) otherwise."""
    stripped = raw.rstrip()
    if not stripped.endswith("}"):
        return None, raw
    close = len(stripped) - 1
    match = _ANCHOR_ID.search(stripped, stripped.rfind("}", 0, close) + 1, close)
    if not match:
        return None, raw
    return match.group(1), raw[: match.start()].rstrip()


def _heading(level: int, raw: str) -> Block:
    anchor, raw = _split_anchor(raw)
    return Block("heading", inline_text(raw), level=level, anchor=anchor)


def read_markdown(text: str, source: str = "") -> Article:
    """Parse a Markdown article; front matter `title`, `url` and `lang` override what the body says."""
    meta, body = _front_matter(text.replace("\r\n", "\n").replace("\r", "\n"))
    blocks: list[Block] = []
    paragraph: list[str] = []
    item: list[str] | None = None
    in_fence = False
    source_url = None

    def flush():
        nonlocal paragraph, item
        if item is not None and inline_text(" ".join(item)):
            blocks.append(Block("item", inline_text(" ".join(item))))
        elif paragraph and inline_text(" ".join(paragraph)):
            raw = " ".join(paragraph).strip()
            rule = "bold-question" if _BOLD_QUESTION.match(raw) else None
            blocks.append(Block("paragraph", inline_text(raw), rule=rule))
        paragraph, item = [], None

    for line in body.split("\n"):
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        stripped = line.strip()
        if stripped.startswith(">"):
            stripped = stripped.lstrip("> ").strip()
            line = stripped
        if not stripped:
            flush()
            continue
        source_line = _SOURCE.match(stripped)
        if source_line and not paragraph and all(b.level == 1 for b in blocks):
            flush()
            source_url = source_url or source_line.group(1)
            continue
        atx = _ATX.match(stripped)
        if atx:
            flush()
            blocks.append(_heading(len(atx.group(1)), atx.group(2).rstrip(" \t#")))
            continue
        if paragraph and item is None and _SETEXT.match(stripped):
            level = 1 if stripped.startswith("=") else 2
            raw, paragraph = " ".join(paragraph), []
            blocks.append(_heading(level, raw))
            continue
        if _RULE.match(stripped) or _TABLE_SEP.match(stripped):
            flush()
            continue
        bullet = _ITEM.match(line)
        if bullet:
            flush()
            item = [bullet.group(1)]
            continue
        if stripped.startswith("|") and stripped.endswith("|"):
            flush()
            cells = [inline_text(c) for c in stripped.strip("|").split("|")]
            row = " | ".join(c for c in cells if c)
            if row:
                blocks.append(Block("paragraph", row))
            continue
        if item is not None and (line.startswith((" ", "\t")) or not paragraph):
            item.append(stripped)
            continue
        paragraph.append(stripped)
    flush()

    title = meta.get("title") or ""
    if blocks and blocks[0].kind == "heading" and blocks[0].level == 1:
        title = title or blocks[0].text
        blocks = blocks[1:]
    url, notes = None, []
    for field, given in (("front matter url", meta.get("url")), ("front matter canonical", meta.get("canonical")),
                         ("Source line", source_url)):
        if given and url is None:
            url = checked_url(given)
            if url is None:
                notes.append(refused_note(field, given))
    if not any(b.kind != "heading" for b in blocks):
        raise SkipFile("no extractable text")
    return Article(
        title=title,
        blocks=tuple(blocks),
        source=source,
        url=url,
        lang=meta.get("lang") or meta.get("language") or None,
        notes=tuple(notes),
    )
