"""Inline Markdown -> plain words: links, images, autolinks, code, tags and emphasis unwrapped.

Each step is one left-to-right pass in linear time and gives exactly what the regular expression
it replaces gave (kept in tests/test_read.py, which checks the two agree on random text); those
expressions took quadratic time on inputs such as 8,000 `*a ` (2-4 s).
"""

from __future__ import annotations

import re
from bisect import bisect_left

_AUTOLINK_END = re.compile(r"[>\s]")
_EMPHASIS_MARKS = ("**", "__", "*", "_", "~~")  # tried in this order at each position
_CODE = re.compile(r"`+([^`]*)`+")  # linear: every run of backticks ends the scan of the one before
_TAG = re.compile(r"</?[A-Za-z][^>]*>")  # linear once cut at the last '>' (see _strip_tags)


def _unwrap_links(text: str, opener: str, reference_form: bool) -> str:
    """`<opener>words](url)` (and `[words][ref]` when reference_form) -> words."""
    out, pos, i = [], 0, 0
    while (i := text.find(opener, i)) != -1:
        inner = i + len(opener)
        close = text.find("]", inner)
        if close == -1:
            break
        after, end = text[close + 1: close + 2], -1
        if after == "(":
            end = text.find(")", close + 2)
        elif after == "[" and reference_form:
            end = text.find("]", close + 2)
        if end == -1:
            i = close  # every opener before `close` shares it, and fails the same way
            continue
        out += (text[pos:i], text[inner:close])
        pos = i = end + 1
    out.append(text[pos:])
    return "".join(out)


def _unwrap_autolinks(text: str) -> str:
    """`<https://...>` -> the URL."""
    out, pos, i = [], 0, 0
    while (i := text.find("<", i)) != -1:
        scheme = "https://" if text.startswith("https://", i + 1) else "http://"
        if not text.startswith(scheme, i + 1):
            i += 1
            continue
        start = i + 1 + len(scheme)
        end = _AUTOLINK_END.search(text, start)
        if end is None:
            break
        if end.group() == ">" and end.start() > start:
            out += (text[pos:i], text[i + 1: end.start()])
            pos = i = end.start() + 1
        else:
            i = end.start()  # a '<' before this space starts a URL that ends at it too
    out.append(text[pos:])
    return "".join(out)


def _strip_tags(text: str) -> str:
    """Drop HTML tags; no tag can end after the last '>', so the pattern never scans past it."""
    last = text.rfind(">")
    return _TAG.sub("", text[: last + 1]) + text[last + 1:] if last != -1 else text


def _strip_emphasis(text: str) -> str:
    """`**bold**`, `_italic_`, `~~struck~~` -> the words inside (one level per call)."""
    closers: dict[str, list[int]] = {mark: [] for mark in _EMPHASIS_MARKS}  # where each mark may close
    for found in re.finditer(r"[*_~]", text):
        at = found.start()
        if at and not text[at - 1].isspace():
            for mark in _EMPHASIS_MARKS:
                if text.startswith(mark, at):
                    closers[mark].append(at)
    live = {mark[0] for mark, ends in closers.items() if ends}  # only marks that can close somewhere can open
    if not live:
        return text
    openers = re.compile("[" + re.escape("".join(sorted(live))) + "]")
    last = max(ends[-1] for ends in closers.values() if ends)  # no match can open at or after it
    newlines = [m.start() for m in re.finditer("\n", text)]
    out, pos, i = [], 0, 0
    while (found := openers.search(text, i, last)) is not None:
        i = found.start()
        for mark in _EMPHASIS_MARKS:
            if not text.startswith(mark, i):
                continue
            start = i + len(mark)
            if start >= len(text) or text[start].isspace():
                continue
            ends = closers[mark]
            k = bisect_left(ends, start + 1)
            if k == len(ends):
                continue
            end = ends[k]
            n = bisect_left(newlines, start)
            if n < len(newlines) and newlines[n] < end:
                continue
            out += (text[pos:i], text[start:end])
            pos = i = end + len(mark)
            break
        else:
            i += 1
    out.append(text[pos:])
    return "".join(out)


def inline_text(text: str) -> str:
    """Strip inline Markdown (links, emphasis, code, tags) down to the words a reader sees."""
    text = _unwrap_links(text, "![", reference_form=False)
    text = _unwrap_links(text, "[", reference_form=True)
    text = _unwrap_autolinks(text)
    text = _CODE.sub(r"\1", text)
    text = _strip_tags(text)
    for _ in range(2):  # nested emphasis such as ***bold italic***
        text = _strip_emphasis(text)
    text = text.replace("\\", "")
    return " ".join(text.split())
