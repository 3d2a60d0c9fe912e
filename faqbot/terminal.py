"""Human output of answers for `faqbot ask` and `faqbot chat`: colour, highlighting, links, tables.

Colour and OSC 8 hyperlinks only reach a terminal (and never with NO_COLOR or TERM=dumb); piped
or captured output is plain text. Nothing depends on colour alone: matched words are also bold
and underlined, and every state ("No confident answer.", the answer row) is said in words.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from typing import Mapping, TextIO

from .text.analyze import analyze, normalize, replace_words
from .text.printable import CONTROL, clean

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
UNDERLINE = "\x1b[4m"
YELLOW = "\x1b[33m"
CYAN = "\x1b[36m"
GREEN = "\x1b[32m"

_ESCAPES = re.compile(r"\x1b\][^\x1b\x07]*(?:\x1b\\|\x07)|\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Style:
    """How to decorate output: colour (ANSI SGR) and hyperlinks (OSC 8), both off for plain text."""

    color: bool = False
    links: bool = False
    width: int = 100

    @classmethod
    def detect(cls, stream: TextIO, environ: Mapping[str, str]) -> "Style":
        """Colour and links on a terminal unless NO_COLOR is set (any value) or TERM is dumb."""
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        fancy = tty and "NO_COLOR" not in environ and environ.get("TERM", "") != "dumb"
        width = shutil.get_terminal_size((100, 24)).columns if tty else 100
        return cls(color=fancy, links=fancy, width=max(40, min(width, 160)))

    def paint(self, text: str, *codes: str) -> str:
        """Wrap text in SGR codes when colour is on."""
        return f"{''.join(codes)}{text}{RESET}" if self.color and codes else text

    def link(self, url: str, text: str | None = None) -> str:
        """An OSC 8 hyperlink on terminals that support it; the visible text is the URL itself.

        Only absolute http(s) URLs are linked: a terminal cannot open a site-relative path.
        """
        text = url if text is None else text
        if self.links and re.match(r"https?://", url) and not CONTROL.search(url):
            return f"\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\"
        return text


def strip_escapes(text: str) -> str:
    """Remove SGR and OSC 8 sequences (tests and width computations)."""
    return _ESCAPES.sub("", text)


def highlight(text: str, question: str, style: Style, matched: list[str] | None = None) -> str:
    """Mark the words of text that match the question's terms (same analyzer as the index).

    matched: the response's "terms" (the words matched in the question's language), when given.
    Matches are bold, underlined and yellow: visible without colour perception too.
    """
    text = clean(text)
    if not style.color:
        return text
    if matched is not None:
        wanted = set(matched)
        return replace_words(text, lambda word: style.paint(word, BOLD, UNDERLINE, YELLOW)
                             if normalize(word) in wanted else word)
    terms = set(analyze(question))
    if not terms:
        return text

    def mark(word: str) -> str:
        tokens = analyze(word)
        return style.paint(word, BOLD, UNDERLINE, YELLOW) if tokens and tokens[0] in terms else word

    return replace_words(text, mark)


def _source(result: dict) -> str:
    return clean(result["title"]) + (f" > {clean(result['section'])}" if result["section"] else "")


def confidence_word(confidence: float) -> str:
    """Confidence in words, so it is never conveyed by colour alone."""
    return "high" if confidence >= 0.75 else "medium" if confidence >= 0.35 else "low"


def format_answer(response: dict, style: Style = Style()) -> str:
    """The answer block of `faqbot ask`: question, text, source, deep link, score and confidence."""
    answer = response["answer"]
    question = response["question"]
    if not answer and response.get("uncertain") and response["results"]:
        # Close to several FAQ questions: none is presented as the answer.
        choices = [response["results"][0]] + list(response.get("did_you_mean") or [])
        lines = [style.paint("Not sure which question you mean:", BOLD)]
        lines.extend(f"  - {clean(r['question'] or r['text'])}  {style.paint(style.link(clean(r['link'])), DIM)}"
                     for r in choices)
        return "\n".join(lines)
    if not answer:
        return style.paint("No confident answer.", BOLD)
    lines = []
    if answer["question"]:
        lines.append(style.paint("Q: ", BOLD) + highlight(answer["question"], question, style, response.get("terms")))
    lines.append(highlight(answer["text"], question, style, response.get("terms")))
    lines.append("")
    lines.append(f"{style.paint('Source:', BOLD)} {style.paint(_source(answer), CYAN)}")
    lines.append(f"{style.paint('Link:', BOLD)}   {style.link(clean(answer['link']))}")
    score = f"{style.paint('Score:', BOLD)}  {answer['score']:.2f}   confidence {answer['confidence']:.0%}"
    if style.color:  # the plain line stays as scripts and tests know it
        score += f" ({confidence_word(answer['confidence'])})"
    lines.append(score)
    return "\n".join(lines)


def _fit(text: str, width: int) -> str:
    text = " ".join(clean(text).split())
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def alternatives(response: dict) -> list[dict]:
    """The passages worth listing: those that matched (score > 0), best first."""
    return [r for r in response["results"] if r["score"] > 0]


def format_table(response: dict, style: Style = Style(), limit: int | None = None) -> str:
    """A numbered table of the top passages: rank, score, confidence, passage and its link.

    The row of the chosen answer says "answer" in the Match column (not only a colour).
    """
    rows = alternatives(response)[:limit]
    if not rows:
        return "No matching passages."
    answer_id = response["answer"]["id"] if response["answer"] else None
    passage_width = max(style.width - 28, 30)
    header = f"{'#':>2}  {'Score':>6}  {'Conf.':>5}  {'Match':<6}  Passage"
    lines = [style.paint(header, BOLD)]
    for n, r in enumerate(rows, 1):
        label = r["question"] or r["text"]
        match = "answer" if r["id"] == answer_id else ""
        passage = _fit(f"{label} ({r['title']})", passage_width)
        row = f"{n:>2}  {r['score']:>6.2f}  {r['confidence']:>5.0%}  {match:<6}  {passage}"
        lines.append(style.paint(row, GREEN) if match else row)
        lines.append(f"{'':>26}{style.paint(style.link(clean(r['link'])), DIM)}")
    return "\n".join(lines)


def format_ask(response: dict, style: Style = Style(), top: int | None = None) -> str:
    """All of `faqbot ask`'s human output; with top, the table of the top passages follows."""
    out = format_answer(response, style)
    if top and alternatives(response):
        title = "Top passages:" if response["answer"] else "Closest passages:"
        out += "\n\n" + style.paint(title, BOLD) + "\n" + format_table(response, style, top)
    return out


def format_passage(result: dict, number: int, style: Style = Style(), question: str = "") -> str:
    """One passage in full (`:open N` in the chat)."""
    lines = [style.paint(f"Passage {number}: {_source(result)}", BOLD)]
    if result["question"]:
        lines.append(style.paint("Q: ", BOLD) + highlight(result["question"], question, style))
    lines.append(highlight(result["text"], question, style))
    lines.append(f"{style.paint('Link:', BOLD)} {style.link(clean(result['link']))}")
    lines.append(f"Score {result['score']:.2f}, confidence {result['confidence']:.0%}, id {result['id']}")
    return "\n".join(lines)
