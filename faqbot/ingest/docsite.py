"""Documentation and static sites: headings as the reader sees them, and pages built by a doc generator.

Sphinx, MkDocs, Docusaurus, Hugo, Jekyll and GitHub put a permalink anchor in every heading
(`<a class="headerlink" href="#id">¶</a>`, `hash-link`, `anchor`, "#", "🔗"), and many themes put
the site's name in an `<h1>` of the page header. These functions take both out of a parsed page
before its blocks are read, keep the anchor's target as the heading's deep link, and pick the page's
title: its own `<h1>`, else `<title>` without its " — Site name" suffix.

Pages built by Sphinx, MkDocs or Docusaurus mark their furniture (navigation, sidebars, headers,
footers) in their markup, so their text is read without the main-content detector, which drops
headings followed by a heading or a code block and short answers ("Yes. See ...").
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from lxml import etree

_SPACES = re.compile(r"\s+")
# What a permalink shows: nothing (an icon or CSS), a pilcrow, a hash, a link symbol, a section sign.
_PERMALINK_TEXT = re.compile(r"^[\s\u200b\u200c\u200d\u2060\ufeff\ufe0f¶§#🔗⚓]*$|^(permalink|link|anchor)$", re.IGNORECASE)
_PERMALINK_LABEL = re.compile(r"permalink|permanent link|link to this|direct link to|anchor link", re.IGNORECASE)
_DOC_GENERATOR = re.compile(r"^\s*(sphinx|mkdocs|docusaurus)\b", re.IGNORECASE)
_SKIP_LINK = re.compile(r"^skip (?:to|navigation)\b", re.IGNORECASE)
_HOME_HREF = re.compile(r"^(\./|/|(\.\./)*(index\.html?)?)$")
_TITLE_SEPARATORS = (" — ", " – ", " | ", " - ", " · ", " :: ")


def is_doc_page(root: etree._Element) -> bool:
    """True for a page built by Sphinx (its documentation_options script), MkDocs or Docusaurus (generator)."""
    for meta in root.iter("meta"):
        if (meta.get("name") or "").lower() == "generator" and _DOC_GENERATOR.match(meta.get("content") or ""):
            return True
    return any(s.get("id") == "documentation_options" or (s.get("src") or "").split("?")[0].endswith(
        "/documentation_options.js") for s in root.iter("script"))


def _text(el: etree._Element) -> str:
    return _SPACES.sub(" ", el.text_content()).strip()


def is_permalink(a: etree._Element) -> bool:
    """An <a href="#id"> that only marks where a link to its heading points (¶, #, 🔗, an icon)."""
    href = (a.get("href") or "").strip()
    if not href.startswith("#") or len(href) < 2:
        return False
    label = f"{a.get('title') or ''} {a.get('aria-label') or ''}"
    return bool(_PERMALINK_TEXT.match(_text(a)) or (_PERMALINK_LABEL.search(label) and len(_text(a)) <= 2))


def strip_permalinks(body: etree._Element) -> None:
    """Remove permalink anchors; the heading keeps their target as its id for the deep link."""
    for a in [a for a in body.iter("a") if is_permalink(a)]:
        owner = a.getparent()
        while owner is not None and owner.tag not in ("h1", "h2", "h3", "h4", "h5", "h6", "dt"):
            owner = owner.getparent()
        if owner is not None and not owner.get("id"):
            # The anchor's own id is on the page (GitHub's "user-content-..."); else it points at one.
            target = a.get("id") or a.get("name") or unquote(a.get("href")[1:])
            owner.set("id", target.strip())
        remove_keep_tail(a)


def drop_skip_links(body: etree._Element) -> None:
    """Remove "Skip to content" links, which doc themes put before everything else."""
    for a in [a for a in body.iter("a") if (a.get("href") or "").startswith("#") and _SKIP_LINK.match(_text(a))]:
        remove_keep_tail(a)


def remove_keep_tail(el: etree._Element) -> None:
    """Remove an element but not the text that follows it (lxml moves the tail with the element)."""
    parent, previous = el.getparent(), el.getprevious()
    if parent is None:
        return
    if not el.tail:
        parent.remove(el)
        return
    if previous is not None:
        previous.tail = (previous.tail or "") + el.tail
    else:
        parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _is_site_name(h1: etree._Element) -> bool:
    """An <h1> that is one link to another page: the site's name in the page header."""
    links = list(h1.iter("a"))
    if len(links) != 1 or not _text(h1) or _text(links[0]) != _text(h1):
        return False
    href = (links[0].get("href") or "").strip()
    return bool(href) and (href == "#" or not href.startswith("#"))  # "#": the home page naming itself


def drop_site_headings(body: etree._Element) -> list[str]:
    """Remove header <h1>s that only link to the site (when the page has an <h1> of its own); return their text."""
    h1s = list(body.iter("h1"))
    site = [h for h in h1s if _is_site_name(h)]
    if len(site) == len(h1s):
        return []  # a page whose only <h1> is a link is titled by it (a blog post linking to itself)
    names = [_text(h) for h in site]
    for h in site:
        remove_keep_tail(h)
    return names


def site_names(root: etree._Element) -> set[str]:
    """Names the page gives its site: og:site_name, application-name, and its links home."""
    names = set()
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() in ("og:site_name", "application-name"):
            names.add(_SPACES.sub(" ", meta.get("content") or "").strip())
    for a in root.iter("a"):
        if _HOME_HREF.match((a.get("href") or "").strip()) and (a.get("href") or "").strip():
            names.add(_text(a))
    return {n.lower() for n in names if n}


def first_h1(body: etree._Element) -> str:
    """The text of the first non-empty <h1> left in the page."""
    return next((t for t in map(_text, body.iter("h1")) if t), "")


def without_site_suffix(title: str, names: set[str], own_h1: str = "") -> str:
    """'Installation — Django 3.2 documentation' -> 'Installation': the suffix names the site, or the rest is the page's <h1>."""
    for separator in _TITLE_SEPARATORS:
        head, sep, tail = title.rpartition(separator)
        if sep and head.strip() and (tail.strip().lower() in names or head.strip() == own_h1):
            return head.strip()
    return title
