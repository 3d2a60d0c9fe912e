"""Text -> search tokens: one analyzer for index time and query time, no nltk data needed."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .stopwords import ENGLISH_STOPWORDS

# Bump when tokens change: an index built by another analyzer is refused.
ANALYZER_VERSION = "1"

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
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


def _import_snowball():
    """Import nltk's Snowball stemmers without the optional scipy.stats that nltk pulls in.

    `import nltk` imports scipy.stats when scipy is installed (for collocation statistics we
    never use): about 2 s of start-up for every `faqbot ask`. Hiding scipy during the import
    makes nltk skip it; scipy stays importable for everyone else afterwards.
    """
    import sys

    hidden = {name: sys.modules.get(name) for name in ("scipy", "scipy.stats") if "nltk" not in sys.modules}
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        from nltk.stem.snowball import SnowballStemmer
    finally:
        for name, module in hidden.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return SnowballStemmer


@lru_cache(maxsize=None)
def _stemmer(language: str):
    return _import_snowball()(language).stem


_MAX_CACHED_WORDS = 2_000_000
_caches: dict[str, dict[str, str]] = {}


def _token(word: str, language: str) -> str:
    """The token for one raw word ("" for a stopword); possessive 's and apostrophes dropped."""
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    if not word or word in ENGLISH_STOPWORDS:
        return ""
    return _stemmer(language)(word)


def words(text: str) -> list[str]:
    """Split text into lowercase, Unicode-normalised raw words."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower().replace("’", "'"))


def analyze(text: str, lang: str | None = None) -> list[str]:
    """Lowercase, split into words, drop stopwords, stem (in the text's language when known)."""
    language = stemmer_language(lang)
    # Each distinct word is stemmed once per process: stemming dominates build time otherwise.
    cache = _caches.setdefault(language, {})
    out = []
    for word in words(text):
        token = cache.get(word)
        if token is None:
            token = _token(word, language)
            if len(cache) < _MAX_CACHED_WORDS:
                cache[word] = token
        if token:
            out.append(token)
    return out
