"""Text -> term ids for an index build: each distinct piece of text and raw word analysed once."""

from __future__ import annotations

from itertools import chain

from ..model import Passage
from ..text.analyze import WordTable, stemmer_language, token, words
from .store import encode_term, index_text


MAX_CACHED_PIECES = 2_000_000  # distinct whitespace-separated pieces of text remembered per build


class TermCoder:
    """Text -> term ids per index field; each distinct whitespace-separated piece and raw word analysed once.

    The words of a text are those of its whitespace-separated pieces, in order (analyze.words:
    no word holds whitespace, and neither NFKC nor lowercasing looks across it), so each distinct
    piece's term ids are cached; each new raw word is analysed (analyze.token) and its token numbered in vocab.
    word_ids (per language: raw word -> term id, -1 for a stopword) gives the index's word table.
    With log=True, new terms and words are also listed (keys, word_log) for a process that builds
    the index from another process's ids.
    """

    def __init__(self, log: bool = False):
        self.vocab: dict[bytes, int] = {}
        self.word_ids: dict[str, dict[str, int]] = {}
        self.pieces: dict[str, dict[str, tuple[int, ...]]] = {}
        self.keys: list[bytes] | None = [] if log else None
        self.word_log: list[tuple[str, str, int]] | None = [] if log else None
        self.word_table: WordTable | None = None  # the previous index's, when a build has one (analyze.token)

    def passage_ids(self, passage: Passage, lang: str | None = None) -> dict[str, list[int]]:
        """The term ids of each field of a passage (stopwords left out), as pipeline.passage_tokens gives its tokens."""
        language = stemmer_language(lang)
        pieces = self.pieces.get(language)
        if pieces is None:
            pieces = self.pieces[language] = {}
        get = pieces.__getitem__
        out = {}
        for field, text in index_text(passage).items():
            parts = text.split()
            try:
                out[field] = list(chain.from_iterable(map(get, parts)))
            except KeyError:
                if len(pieces) < MAX_CACHED_PIECES:
                    for part in set(parts).difference(pieces):
                        pieces[part] = self._piece_ids(part, language)
                    out[field] = list(chain.from_iterable(map(get, parts)))
                else:
                    out[field] = [i for part in parts for i in (pieces.get(part) or self._piece_ids(part, language))]
        return out

    def _piece_ids(self, piece: str, language: str) -> tuple[int, ...]:
        known = self.word_ids.setdefault(language, {})
        out = []
        for word in words(piece):
            term = known.get(word)
            if term is None:
                term = self.add_word(word, language)
            if term >= 0:
                out.append(term)
        return tuple(out)

    def add_word(self, word: str, language: str, term: int | None = None) -> int:
        """Record a raw word (with its term id when known), analysing it if need be; its term id."""
        known = self.word_ids.setdefault(language, {})
        if word in known:
            return known[word]
        if term is None:
            tok = token(word, language, self.word_table)
            term = self.term(encode_term(tok)) if tok else -1
        known[word] = term
        if self.word_log is not None:
            self.word_log.append((language, word, term))
        return term

    def term(self, key: bytes) -> int:
        """The id of an encode_term()ed token, numbered now if new."""
        term = self.vocab.get(key)
        if term is None:
            term = self.vocab[key] = len(self.vocab)
            if self.keys is not None:
                self.keys.append(key)
        return term
