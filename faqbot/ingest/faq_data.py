"""Structured FAQ data in an HTML page: schema.org FAQPage or QAPage in JSON-LD, microdata or RDFa."""

from __future__ import annotations

import json
import re

import lxml.html
from lxml import etree

from .faq_rules import schema_pairs
from .html_blocks import clean_text, element_text
from ..model import FaqPair


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
        return clean_text(text)
    try:
        fragment = lxml.html.fragment_fromstring(text, create_parent="div")
    except Exception:
        return clean_text(re.sub(r"<[^>]*>", " ", text))
    return element_text(fragment)


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
        if text and clean_text(answer):
            anchor = _fragment(question.get("url")) or _fragment(question.get("@id"))
            pairs.append(FaqPair(text, clean_text(answer), anchor, rule))
    return pairs


def _upvotes(answer: dict) -> float:
    try:
        return float(answer.get("upvoteCount") or 0)
    except (TypeError, ValueError):
        return 0.0


def _prop_value(el: etree._Element) -> str:
    return clean_text(el.get("content") or "") or element_text(el)


def microdata_faqs(root: etree._Element) -> list[FaqPair]:
    """FaqPairs from microdata: an itemtype .../FAQPage or .../QAPage holding mainEntity Questions."""
    return [FaqPair(q, a, anchor, rule) for q, a, anchor, rule in schema_pairs(root, "microdata", _prop_value)]


def rdfa_faqs(root: etree._Element) -> list[FaqPair]:
    """FaqPairs from RDFa: a typeof FAQPage or QAPage holding mainEntity Questions."""
    return [FaqPair(q, a, anchor, rule) for q, a, anchor, rule in schema_pairs(root, "rdfa", _prop_value)]
