"""Text -> search tokens: one analyzer for index time and query time, no nltk data needed."""

from __future__ import annotations

import re
import unicodedata
import zlib
from typing import Callable

import numpy as np

from .languages import ENGLISH, analysis, analysis_language
from .snowball import nltk_stemmer
from .stopwords import ENGLISH_STOPWORDS

# Bump when tokens change: an index built by another analyzer is refused.
ANALYZER_VERSION = "3"


def _combining_marks() -> str:
    """The combining marks (Unicode M*) of the scripts that write vowels with them, as a regex class body.

    re's \\w leaves them out, which would cut Hindi, Thai or Bengali words at every vowel sign.
    """
    marks = [chr(c) for c in range(0x0300, 0x1E00) if unicodedata.category(chr(c)).startswith("M")]
    marks += [chr(c) for c in range(0xA8E0, 0xA900) if unicodedata.category(chr(c)).startswith("M")]
    return re.escape("".join(marks))


_MARKS = _combining_marks()
# Underscores are made spaces by normalize(), so \w here means letters, digits and marks.
_WORD = re.compile(rf"[\w{_MARKS}]+(?:'[\w{_MARKS}]+)*")
# Scripts written without spaces between words (Thai, kana, CJK ideographs, Hangul): cut into bigrams.
_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_UNSPACED_RUN = re.compile(f"[{_UNSPACED}]+")
_UNSPACED_PARTS = re.compile(f"[{_UNSPACED}]+|[^{_UNSPACED}]+")


def stemmer_language(lang: str | None) -> str:
    """The analysis key of a language tag ("en-GB" -> "english", "de" -> "german", "zh" -> "zh")."""
    return analysis_language(lang)


def load_stemmer(lang: str | None = None) -> None:
    """Import and set up the stemmer now rather than at the first word no word table holds.

    A server calls it at start-up (importing nltk takes a few hundred milliseconds); a one-shot
    `faqbot ask` does not, so a question on words of the index needs no nltk at all.
    """
    analysis(stemmer_language(lang))


_MAX_CACHED_WORDS = 2_000_000
_caches: dict[str, dict[str, str]] = {}
WORD_TABLE_LANGUAGE = ENGLISH  # the language questions are analysed in (analyze(text) with no lang)


def _token(word: str, language: str) -> str:
    """The token for one raw word ("" for a stopword).

    English: possessive 's and apostrophes dropped. Elsewhere the longest part between
    apostrophes is the word: French "l'homme" -> "homme", Turkish "Türkiye'nin" -> "türkiye".
    """
    if language == ENGLISH:
        if word.endswith("'s"):
            word = word[:-2]
        word = word.replace("'", "")
        if not word or word in ENGLISH_STOPWORDS:
            return ""
        return nltk_stemmer(ENGLISH)(word)
    if "'" in word:
        word = max(word.split("'"), key=len)
    if _UNSPACED_RUN.match(word):
        return word  # a character bigram
    stopwords, stem, normalize_word = analysis(language)
    if normalize_word is None:
        if not word or word in stopwords:
            return ""
        return stem(word) if stem is not None else word
    normal = normalize_word(word)
    if not normal or normal in stopwords:
        return ""
    # The stemmer reads the word as written (Arabic: ta marbuta marks the suffixes it removes); its stem is normalised.
    return normalize_word(stem(word)) if stem is not None else normal


def _slot_mask(n_keys: int) -> int:
    """Home slots of a hash table over n_keys keys: a power of two, at least twice n_keys."""
    return (1 << max(2 * n_keys - 1, 1).bit_length()) - 1


def hash_slots(keys: np.ndarray) -> np.ndarray:
    """An open-addressing hash table over keys (fixed-width bytes): slot -> row of keys, -1 if empty.

    A key's home slot is crc32(key) & mask (stable across processes, unlike hash()); a lookup walks
    forward from it to the key or an empty slot. The table never wraps around: it runs on past
    the mask as far as the last displaced key needs, and always ends with an empty slot.
    """
    n = len(keys)
    homes = np.array([zlib.crc32(k) for k in keys.tolist()], dtype=np.int64) & _slot_mask(n)
    order = np.argsort(homes, kind="stable")
    # Linear probing in home order puts key i at max(home_i, slot of key i-1 + 1).
    steps = np.arange(n)
    slots_of = steps + np.maximum.accumulate(homes[order] - steps) if n else steps
    slots = np.full(max(_slot_mask(n) + 1, int(slots_of[-1]) + 2 if n else 1), -1, dtype=np.int32)
    slots[slots_of] = order
    return slots


