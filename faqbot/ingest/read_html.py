"""HTML page -> Article: main content as blocks, FAQ markup, title, canonical URL and language."""

from __future__ import annotations

import copy
import re

import lxml.html
from lxml import etree

from .docsite import (drop_site_headings, drop_skip_links, first_h1, is_doc_page, site_names, strip_permalinks,
                      without_site_suffix)
from .docsite import remove_keep_tail as _remove_keep_tail
from ..errors import SkipFile
from .extract import is_question
from .faq_data import jsonld_faqs, microdata_faqs, rdfa_faqs
from .faq_rules import mark_bold_questions, rewrite_accordions
from .html_blocks import clean_text, html_blocks
from .main_content import NOT_TEXT, keeper, main_text, remove_furniture
from ..model import Article, Block
from .reference_text import lacks_much, merge, reference_text
from .urls import checked_url, refused_note

_BOILERPLATE_START = re.compile(
    r"^(?:(?:read more|related|see also|also read|recommended|more from|subscribe|sign up|follow us|"
    r"share this|share on|click here|advertisement|advertise with|sponsored|copyright|all rights reserved|"
    r"submit your letter|leave a (?:comment|reply))\b|©|\(c\) ?\d{4})",
    re.IGNORECASE,
)
# Calls to action that give a short block away wherever they sit in it.
_BOILERPLATE_ANYWHERE = re.compile(
    r"\b(?:(?:view|show|read|leave|post|add|\d+) (?:a |all )?comments?|download (?:the|our) [\w ]{0,40}apps?|"
    r"follow (?:us|the [\w ]{1,30}) on (?:twitter|facebook|instagram|x)|all rights reserved|"
    r"sign(?:ing)? up (?:for|to) (?:our|the) [\w ]{0,30}newsletter|subscribe (?:now|today|to (?:our|the))|"
    r"already a (?:subscriber|member))\b",
    re.IGNORECASE,
)
_SHORT_BLOCK_WORDS = 40
_LABEL_WORDS = 5
_DIGIT = re.compile(r"\d")
_LINK_SHARE = 0.5
_SENTENCE_END = tuple(".!?…\"”“»)")
_TEASER = re.compile(r"^(?:\w+\W{0,2}){1,4}:\s")  # a label of up to four words, then a colon


def read_html(text: str, source: str = "") -> Article:
    """Extract the article's main content, structured FAQ pairs, title, URL and language from an HTML page."""
    root = _parse(text)
    try:
        return _read(root, source)
    except SkipFile:
        raise
    except Exception:  # untrusted markup may trip lxml or trafilatura in ways we cannot list
        raise SkipFile("cannot parse HTML") from None


def _parse(text: str) -> etree._Element:
    data = text.replace("\x00", "").encode("utf-8", "replace")
    if not data.strip():
        raise SkipFile("no extractable text")
    # Bytes with an explicit encoding: lxml refuses str input that carries an XML encoding declaration.
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except Exception:
        raise SkipFile("no extractable text") from None
    if root is None:
        raise SkipFile("no extractable text")
    return root


def _read(root: etree._Element, source: str) -> Article:
    faqs = tuple(jsonld_faqs(root)) + tuple(microdata_faqs(root)) + tuple(rdfa_faqs(root))
    rewrite_accordions(root, is_question)
    mark_bold_questions(root, is_question)
    url, notes = _url(root)
    lang = _lang(root)
    fallback_title = _meta(root, "og:title") or clean_text(root.findtext(".//title") or "")
    body = root.find("body")
    blocks: list[Block] = []
    own_h1, names = "", set()
    if body is not None:
        doc_page = is_doc_page(root)  # before furniture removal takes the scripts out
        names = _clean_headings(root, body)
        blocks, own_h1 = _main_blocks(root, body, doc_page)
    title = ""
    if blocks and blocks[0].kind == "heading" and blocks[0].level == 1:
        title, blocks = blocks[0].text, blocks[1:]
    else:
        title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    title = title or without_site_suffix(fallback_title, names, own_h1)
    if not faqs and not any(b.kind != "heading" for b in blocks):
        raise SkipFile("no extractable text")
    return Article(title=title, blocks=tuple(blocks), source=source, url=url, lang=lang, faqs=faqs,
                   notes=tuple(notes))


def _clean_headings(root: etree._Element, body: etree._Element) -> set[str]:
    """Drop heading permalinks, skip links and the site-name <h1> of a page header; return the site's names."""
    names = site_names(root)
    strip_permalinks(body)
    drop_skip_links(body)
    names.update(name.lower() for name in drop_site_headings(body))
    return names


