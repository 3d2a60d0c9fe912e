"""Which language a text is written in: py3langid (offline, numpy model, no pickle), and how sure it is.

py3langid beats a detector of our own: 97 languages from character n-grams, 99% of the dev
questions right in 11 languages (benchmarks/multilingual.py --detection), about 0.03 ms a question.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from .languages import analysis_language, language_code

# Below this probability a question's language is "unsure": it is searched in every language of the index.
SURE = 0.9
# Articles shorter than this are not detected (too little text to tell); the default language applies.
MIN_ARTICLE_CHARS = 40

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


_among: list[tuple[str, ...] | None] = [None]


def load_detector() -> None:
    """Load the model now (about 0.8 s) rather than at the first question that needs it."""
    _identifier()


def detect(text: str, among: tuple[str, ...] | None = None) -> tuple[str, float]:
    """The language code of text and its probability; among limits the candidates (language codes)."""
    identifier = _identifier()
    with _lock:
        if _among[0] != among:
            identifier.set_languages(list(among) if among else None)
            _among[0] = among
        code, probability = identifier.classify(text)
    return str(code), float(probability)


def article_language(text: str, default: str | None = None) -> tuple[str | None, str]:
    """(language tag, how it was decided) for an article that declares none: "detected" or "default"."""
    if len(text) >= MIN_ARTICLE_CHARS:
        code, probability = detect(text[:2000])
        if probability >= SURE:
            return code, "detected"
    return default, "default"


def question_languages(question: str, held: list[str], lang: str | None = None) -> list[str]:
    """The analysis keys to search a question in, the likeliest first.

    held: the index's languages (analysis keys). A given lang wins when the index holds passages
    in it (a page's language says little about a question to an index without that language);
    an index of one language analyses everything in it; otherwise the detector picks among the
    held languages, and when it is unsure every held language is searched.
    """
    if lang and (analysis_language(lang) in held or not held):
        return [analysis_language(lang)]
    if len(held) <= 1:
        return list(held) or [analysis_language(None)]
    codes = tuple(sorted(language_code(k) for k in held))
    code, probability = detect(question, codes)
    best = analysis_language(code)
    if best not in held:
        return list(held)
    if probability >= SURE:
        return [best]
    return [best] + [k for k in held if k != best]
