"""Article -> Passages: FAQ pairs and paragraphs, each with its section and a deep link."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from .model import Article, Block, Passage

FAQ_HEADING = re.compile(
    r"^\s*(faqs?|f\.a\.q\.?s?|frequently[ -]asked[ -]questions?|common(ly asked)? questions|"
    r"questions (and|&) answers|q ?(&|and) ?a|your questions answered)\b",
    re.IGNORECASE,
)
SPLIT_WORDS = 120  # long paragraphs are cut at sentence boundaries near this many words
MIN_WORDS = 8  # shorter paragraphs merge with a neighbour
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=[\"“(]?[A-Z0-9])")


@dataclass
class _Draft:
    """A passage being assembled before ids and links are assigned."""

    kind: str
    parts: list[str]
    section: str
    anchor: str | None
    question: str | None = None
    items: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [" ".join(self.parts)] if self.parts else []
        lines += [f"- {item}" for item in self.items]
        return "\n".join(line for line in lines if line)

    def word_count(self) -> int:
        return len(self.text().split())


def is_faq_heading(text: str) -> bool:
    """True for headings such as "FAQ", "FAQs" or "Frequently Asked Questions"."""
    return bool(FAQ_HEADING.match(text))


def text_fragment_link(url: str, text: str, words: int = 8) -> str:
    """Deep link that makes a browser scroll to text: url#:~:text=<first words>."""
    start = " ".join(text.split()[:words]).rstrip(":;,")
    # Text fragments reserve '-', '&' and ',' as syntax, so they must be escaped too.
    return f"{url.split('#')[0]}#:~:text={quote(start, safe='').replace('-', '%2D')}"


def _split_long(text: str) -> list[str]:
    sentences = _SENTENCE_END.split(text)
    chunks, current = [], []
    for sentence in sentences:
        if current and len(" ".join(current + [sentence]).split()) > SPLIT_WORDS:
            chunks.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        chunks.append(" ".join(current))
    return chunks


def _faq_drafts(blocks: list[Block], start: int, heading: Block) -> tuple[list[_Draft], int]:
    """Pair questions with answers inside an FAQ section; return drafts and the index after it."""
    drafts: list[_Draft] = []
    current: _Draft | None = None
    i = start
    while i < len(blocks):
        block = blocks[i]
        is_question_heading = block.kind == "heading" and (
            block.level > heading.level or block.text.rstrip().endswith("?")
        )
        if block.kind == "heading" and not is_question_heading:
            break
        if is_question_heading or (block.kind == "paragraph" and block.text.rstrip().endswith("?")):
            current = _Draft("faq", [], heading.text, block.anchor, question=block.text)
            drafts.append(current)
        elif block.kind == "qa":
            drafts.append(_Draft("faq", [block.text], heading.text, block.anchor, question=block.question))
            current = None
        elif current is not None:
            if block.kind == "item":
                current.items.append(block.text)
            else:
                current.parts.append(block.text)
        i += 1
    return [d for d in drafts if d.text()], i


def _paragraph_drafts(blocks: list[Block], section: str, anchor: str | None) -> list[_Draft]:
    """Group a section's paragraphs with the list items they introduce; merge tiny fragments."""
    drafts: list[_Draft] = []
    for block in blocks:
        if block.kind == "item":
            if drafts and not drafts[-1].items and drafts[-1].word_count() + len(block.text.split()) < 2 * SPLIT_WORDS:
                drafts[-1].items.append(block.text)
            elif drafts and drafts[-1].items and drafts[-1].word_count() < 2 * SPLIT_WORDS:
                drafts[-1].items.append(block.text)
            else:
                drafts.append(_Draft("paragraph", [], section, anchor, items=[block.text]))
            continue
        for chunk in _split_long(block.text):
            drafts.append(_Draft("paragraph", [chunk], section, anchor))
    merged: list[_Draft] = []
    for draft in drafts:
        if merged and (draft.word_count() < MIN_WORDS or merged[-1].word_count() < MIN_WORDS) and not merged[-1].items:
            merged[-1].parts += draft.parts
            merged[-1].items += draft.items
        else:
            merged.append(draft)
    return merged


def extract_passages(article: Article, article_id: str) -> list[Passage]:
    """Split an article into FAQ-pair and paragraph passages, in reading order."""
    blocks = list(article.blocks)
    structured = [_Draft("faq", [f.answer], "", f.anchor, question=f.question) for f in article.faqs]
    structured_questions = {_norm(d.question) for d in structured}
    drafts: list[_Draft] = []
    section, anchor = "", None
    pending: list[Block] = []

    def flush_paragraphs():
        drafts.extend(_paragraph_drafts(pending, section, anchor))
        pending.clear()

    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind == "heading" and is_faq_heading(block.text):
            flush_paragraphs()
            faq, i = _faq_drafts(blocks, i + 1, block)
            if not structured:  # structured data (FAQPage) wins over the visible copy
                drafts.extend(faq)
            visible_anchors = {_norm(d.question): d.anchor for d in faq if d.anchor}
            for d in structured:
                d.section = d.section or block.text
                # The visible copy's heading id gives the structured pair a deep link.
                d.anchor = d.anchor or visible_anchors.get(_norm(d.question))
            continue
        if block.kind == "heading":
            flush_paragraphs()
            section, anchor = block.text, block.anchor
        elif block.kind == "qa":
            flush_paragraphs()
            if _norm(block.question) not in structured_questions:
                drafts.append(_Draft("faq", [block.text], section, block.anchor, question=block.question))
        else:
            pending.append(block)
        i += 1
    flush_paragraphs()
    drafts = structured + drafts
    return [_passage(article, article_id, n, d) for n, d in enumerate(drafts) if d.text()]


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def _passage(article: Article, article_id: str, n: int, draft: _Draft) -> Passage:
    url = article.url or ""
    text = draft.text()
    if draft.anchor:
        link = f"{url.split('#')[0]}#{draft.anchor}"
    elif draft.kind == "faq":
        link = text_fragment_link(url, draft.question or text)
    else:
        link = text_fragment_link(url, draft.parts[0] if draft.parts else draft.items[0])
    return Passage(
        id=f"{article_id}#{n}",
        article=article_id,
        kind=draft.kind,
        question=draft.question,
        text=text,
        title=article.title,
        section=draft.section,
        url=url,
        link=link,
    )
