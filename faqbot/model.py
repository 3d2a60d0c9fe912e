"""The nouns of the flow: what a reader produces (Article, Block) and what the index serves (Passage)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """One structural piece of an article, in reading order.

    kind is one of:
      "heading"   text is the heading; level 1..6; anchor is its element id, if any
      "paragraph" running text
      "item"      one list item (kept with the paragraph that introduces it)
      "qa"        a question/answer pair found in the markup itself
                  (<details><summary>, <dl><dt><dd>); question holds the question, text the answer
      "term"      a <dt>/<dd> entry that is no question (API entry, glossary term, option);
                  question holds the term, text its definition; becomes passages of kind "term"
    """

    kind: str
    text: str
    level: int = 0
    anchor: str | None = None
    question: str | None = None
    rule: str | None = None  # for "qa": the FAQ markup rule that found the pair (faq_rules.py)


@dataclass(frozen=True)
class FaqPair:
    """A question and its answer from structured data (schema.org FAQPage)."""

    question: str
    answer: str
    anchor: str | None = None
    rule: str = ""  # the markup it came from: "jsonld-faqpage", "microdata-qapage", "rdfa-faqpage"...


@dataclass(frozen=True)
class Article:
    """What a reader extracted from one source file or page.

    url is the article's own URL (canonical, og:url, front matter, Source line) or None;
    the caller fills in base-url + slug when it is missing. faqs holds structured FAQ pairs,
    which win over FAQ sections found in the blocks. notes says what the reader refused (an
    unsafe URL, say), for `faqbot inspect`.
    """

    title: str
    blocks: tuple[Block, ...]
    source: str = ""
    url: str | None = None
    lang: str | None = None
    faqs: tuple[FaqPair, ...] = field(default=())
    lang_source: str = ""  # how lang was decided: "declared" (markup, front matter), "detected" or "default"
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Passage:
    """One searchable unit: an FAQ pair, a paragraph or a term's definition, with where it stands."""

    id: str  # "<article-id>#<n>", stable while the article is unchanged
    article: str  # article id (slug of its source path or URL)
    kind: str  # "faq", "paragraph" or "term" (an API entry, glossary term or option and its definition)
    question: str | None  # None for paragraphs; the term for a "term"
    text: str  # the answer for an FAQ pair, the definition for a term
    title: str
    section: str
    url: str
    link: str  # deep link: url#heading-id or url#:~:text=...
    # How an FAQ pair was found (faq_rules.py), for `faqbot inspect`; not stored in the index.
    rule: str | None = field(default=None, compare=False)
    # False when the title is only the article's first words (ingest.extract.title_is_opening): the
    # index then leaves it out of the passage's context (index.store.index_text). Not stored in the index.
    title_indexed: bool = field(default=True, compare=False)

    def to_dict(self) -> dict:
        """Return the JSON shape shared by the CLI and the API (without score/confidence)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "question": self.question,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "link": self.link,
        }
