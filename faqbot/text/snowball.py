"""nltk's Snowball stemmers, imported only when a word needs one (importing nltk takes a few hundred ms)."""

from __future__ import annotations

from functools import lru_cache


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
def nltk_stemmer(language: str):
    """nltk's Snowball stemmer of a language, as a function of one word."""
    return _import_snowball()(language).stem
