"""Text -> search tokens: one analyzer for index time and query time, no nltk data needed."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nltk.stem.snowball import SnowballStemmer

from .stopwords import ENGLISH_STOPWORDS

# Bump when tokens change: an index built by another analyzer is refused.
ANALYZER_VERSION = "1"

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_LANGUAGES = {
    "ar": "arabic", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish",
    "fr": "french", "de": "german", "hu": "hungarian", "it": "italian", "no": "norwegian",
    "nb": "norwegian", "nn": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "es": "spanish", "sv": "swedish",
}


def stemmer_language(lang: str | None) -> str:
    """Map a language tag ("en-GB", "de") to a Snowball language, English when unknown."""
    primary = (lang or "en").split("-")[0].split("_")[0].lower()
    return _LANGUAGES.get(primary, "english")


@lru_cache(maxsize=None)
def _stemmer(language: str):
    return SnowballStemmer(language).stem


@lru_cache(maxsize=500_000)
def _stem(word: str, language: str) -> str:
    # Each distinct word is stemmed once per process: stemming dominates build time otherwise.
    return _stemmer(language)(word)


def words(text: str) -> list[str]:
    """Split text into lowercase, Unicode-normalised words (possessive 's dropped)."""
    text = unicodedata.normalize("NFKC", text).lower()
    out = []
    for word in _WORD.findall(text):
        word = word.replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        out.append(word.replace("'", ""))
    return out


def analyze(text: str, lang: str | None = None) -> list[str]:
    """Lowercase, split into words, drop stopwords, stem (in the text's language when known)."""
    language = stemmer_language(lang)
    return [_stem(w, language) for w in words(text) if w not in ENGLISH_STOPWORDS]
