"""The on-disk index: its layout, the passage store's lines, the manifest, and loading it (Index).

faqbot.index.writer builds and publishes a version.

Layout of an index directory:

    manifest.json          the published version: format, counts, build time, content hash
    data/<version>/        plain .npy arrays and a JSON-lines passage store (no pickle)

A build writes data/<version>/ completely, then replaces manifest.json atomically (os.replace):
that rename is the commit point, so a crash at any moment leaves the previous version serving
and a reader never sees half of an index. Arrays are memory-mapped on load, so loading takes
milliseconds and worker processes share the same pages.

Besides the term table and each field's postings, a version holds a word table (words.npy, sorted
raw words; words.terms.npy, each one's term row or -1 for a stopword; words.slots.npy, a hash
table over them): every English word the build analysed. A loaded Index keeps it as
Index.word_table, which the query passes to faqbot.text.analyze to look a question's words up
before stemming them, so a fresh process answers without importing nltk. It is only a cache (older indexes without it, or without the hash
table, load and answer the same), hence no format version change. The spelling deletion table
(spelling.keys.npy, spelling.rows.npy; faqbot.index.spelling_table) is another such addition:
without it, faqbot.search.spelling finds the same corrections the slow way.
"""

from __future__ import annotations

import json
import mmap
from functools import cached_property
from pathlib import Path

import numpy as np

from ..text.analyze import ANALYZER_VERSION, WORD_TABLE_LANGUAGE, WordTable
from .bm25 import Postings, Tiers
from ..errors import IndexInvalid, IndexMissing
from ..model import Passage

FORMAT = "faqbot-index"
FORMAT_VERSION = 1
FIELDS = ("body", "question")
TIERED_FIELD, SIDE_FIELD = FIELDS  # top tiers (bm25.Tiers) of the body's long lists, with the question postings
TIER_PARTS = ("indptr", "docs", "weights", "qweights", "floor", "rest_bound", "top_bound")
MAX_TERM_BYTES = 40  # longer tokens are cut: they are noise (hashes, URLs) and bloat the term table
TERM_CACHE_SIZE = 200_000  # query words remembered per loaded index (bounded: questions are user input)


def index_text(passage: Passage) -> dict[str, str]:
    """The text each field indexes for a passage.

    body: everything a reader could be asking about (question, answer or paragraph, and where it
    stands: title and section, the title left out when it is only the article's first words);
    question: the FAQ question alone, so a question that matches it can rank its answer first.
    """
    context = f"{passage.title if passage.title_indexed else ''} {passage.section}"
    return {
        "body": f"{passage.question or ''} {passage.text} {context}",
        "question": passage.question or "",
    }


def encode_term(term: str) -> bytes:
    """A term as stored in the sorted term table."""
    return term.encode("utf-8")[:MAX_TERM_BYTES]


_STORE_JSON = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(..., ensure_ascii=False) builds on each call
_STORE_KEYS = ["id", "kind", "text", "question", "title", "section", "url", "link"]
_quote = json.encoder.encode_basestring  # the string escaping of json.dumps(..., ensure_ascii=False)


def store_line(passage: Passage) -> bytes:
    """A passage as one line of the JSON-lines passage store.

    The same bytes as json.dumps({**passage.to_dict(), "article": passage.article}, ensure_ascii=False),
    written out directly when to_dict() has the usual shape (a build writes a line per passage).
    """
    p = passage
    if _FAST_STORE_LINE:
        try:
            return (f'{{"id": {_quote(p.id)}, "kind": {_quote(p.kind)}, "text": {_quote(p.text)}, '
                    f'"question": {"null" if p.question is None else _quote(p.question)}, '
                    f'"title": {_quote(p.title)}, "section": {_quote(p.section)}, "url": {_quote(p.url)}, '
                    f'"link": {_quote(p.link)}, "article": {_quote(p.article)}}}\n').encode()
        except TypeError:  # a field that is not a string
            pass
    return _STORE_JSON.encode({**p.to_dict(), "article": p.article}).encode() + b"\n"


_FAST_STORE_LINE = list(Passage("i", "a", "faq", "q", "t", "ti", "s", "u", "l").to_dict()) == _STORE_KEYS