def _main_blocks(root: etree._Element, body: etree._Element, doc_page: bool) -> tuple[list[Block], str]:
    """The own selection (furniture removed, then what the detector kept), merged with trafilatura's
    extraction of the untouched page: its blocks inside the own text always, and all of them where
    the own selection holds much less of it (a furniture rule or the detector lost the article).

    Also returns the text of the first <h1> left after furniture removal. A documentation page keeps
    every block the furniture rules leave."""
    untouched = None if doc_page else copy.deepcopy(body)
    reference = "" if doc_page else reference_text(root)
    remove_furniture(body)
    own_h1 = clean_text(first_h1(body))
    keep, shares = (lambda text: True) if doc_page else main_text(body), []
    candidates = html_blocks(body, shares)
    own = _select(candidates, shares, keep)
    if not reference.strip():
        return own, own_h1
    everywhere = lacks_much(reference, own)
    if everywhere:
        for el in [el for el in untouched.iter() if not isinstance(el.tag, str) or el.tag in NOT_TEXT]:
            _remove_keep_tail(el)
        shares = []
        candidates = html_blocks(untouched, shares)
    extra = {id(b) for b in _select(candidates, shares, keeper(reference))}
    return merge(own, candidates, [id(b) in extra for b in candidates], everywhere), own_h1


def _is_boilerplate(block: Block, share: float = 0.0) -> bool:
    if block.kind in ("heading", "qa", "term"):
        return False
    if block.kind == "paragraph" and share >= _LINK_SHARE and _TEASER.match(block.text):
        return True  # "Read also: <a>Another story</a>" in any language
    short = len(block.text.split()) <= _SHORT_BLOCK_WORDS
    return bool(_BOILERPLATE_START.match(block.text) or (short and _BOILERPLATE_ANYWHERE.search(block.text)))


def _select(blocks: list[Block], shares: list[float], keep) -> list[Block]:
    """Keep the blocks the detector kept, the headings that introduce them, and text between two kept blocks."""
    kept = [_explicit_pair(b) or keep(b.question or b.text) or (b.kind in ("qa", "term") and keep(b.text))
            for b in blocks]
    # The detector drops some headings and odd paragraphs; a block between kept ones belongs to the text.
    for i in range(len(blocks) - 1, -1, -1):
        if kept[i]:
            continue
        after = i + 1 < len(blocks) and kept[i + 1] and blocks[i + 1].kind != "heading"
        before = i > 0 and kept[i - 1]
        kept[i] = after and (blocks[i].kind == "heading" or before) and shares[i] < 0.5
    chosen = [(b, share) for b, share, k in zip(blocks, shares, kept) if k and not _is_boilerplate(b, share)]
    return [b for b, _ in _trim_ends(chosen)]


def _explicit_pair(block: Block) -> bool:
    """A pair from FAQ markup (accordion, plugin block) or one that asks a question: kept even when
    the detector, which skips collapsed panels and buttons, did not keep its text."""
    return block.kind == "qa" and (block.rule not in ("details", "wp-details", "dl") or is_question(block.question))


def _is_label(block: Block) -> bool:
    """A short line that names what follows rather than saying something: "More on this topic"."""
    text = block.text.rstrip()
    return block.kind == "heading" or (
        block.kind == "paragraph" and len(text.split()) <= _LABEL_WORDS and not _DIGIT.search(text)
        and (text.endswith(":") or not text.endswith(_SENTENCE_END)))


def _trim_ends(chosen: list[tuple[Block, float]]) -> list[tuple[Block, float]]:
    """Drop links leading the text, and what trails it: labels, headings and paragraphs made of links.

    Labels ("More on this topic", "Sign up") and link lists the article ends with name other pages."""
    linked = [b.kind != "heading" and share >= _LINK_SHARE for b, share in chosen]
    start, end = 0, len(chosen)
    while start < end and linked[start]:
        start += 1
    while end > start and (_is_label(chosen[end - 1][0]) or (linked[end - 1] and chosen[end - 1][0].kind == "paragraph")):
        end -= 1
    return chosen[start:end]


def _meta(root: etree._Element, prop: str) -> str:
    for el in root.iter("meta"):
        if (el.get("property") or el.get("name") or "").strip().lower() == prop:
            return clean_text(el.get("content") or "")
    return ""


def _url(root: etree._Element) -> tuple[str | None, list[str]]:
    """The page's own URL (the first usable canonical link, else og:url), and notes on refused ones."""
    given = [("canonical link", el.get("href") or "") for el in root.iter("link")
             if "canonical" in (el.get("rel") or "").lower().split()]
    given.append(("og:url", _meta(root, "og:url")))
    notes = []
    for field, url in given:
        if checked := checked_url(url, relative=False):
            return checked, notes
        if url.strip():
            notes.append(refused_note(field, url, relative=False))
    return None, notes


def _lang(root: etree._Element) -> str | None:
    """The page's declared language: <html lang>, else og:locale, else <meta http-equiv=Content-Language>."""
    primary = (root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or _meta(root, "og:locale")
               or _http_equiv(root, "content-language") or "").strip()
    primary = primary.replace("_", "-").split(",")[0].split("-")[0].lower()
    return primary if primary.isalpha() and len(primary) <= 8 else None


def _http_equiv(root: etree._Element, name: str) -> str | None:
    for el in root.iter("meta"):
        if (el.get("http-equiv") or "").strip().lower() == name:
            return el.get("content")
    return None
