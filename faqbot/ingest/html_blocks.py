"""An HTML element -> Blocks: headings, paragraphs, list items, table rows, <details> and <dl> pairs,
each with the id a deep link can target; inline runs kept together."""

from __future__ import annotations

import re

from lxml import etree

from .docsite import remove_keep_tail as _remove_keep_tail
from .extract import is_question
from .faq_rules import RULE_ATTRIBUTE, details_rule
from ..model import Block

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Elements that end a run of inline text; anything else (span, a, strong...) keeps the run going.
_BLOCK_TAGS = frozenset(
    "p div li ul ol dl dt dd blockquote pre table thead tbody tfoot tr caption section article main "
    "figure figcaption address hr br h1 h2 h3 h4 h5 h6 details summary center body html".split()
)
_ROW_CELLS = frozenset(("td", "th"))
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060-\u2064\ufeff]")


def clean_text(text: str) -> str:
    """Whitespace runs made one space, invisible characters (soft hyphen, zero-width) dropped."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()


def _anchor(el: etree._Element) -> str | None:
    """The id a deep link can target: the element's own, a child <a id|name>, or its <section>'s."""
    if el.get("id"):
        return el.get("id").strip() or None
    for a in el.iter("a"):
        if a.get("id") or a.get("name"):
            return (a.get("id") or a.get("name")).strip() or None
    previous = el.getprevious()
    if previous is not None and previous.tag == "a" and not clean_text(previous.text_content()):
        if previous.get("id") or previous.get("name"):
            return (previous.get("id") or previous.get("name")).strip() or None
    parent = el.getparent()
    if parent is not None and parent.tag == "section" and parent.get("id"):
        if next(parent.iter(*_HEADINGS), None) is el:
            return parent.get("id").strip() or None
    return None


def element_text(el: etree._Element) -> str:
    """An element's text with block boundaries as spaces and inline runs kept together."""
    return clean_text(" ".join(b.question + " " + b.text if b.question else b.text for b in html_blocks(el)))


def _qa_from_details(el: etree._Element) -> Block | None:
    summary = el.find("summary")
    if summary is None:
        return None
    question = element_text(summary)
    _remove_keep_tail(summary)
    answer = element_text(el)
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
                pairs.append(Block(kind, clean_text(" ".join(answers)), anchor=anchor, question=question,
                                   rule="dl" if kind == "qa" else None))
            if child is None:
                break
            if answers or not question:
                question, anchor, answers = element_text(child), _anchor(child), []
            else:  # several <dt> for one <dd>
                question = clean_text(question + " " + element_text(child))
        elif child.tag == "dd":
            answers.append(element_text(child))
    return [b for b in pairs if b.text]


def html_blocks(root: etree._Element, link_share: list[float] | None = None) -> list[Block]:
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
        text = clean_text("".join(run))
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
            elif tag in _ROW_CELLS and clean_text("".join(run)):
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