def read_manifest(index_dir: str | Path) -> dict:
    """The published manifest of an index directory; IndexMissing / IndexInvalid when unusable."""
    path = Path(index_dir) / "manifest.json"
    if not path.exists():
        raise IndexMissing(f"No index in {index_dir}. Run `faqbot index` first.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise IndexInvalid(f"The index manifest {path} is unreadable ({err}). Rebuild with `faqbot index --full`.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexInvalid(f"{path} is not a faqbot index manifest. Rebuild with `faqbot index --full`.")
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("analyzer") != ANALYZER_VERSION:
        raise IndexInvalid(
            f"The index in {index_dir} has format {manifest.get('format_version')} / analyzer "
            f"{manifest.get('analyzer')}; this faqbot reads format {FORMAT_VERSION} / analyzer "
            f"{ANALYZER_VERSION}. Rebuild with `faqbot index --full`."
        )
    return manifest


class Index:
    """A loaded, read-only index version: term table, per-field postings and the passage store."""

    def __init__(self, index_dir: Path, manifest: dict, arrays: dict[str, np.ndarray], store: np.memmap):
        self.dir = index_dir
        self.manifest = manifest
        self.version: str = manifest["version"]
        self.arrays = arrays
        self.terms = arrays["terms"]
        self.kinds = arrays["kinds"]
        self.n_passages = int(manifest["counts"]["passages"])
        # The analysis languages of its passages, most passages first (analyze.stemmer_language keys).
        self.languages: list[str] = list(manifest.get("languages") or {WORD_TABLE_LANGUAGE: 1})
        # Each passage's analysis language as a row of language_keys; None when the index holds one
        # language, or was written before it was recorded.
        self.passage_languages: np.ndarray | None = arrays.get("passage_languages")
        self.language_keys: list[str] = list(manifest.get("passage_language_keys") or self.languages[:1])
        self.fields = {
            f: Postings(arrays[f"{f}.indptr"], arrays[f"{f}.docs"], arrays[f"{f}.weights"], arrays[f"{f}.idf"])
            for f in FIELDS
        }
        # None for an index written before tiers existed: the kernel then prunes without them.
        self.tiers = Tiers(*(arrays[f"top.{part}"] for part in TIER_PARTS)) if all(
            f"top.{part}" in arrays for part in TIER_PARTS) else None
        self._store = store
        self._lines = store.base if isinstance(store.base, mmap.mmap) else None
        self._offsets = arrays["passages.offsets"]
        self._term_ids: dict[str, int | None] = {}
        self._max_weights: dict[tuple[int, int], float] = {}
        # Raw English words -> tokens as this build analysed them: spares stemming (and importing nltk)
        # for a question's words the index holds. Pass it to analyze() and token().
        self.word_table: WordTable | None = None
        if "words" in arrays and len(arrays["words"]) == len(arrays.get("words.terms", ())):
            self.word_table = WordTable(arrays["words"], arrays["words.terms"], self.terms, self._term_ids,
                                        TERM_CACHE_SIZE, arrays.get("words.slots"))

    @classmethod
    def load(cls, index_dir: str | Path) -> "Index":
        """Open the published version of index_dir, memory-mapped; refuse anything inconsistent."""
        index_dir = Path(index_dir)
        manifest = read_manifest(index_dir)
        data = index_dir / "data" / str(manifest.get("version", ""))
        arrays = {}
        try:
            for name, info in manifest["files"].items():
                path = data / name
                if path.stat().st_size != info["bytes"]:
                    raise IndexInvalid(f"{path} is truncated or changed since the build. Rebuild with `faqbot index --full`.")
                if name.endswith(".npy"):
                    # A plain ndarray view of the mapping: slicing a np.memmap costs microseconds more.
                    arrays[name[:-4]] = np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
            n = int(manifest["counts"]["passages"])
            store_path = data / "passages.jsonl"
            store = np.memmap(store_path, dtype=np.uint8, mode="r") if store_path.stat().st_size else np.zeros(0, np.uint8)
            if len(arrays["passages.offsets"]) != n + 1 or len(arrays["kinds"]) != n or len(
                    arrays.get("passage_languages", arrays["kinds"])) != n:
                raise IndexInvalid(f"The index in {index_dir} is inconsistent (passage counts differ). Rebuild it.")
        except IndexInvalid:
            raise
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise IndexInvalid(f"The index in {index_dir} is damaged ({err}). Rebuild with `faqbot index --full`.") from None
        return cls(index_dir, manifest, arrays, store)

    def term_id(self, term: str) -> int | None:
        """Row of term in the sorted term table, or None if no passage has it."""
        return self.term_ids([term])[0]

    def term_ids(self, terms: list[str]) -> list[int | None]:
        """Rows of several terms in the term table (None if unknown), with one binary search for all."""
        cache = self._term_ids
        missing = [t for t in terms if t not in cache]
        if not missing:
            return [cache[t] for t in terms]
        found: dict[str, int | None] = dict.fromkeys(missing)
        if len(self.terms):
            keys = np.array([encode_term(t) for t in missing], dtype=f"S{MAX_TERM_BYTES}")
            rows = np.minimum(np.searchsorted(self.terms, keys), len(self.terms) - 1)
            hits = self.terms[rows] == keys
            found = {t: int(r) if h else None for t, r, h in zip(missing, rows.tolist(), hits.tolist())}
        if len(cache) < TERM_CACHE_SIZE:
            cache.update(found)
        return [found[t] if t in found else cache[t] for t in terms]

    def max_weight(self, postings: Postings, term: int) -> float:
        """The largest weight in a term's postings (computed on first use, then remembered)."""
        key = (id(postings), term)
        value = self._max_weights.get(key)
        if value is None:
            lo, hi = int(postings.indptr[term]), int(postings.indptr[term + 1])
            value = self._max_weights[key] = float(postings.weights[lo:hi].max()) if hi > lo else 0.0
        return value

    def _line(self, i: int) -> dict:
        """The store line of passage i, parsed."""
        lo, hi = int(self._offsets[i]), int(self._offsets[i + 1])
        # Sliced from the mapping itself where there is one: bytes at once, none of np.memmap's
        # per-slice work; decoded here, so json skips guessing the encoding.
        lines = self._lines
        return json.loads((lines[lo:hi] if lines is not None else bytes(self._store[lo:hi])).decode("utf-8"))

    def passage(self, i: int) -> Passage:
        """Passage number i, decoded from the store on demand."""
        data = self._line(i)
        return Passage(
            id=data["id"], article=data["article"], kind=data["kind"], question=data["question"],
            text=data["text"], title=data["title"], section=data["section"], url=data["url"], link=data["link"],
        )

    def passage_dict(self, i: int) -> dict:
        """passage(i).to_dict(), read straight from the store line (what ask() returns for a result)."""
        data = self._line(i)
        data.pop("article", None)
        # A line of the usual shape (store_line's keys, in its order) is the dict itself.
        return data if _FAST_STORE_LINE and list(data) == _STORE_KEYS else self.passage(i).to_dict()

    def has_passage(self, passage_id: str) -> bool:
        """Whether a passage of this index has that id (for feedback, which names one)."""
        key = hash(_quote(passage_id)[1:-1].encode())
        hashes = self._id_hashes
        row = int(np.searchsorted(hashes, key))
        return row < len(hashes) and int(hashes[row]) == key

    @cached_property
    def _id_hashes(self) -> np.ndarray:
        """Sorted hashes of every passage id: 8 bytes a passage, read once from the store lines."""
        prefix, hashes = b'{"id": "', np.empty(self.n_passages, dtype=np.int64)
        offsets, store = self._offsets.tolist(), self._store
        for i in range(self.n_passages):
            head = bytes(store[offsets[i]: min(offsets[i + 1], offsets[i] + 512)])
            end = head.find(b'"', len(prefix))
            if head.startswith(prefix) and end != -1 and b"\\" not in head[:end]:
                hashes[i] = hash(head[len(prefix): end])
            else:  # an unusual id (escaped characters, over 500 bytes): read the whole line
                hashes[i] = hash(_quote(self.passage(i).id)[1:-1].encode())
        hashes.sort()
        return hashes

    @cached_property
    def _faq_ids(self) -> np.ndarray:
        return np.flatnonzero(self.kinds)

    def faq_ids(self) -> np.ndarray:
        """Indices of FAQ passages, in index order (found once per loaded version)."""
        return self._faq_ids