class WordTable:
    """Raw words -> their tokens, as an index build analysed them: a cache that spares stemming.

    words: sorted fixed-width bytes (UTF-8); rows: each word's row in terms (the index's sorted
    term table), -1 for a stopword; slots: hash_slots(words), or None for an index written before
    them (then a binary search finds a word). Only words and tokens shorter than the width are in
    it, so a hit is exact. Memory-mapped from the index: a fresh process answers a question
    without importing nltk when the question's words occur in the indexed text.
    """

    def __init__(self, words: np.ndarray, rows: np.ndarray, terms: np.ndarray, term_rows: dict | None = None,
                 max_term_rows: int = 0, slots: np.ndarray | None = None):
        self.words, self.rows, self.terms = words, rows, terms
        self.width = words.dtype.itemsize
        self.mask = _slot_mask(len(words))
        self.slots = slots if slots is not None and len(slots) > self.mask else None
        # The index's term -> row cache: filled here with the rows found, so that looking the
        # question's tokens up in the index (Index.term_ids) needs no second search.
        self.term_rows, self.max_term_rows = term_rows, max_term_rows

    def lookup(self, raw: list[str]) -> dict[str, str]:
        """The tokens of those of raw words the table holds."""
        if not len(self.words):
            return {}
        encoded = [(w, w.encode("utf-8", "surrogatepass")) for w in raw]
        encoded = [(w, b) for w, b in encoded if len(b) < self.width]
        rows = self._hashed(encoded) if self.slots is not None else self._searched(encoded)
        found = {w: (self.terms[r].decode("utf-8") if r >= 0 else "") for w, r in rows.items()}
        term_rows = self.term_rows
        if term_rows is not None and len(term_rows) < self.max_term_rows:
            for w, r in rows.items():
                if r >= 0:
                    term_rows[found[w]] = r
        return found

    def _hashed(self, encoded: list[tuple[str, bytes]]) -> dict[str, int]:
        # A few words per question: a Python loop beats numpy's per-call overhead here.
        slots, words, mask, rows = self.slots, self.words, self.mask, {}
        for w, key in encoded:
            slot = zlib.crc32(key) & mask
            while (row := int(slots[slot])) >= 0:
                if words[row] == key:
                    rows[w] = int(self.rows[row])
                    break
                slot += 1
        return rows

    def _searched(self, encoded: list[tuple[str, bytes]]) -> dict[str, int]:
        if not encoded:
            return {}
        keys = np.array([b for _, b in encoded], dtype=self.words.dtype)
        pos = np.minimum(np.searchsorted(self.words, keys), len(self.words) - 1)
        hits = (self.words[pos] == keys).tolist()
        return {w: r for (w, _), hit, r in zip(encoded, hits, self.rows[pos].tolist()) if hit}


def token(word: str, language: str = WORD_TABLE_LANGUAGE, table: WordTable | None = None) -> str:
    """The token of one raw word from words() ("" for a stopword), stemmed once per process.

    table: an index's word table (Index.word_table), looked up before stemming an English word;
    any table gives the same tokens as stemming (same ANALYZER_VERSION, checked when an index loads).
    """
    cache = _caches.setdefault(language, {})
    out = cache.get(word)
    if out is None:
        table = table if language == WORD_TABLE_LANGUAGE else None
        out = table.lookup([word]).get(word) if table is not None else None
        if out is None:
            out = _token(word, language)
        if len(cache) < _MAX_CACHED_WORDS:
            cache[word] = out
    return out


def word_tokens(language: str = WORD_TABLE_LANGUAGE) -> dict[str, str]:
    """The raw words of language analysed so far in this process, with their tokens (token()'s cache; read only)."""
    return _caches.setdefault(language, {})


def normalize(text: str) -> str:
    """Text as words() reads it: NFKC, lowercase, typographic apostrophes made plain."""
    return unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("_", " ")


# ASCII letters, digits and the apostrophe kept, every other byte a space: on ASCII text, _WORD's
# words lie inside the runs this leaves, and a run without an apostrophe is one word.
_ASCII_RUNS = bytes(c if chr(c).isalnum() or c == 39 else 32 for c in range(128)) + b" " * 128


def _ascii_words(text: str) -> list[str]:
    """_WORD.findall(text) for ASCII text, by a byte table and str.split (about twice as fast)."""
    runs = text.encode("ascii").translate(_ASCII_RUNS).decode("ascii").split()
    if "'" not in text:
        return runs
    return [w for run in runs for w in (_WORD.findall(run) if "'" in run else (run,))]


def replace_words(text: str, replace: Callable[[str], str]) -> str:
    """text with each word, as words() finds them (before normalising), replaced by replace(word)."""
    return _WORD.sub(lambda match: replace(match.group(0)), text)


def words(text: str) -> list[str]:
    """Split text into lowercase, Unicode-normalised raw words; unspaced scripts into character bigrams.

    A run of Chinese, Japanese, Korean or Thai characters gives its overlapping character pairs
    (one character alone stays a word): the Lucene CJK approach, no dictionary needed.
    """
    text = normalize(text)
    if text.isascii():  # a flag, no scan
        return _ascii_words(text)
    found = _WORD.findall(text)
    if _UNSPACED_RUN.search(text) is None:
        return found
    out = []
    for word in found:
        if _UNSPACED_RUN.search(word) is None:
            out.append(word)
            continue
        for part in _UNSPACED_PARTS.findall(word):
            if not _UNSPACED_RUN.match(part) or len(part) == 1:
                out.append(part)
            else:
                out.extend(part[i:i + 2] for i in range(len(part) - 1))
    return out


def analyze(text: str, lang: str | None = None, table: WordTable | None = None) -> list[str]:
    """Lowercase, split into words, drop stopwords, stem (in the text's language when known).

    table: an index's word table, as for token().
    """
    language = stemmer_language(lang) if lang else WORD_TABLE_LANGUAGE
    # Each distinct word is stemmed once per process: stemming dominates build time otherwise.
    cache = _caches.setdefault(language, {})
    raw = words(text)
    try:
        tokens = list(map(cache.__getitem__, raw))
    except KeyError:
        missing = list(dict.fromkeys(w for w in raw if w not in cache))
        table = table if language == WORD_TABLE_LANGUAGE else None
        found = table.lookup(missing) if table is not None else {}
        for word in missing:
            value = found.get(word)
            if value is None:
                value = _token(word, language)
            if len(cache) < _MAX_CACHED_WORDS:
                cache[word] = value
            else:
                found[word] = value
        get = cache.get
        tokens = [get(w) or found.get(w, "") for w in raw]
    return [t for t in tokens if t]
