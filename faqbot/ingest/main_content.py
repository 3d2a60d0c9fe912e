"""An HTML page's main content: page furniture dropped, then the blocks the content detector
(trafilatura) kept."""

from __future__ import annotations

import copy
import re

import trafilatura
from lxml import etree

from .docsite import remove_keep_tail as _remove_keep_tail
from .html_blocks import clean_text

_CELL_BARS = re.compile(r"(?:\s\|)+\s")
NOT_TEXT = frozenset(("script", "style", "noscript", "template", "svg", "iframe", "object", "embed",
                      "canvas", "button", "select", "textarea", "input", "label"))
_FURNITURE_TAGS = frozenset(("nav", "aside", "menu", "dialog", "figcaption"))
_FURNITURE = re.compile(
    r"(comment|cookie|consent|gdpr|newsletter|subscri|social|related|recommend|promo|advert|sponsor|"
    r"caption|image-?desc|(image|photo|picture)-?credit|breadcrumb|copyright|taboola|outbrain|disqus|sharedaddy|share(bar|tools|-?buttons|-?links)|"
    r"popup|modal|paywall|signup|sign-up|trending|most-popular|more-stories|read-?more|skip-?link|"
    r"(^|[\s_-])(ads?|ad-slot|share|sharing|sidebar|menu|nav|navbar|navigation|footer|masthead|"
    r"site-header|tags|byline-share|authors?|pagination|print|banner)($|[\s_-])|author-?(box|bio|info))",
    re.IGNORECASE,
)
SMALL_PAGE_CHARS = 2000  # below this much text we trust the furniture filters alone
_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert")


def _text_sizes(body: etree._Element) -> dict:
    """Characters of text under each element, in one pass (no text_content() per candidate)."""
    sizes: dict = {}
    for event, el in etree.iterwalk(body, events=("end",)):
        if not isinstance(el.tag, str) or el.tag in NOT_TEXT:
            sizes[el] = 0
            continue
        sizes[el] = len((el.text or "").strip()) + sum(sizes.get(c, 0) + len((c.tail or "").strip()) for c in el)
    return sizes


def remove_furniture(body: etree._Element) -> None:
    """Delete scripts, navigation, banners, share/related/comment blocks and other page furniture."""
    sizes = _text_sizes(body)
    # Broken markup can leave the whole page inside an unclosed <nav> or <header>: never drop most of it.
    total = sizes.get(body, 0)
    too_big = 0.5 * total if total >= SMALL_PAGE_CHARS else float("inf")
    doomed = []
    for el in body.iter():
        if not isinstance(el.tag, str):
            doomed.append(el)
            continue
        tag = el.tag.lower()
        if tag in NOT_TEXT:
            doomed.append(el)
            continue
        if tag in ("html", "body", "main", "article") or sizes.get(el, 0) > too_big:
            continue
        # A dotted id is a generated anchor (Sphinx: "django.db.models.fields.related.RelatedManager"), not a
        # name a theme gave its furniture.
        names = f"{el.get('class') or ''} {'' if '.' in (el.get('id') or '') else el.get('id')}"
        if tag in _FURNITURE_TAGS or (el.get("role") or "").lower() in _ROLES:
            doomed.append(el)
        elif tag in ("header", "footer") and not any(a.tag in ("article", "main") for a in el.iterancestors()):
            doomed.append(el)
        elif tag == "footer" or (names.strip() and _FURNITURE.search(names) and not any(True for _ in el.iter("h1"))):
            doomed.append(el)
    for el in doomed:
        _remove_keep_tail(el)


def main_text(body: etree._Element):
    """A test: does a block's text belong to the main content that trafilatura found?"""
    if sum(len(t.strip()) for t in body.itertext()) < SMALL_PAGE_CHARS:
        # Too little text to hold much furniture once it is removed; trafilatura's size
        # thresholds make it drop lists and tables from such pages.
        return lambda text: True
    found = trafilatura.extract(copy.deepcopy(body.getroottree().getroot()), include_comments=False,
                                include_tables=True, favor_recall=True, fast=True) or ""
    if not found.strip():  # short pages fall under trafilatura's minimum size: keep what is left
        return lambda text: True
    return keeper(found)


def keeper(found: str):
    """A test: does a block's text stand in found, trafilatura's text of the page?"""
    flat = _key(found)
    # trafilatura writes list items as "- item" and table cells between "|".
    cells = [_key(cell).lstrip("-* ") for cell in re.split(r"[\n|]", found)]
    rows = [_key(line.replace("|", " ")).lstrip("-* ") for line in found.splitlines()]
    lines = "\n" + "\n".join(cells + rows)

    def keep(text: str) -> bool:
        key = _key(_CELL_BARS.sub(" ", text))
        # A few words match somewhere by chance ("Accessibility"); they must start one of its lines.
        return bool(key) and (key in flat if len(key.split()) > 4 else "\n" + key in lines)

    return keep


def _key(text: str) -> str:
    return clean_text(text).lower()
