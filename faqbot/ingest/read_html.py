"""HTML page -> Article: main content as blocks, FAQ markup, title, canonical URL and language."""

from __future__ import annotations

import copy
import json
import re

import lxml.html
import trafilatura
from lxml import etree

from .docsite import (drop_site_headings, drop_skip_links, first_h1, is_doc_page, site_names, strip_permalinks,
                      without_site_suffix)
from .docsite import remove_keep_tail as _remove_keep_tail
from ..errors import SkipFile
from .extract import is_question
from .faq_rules import RULE_ATTRIBUTE, details_rule, mark_bold_questions, rewrite_accordions, schema_pairs
from ..model import Article, Block, FaqPair
from .reference_text import lacks_much, merge, reference_text
from .urls import checked_url, refused_note

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Elements that end a run of inline text; anything else (span, a, strong...) keeps the run going.
_BLOCK_TAGS = frozenset(
    "p div li ul ol dl dt dd blockquote pre table thead tbody tfoot tr caption section article main "
    "figure figcaption address hr br h1 h2 h3 h4 h5 h6 details summary center body html".split()
)
_ROW_CELLS = frozenset(("td", "th"))
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060-\u2064\ufeff]")
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
_CELL_BARS = re.compile(r"(?:\s\|)+\s")


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
    fallback_title = _meta(root, "og:title") or _clean(root.findtext(".//title") or "")
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
    own_h1 = _clean(first_h1(body))
    keep, shares = (lambda text: True) if doc_page else main_text(body), []
    candidates = _blocks(body, shares)
    own = _select(candidates, shares, keep)
    if not reference.strip():
        return own, own_h1
    everywhere = lacks_much(reference, own)
    if everywhere:
        for el in [el for el in untouched.iter() if not isinstance(el.tag, str) or el.tag in _NOT_TEXT]:
            _remove_keep_tail(el)
        shares = []
        candidates = _blocks(untouched, shares)
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


def _clean(text: str) -> str:
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()


def _meta(root: etree._Element, prop: str) -> str:
    for el in root.iter("meta"):
        if (el.get("property") or el.get("name") or "").strip().lower() == prop:
            return _clean(el.get("content") or "")
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


def _anchor(el: etree._Element) -> str | None:
    """The id a deep link can target: the element's own, a child <a id|name>, or its <section>'s."""
    if el.get("id"):
        return el.get("id").strip() or None
    for a in el.iter("a"):
        if a.get("id") or a.get("name"):
            return (a.get("id") or a.get("name")).strip() or None
    previous = el.getprevious()
    if previous is not None and previous.tag == "a" and not _clean(previous.text_content()):
        if previous.get("id") or previous.get("name"):
            return (previous.get("id") or previous.get("name")).strip() or None
    parent = el.getparent()
    if parent is not None and parent.tag == "section" and parent.get("id"):
        if next(parent.iter(*_HEADINGS), None) is el:
            return parent.get("id").strip() or None
    return None


def _inline_text(el: etree._Element) -> str:
    """An element's text with block boundaries as spaces and inline runs kept together."""
    return _clean(" ".join(b.question + " " + b.text if b.question else b.text for b in _blocks(el)))


def _qa_from_details(el: etree._Element) -> Block | None:
    summary = el.find("summary")
    if summary is None:
        return None
    question = _inline_text(summary)
    _remove_keep_tail(summary)
    answer = _inline_text(el)
    if not question or not answer:
        return None
    return Block("qa", answer, anchor=_anchor(el) or _anchor(summary), question=question, rule=details_rule(el))


def _qa_from_dl(el: etree._Element) -> list[Block]:
    """A <dl>'s entries: "qa" where the term is a question, else "term" (API entries, glossaries, options).

    A definition keeps the lists nested in it (a class with its members): split out, members named
    like a glossary's terms ("queryset") took "what is X?" away from the glossary.
    """
    pairs: list[Block] = []
    question, anchor, answers = "", None, []
    for child in list(el) + [None]:
        if child is None or child.tag == "dt":
            if question and answers:
                kind = "qa" if is_question(question) else "term"
                pairs.append(Block(kind, _clean(" ".join(answers)), anchor=anchor, question=question,
                                   rule="dl" if kind == "qa" else None))
            if child is None:
                break
            if answers or not question:
                question, anchor, answers = _inline_text(child), _anchor(child), []
            else:  # several <dt> for one <dd>
                question = _clean(question + " " + _inline_text(child))
        elif child.tag == "dd":
            answers.append(_inline_text(child))
    return [b for b in pairs if b.text]


