"""Language tags -> how text in that language is analysed: its stemmer, stopwords and normalisation.

A BCP 47 tag ("de", "pt-BR", "zh_Hant") is reduced to its primary subtag; the analysis key is the
Snowball language name where one exists ("german"), else the primary subtag ("vi", "zh").
Stemming: nltk's Snowball for the languages it covers, PyStemmer (the same Snowball algorithms,
compiled) only for the ones nltk lacks. Chinese, Japanese, Korean and Thai are not stemmed: their
text is cut into character bigrams (analyze.words).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable, NamedTuple

from .stopwords import ENGLISH_STOPWORDS

ENGLISH = "english"

NLTK_SNOWBALL = {
    "ar": "arabic", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish",
    "fr": "french", "de": "german", "hu": "hungarian", "it": "italian", "no": "norwegian",
    "nb": "norwegian", "nn": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "es": "spanish", "sv": "swedish",
}
PYSTEMMER = {
    "el": "greek", "tr": "turkish", "hi": "hindi", "id": "indonesian", "ca": "catalan", "cs": "czech",
    "eu": "basque", "hy": "armenian", "lt": "lithuanian", "ne": "nepali", "fa": "persian",
    "pl": "polish", "sr": "serbian", "ta": "tamil", "ga": "irish", "et": "estonian", "yi": "yiddish",
}
# Written without spaces between words (Korean has them, but bigrams also find its compounds).
BIGRAM_LANGUAGES = frozenset({"zh", "ja", "ko", "th"})

_CODES = {name: code for code, name in {**PYSTEMMER, **NLTK_SNOWBALL}.items()}
_CODES["norwegian"] = "no"


def primary_tag(lang: str | None) -> str:
    """The primary language subtag of a tag, lowercase: "pt-BR" -> "pt"; "" for none."""
    return (lang or "").strip().replace("_", "-").split("-")[0].lower()


def analysis_language(lang: str | None) -> str:
    """The analysis key of a language tag: English when none is given."""
    code = primary_tag(lang) or "en"
    return NLTK_SNOWBALL.get(code) or PYSTEMMER.get(code) or code


def language_code(key: str) -> str:
    """The language code of an analysis key: "german" -> "de", "zh" -> "zh"."""
    return _CODES.get(key, key)


_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # harakat, tatweel
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


def normalize_arabic(word: str) -> str:
    """Arabic without vowel marks or tatweel, and one form of alef, ya and ta marbuta."""
    return _ARABIC_MARKS.sub("", word).translate(_ARABIC_LETTERS)


_NORMALIZERS: dict[str, Callable[[str], str]] = {"arabic": normalize_arabic}


class Analysis(NamedTuple):
    """How words of one language become tokens."""

    stopwords: frozenset
    stem: Callable[[str], str] | None
    normalize: Callable[[str], str] | None


@lru_cache(maxsize=1)
def _stopword_lists() -> dict[str, list[str]]:
    return json.loads((Path(__file__).with_name("stopwords.json")).read_text(encoding="utf-8"))


def stopwords(key: str) -> frozenset:
    """The stopwords of an analysis key (English: the project's own list; none for unlisted languages)."""
    if key == ENGLISH:
        return ENGLISH_STOPWORDS
    return frozenset(_stopword_lists().get(language_code(key), ()))


@lru_cache(maxsize=None)
def analysis(key: str) -> Analysis:
    """Stopwords, stemmer and normaliser of an analysis key (stemmers imported on first use)."""
    normalize = _NORMALIZERS.get(key)
    words = stopwords(key)
    if normalize is not None:
        words = frozenset(map(normalize, words))
    return Analysis(words, _stemmer(key), normalize)


def _stemmer(key: str) -> Callable[[str], str] | None:
    if key in _CODES and key not in PYSTEMMER.values():
        from .snowball import nltk_stemmer

        return nltk_stemmer(key)
    if key in PYSTEMMER.values():
        import Stemmer

        return Stemmer.Stemmer(key).stemWord
    return None
