"""Markdown -> Article: front matter, `#` title, `##`/`###` headings, paragraphs and lists."""

from __future__ import annotations

import re

from .errors import SkipFile
from .model import Article, Block

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_ANCHOR = re.compile(r"\s*\{#([\w.:-]+)[^}]*\}\s*$")
_SETEXT = re.compile(r"^(=+|-+)[ \t]*$")
_ITEM = re.compile(r"^[ \t]{0,3}(?:[-*+]|\d{1,3}[.)])[ \t]+(.*)$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_SOURCE = re.compile(r"^(?:source|url|canonical)\s*:\s*<?(https?://\S+?)>?\s*$", re.IGNORECASE)
_RULE = re.compile(r"^[ \t]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1")
_CODE = re.compile(r"`+([^`]*)`+")


def inline_text(text: str) -> str:
    """Strip inline Markdown (links, emphasis, code, tags) down to the words a reader sees."""
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _TAG.sub("", text)
    for _ in range(2):  # nested emphasis such as ***bold italic***
        text = _EMPHASIS.sub(r"\2", text)
    text = text.replace("\\", "")
    return " ".join(text.split())


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


def _heading(level: int, raw: str) -> Block:
    anchor = None
    match = _ANCHOR.search(raw)
    if match:
        anchor, raw = match.group(1), raw[: match.start()]
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
            blocks.append(Block("paragraph", inline_text(" ".join(paragraph))))
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
            blocks.append(_heading(len(atx.group(1)), atx.group(2)))
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
    url = meta.get("url") or meta.get("canonical") or source_url
    if not any(b.kind != "heading" for b in blocks):
        raise SkipFile("no extractable text")
    return Article(
        title=title,
        blocks=tuple(blocks),
        source=source,
        url=url,
        lang=meta.get("lang") or meta.get("language") or None,
    )