def _blocks(root: etree._Element, link_share: list[float] | None = None) -> list[Block]:
    """Walk the tree without recursion and emit headings, paragraphs, items and Q&A in reading order.

    link_share, when given, receives each block's fraction of characters inside links.
    """
    blocks: list[Block] = []
    shares = link_share if link_share is not None else []
    run: list[str] = []
    linked = [0, 0]  # open <a> elements, characters added inside them
    # Each open block element pushes (kind, level, anchor); the innermost heading or item decides the kind.
    context: list[tuple[str, int, str | None]] = [("paragraph", 0, None)]

    def add(text: str | None):
        if text:
            run.append(text)
            if linked[0]:
                linked[1] += len(text.strip())

    def emit(new: list[Block], share: float):
        blocks.extend(new)
        shares.extend([share] * len(new))

    def flush():
        text = _clean("".join(run))
        chars = len("".join(run).replace(" ", "")) or 1
        run.clear()
        if text:
            kind, level, anchor = context[-1]
            rule = None
            if kind == "question":  # a bold question paragraph (faq_rules.mark_bold_questions)
                kind, rule = "paragraph", "bold-question"
            emit([Block(kind, text, level=level, anchor=anchor, rule=rule)], min(1.0, linked[1] / chars))
            if kind == "heading":
                context[-1] = (kind, level, None)
        linked[1] = 0

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if el is not root and tag in ("details", "dl"):
                flush()
                emit(_qa_from_dl(el) if tag == "dl" else list(filter(None, [_qa_from_details(el)])), 0.0)
                walker.skip_subtree()
                add(el.tail)
                continue
            if tag in _BLOCK_TAGS:
                flush()
                if tag in _HEADINGS:
                    context.append(("heading", _HEADINGS[tag], _anchor(el)))
                elif tag == "li":
                    context.append(("item", 0, None))
                elif tag in ("p", "blockquote", "pre") and context[-1][0] != "item":
                    context.append(("question" if el.get(RULE_ATTRIBUTE) else "paragraph", 0, None))
                else:
                    context.append(context[-1])
            elif tag in _ROW_CELLS and _clean("".join(run)):
                add(" | ")
            elif tag == "a":
                linked[0] += 1
            if tag:
                add(el.text)
        else:
            if tag in _BLOCK_TAGS:
                flush()
                if len(context) > 1:
                    context.pop()
            elif tag in _ROW_CELLS:
                add(" ")
            elif tag == "a":
                linked[0] = max(0, linked[0] - 1)
            if el is not root:
                add(el.tail)
    flush()
    return blocks


# --- structured FAQ data: schema.org FAQPage in JSON-LD or microdata ---------------------------------

def _types(node: dict) -> set[str]:
    kinds = node.get("@type") or []
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return {str(k).rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() for k in kinds}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def _html_text(value) -> str:
    """Answer text from JSON-LD, which may hold HTML: the words a reader would see."""
    text = value if isinstance(value, str) else ""
    if "<" not in text and "&" not in text:
        return _clean(text)
    try:
        fragment = lxml.html.fragment_fromstring(text, create_parent="div")
    except Exception:
        return _clean(re.sub(r"<[^>]*>", " ", text))
    return _inline_text(fragment)


def _fragment(value) -> str | None:
    value = value if isinstance(value, str) else ""
    return value.split("#", 1)[1] or None if "#" in value else None


def jsonld_faqs(root: etree._Element) -> list[FaqPair]:
    """FaqPairs from <script type="application/ld+json"> FAQPage objects (plain, lists or @graph)."""
    pairs: list[FaqPair] = []
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        raw = script.text.strip()
        raw = re.sub(r"^\s*(<!--|<!\[CDATA\[)|(-->|\]\]>)\s*$", "", raw)
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        stack, seen = [data], 0
        while stack and seen < 10000:  # bounded: the data is untrusted
            node, seen = stack.pop(), seen + 1
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                kinds = _types(node)
                if kinds & {"faqpage", "qapage"}:
                    rule = "jsonld-faqpage" if "faqpage" in kinds else "jsonld-qapage"
                    pairs.extend(_jsonld_questions(node.get("mainEntity"), rule))
                else:
                    stack.extend(reversed([v for v in node.values() if isinstance(v, (list, dict))]))
    return pairs


def _jsonld_questions(entities, rule: str) -> list[FaqPair]:
    pairs = []
    for question in _as_list(entities):
        if not isinstance(question, dict):
            continue
        answers = _as_list(question.get("acceptedAnswer")) or _as_list(question.get("suggestedAnswer"))
        if rule == "jsonld-qapage":  # one question, many answers: the accepted one, else the most upvoted
            answers = sorted((a for a in answers if isinstance(a, dict)), key=_upvotes, reverse=True)[:1]
        answer = " ".join(_html_text(a.get("text")) for a in answers if isinstance(a, dict))
        text = _html_text(question.get("name")) or _html_text(question.get("text"))
        if text and _clean(answer):
            anchor = _fragment(question.get("url")) or _fragment(question.get("@id"))
            pairs.append(FaqPair(text, _clean(answer), anchor, rule))
    return pairs


def _upvotes(answer: dict) -> float:
    try:
        return float(answer.get("upvoteCount") or 0)
    except (TypeError, ValueError):
        return 0.0


def _prop_value(el: etree._Element) -> str:
    return _clean(el.get("content") or "") or _inline_text(el)


def microdata_faqs(root: etree._Element) -> list[FaqPair]:
    """FaqPairs from microdata: an itemtype .../FAQPage or .../QAPage holding mainEntity Questions."""
    return [FaqPair(q, a, anchor, rule) for q, a, anchor, rule in schema_pairs(root, "microdata", _prop_value)]


def rdfa_faqs(root: etree._Element) -> list[FaqPair]:
    """FaqPairs from RDFa: a typeof FAQPage or QAPage holding mainEntity Questions."""
    return [FaqPair(q, a, anchor, rule) for q, a, anchor, rule in schema_pairs(root, "rdfa", _prop_value)]


# --- main content: drop furniture, then keep what the content detector kept --------------------------

_NOT_TEXT = frozenset(("script", "style", "noscript", "template", "svg", "iframe", "object", "embed",
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
        if not isinstance(el.tag, str) or el.tag in _NOT_TEXT:
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
        if tag in _NOT_TEXT:
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
    return _clean(text).lower()
