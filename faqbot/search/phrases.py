"""Whether the question's words stand together in a passage as they do in the question.

In languages whose indexed terms are short (Vietnamese syllables, Thai and CJK character bigrams)
an off-topic question finds most of its terms scattered over a long passage ("điện thoại", phone:
"điện" and "thoại" each occur elsewhere), so term coverage alone reads it as a match. Adjacent
pairs of the question's terms found adjacent in the passage are the evidence that its words,
not only their pieces, occur there. The same definition in every language (docs/languages.md).
"""

from __future__ import annotations

from ..index.store import Index
from ..text.analyze import analyze


def phrase_coverage(sequence: tuple[str, ...] | list[str], passage_terms: list[str]) -> float:
    """Share of the question's adjacent term pairs that are adjacent in the passage (0 with under two terms)."""
    pairs = list(zip(sequence, sequence[1:]))
    if not pairs:
        return 0.0
    present = set(zip(passage_terms, passage_terms[1:]))
    return sum(pair in present for pair in pairs) / len(pairs)


def passage_phrase_coverage(index: Index, sequence: tuple[str, ...], language: str, doc: int) -> float:
    """phrase_coverage of a question's analysed terms in passage doc (its FAQ question and text)."""
    if len(sequence) < 2:
        return 0.0
    passage = index.passage(doc)
    text = f"{passage.question}\n{passage.text}" if passage.question else passage.text
    return phrase_coverage(sequence, analyze(text, language, index.word_table))
