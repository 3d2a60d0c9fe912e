"""Build, publish and load the on-disk index.

Layout of an index directory:

    manifest.json          the published version: format, counts, build time, content hash
    data/<version>/        plain .npy arrays and a JSON-lines passage store (no pickle)

A build writes data/<version>/ completely, then replaces manifest.json atomically (os.replace):
that rename is the commit point, so a crash at any moment leaves the previous version serving
and a reader never sees half of an index. Arrays are memory-mapped on load, so loading takes
milliseconds and worker processes share the same pages.

Besides the term table and each field's postings, a version holds a word table (words.npy, sorted
raw words; words.terms.npy, each one's term row or -1 for a stopword; words.slots.npy, a hash
table over them): every English word the build analysed. Loading an index hands it to
faqbot.text.analyze, which looks a question's words up there before stemming, so a fresh process
answers without importing nltk. It is only a cache (older indexes without it, or without the hash
table, load and answer the same), hence no format version change. The spelling deletion table
(spelling.keys.npy, spelling.rows.npy; faqbot.index.spelling_table) is another such addition:
without it, faqbot.search.spelling finds the same corrections the slow way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mmap
import os
import shutil
import tempfile
import uuid
from collections import Counter
from itertools import chain, islice
from functools import cached_property
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from ..text.analyze import (
    ANALYZER_VERSION, WORD_TABLE_LANGUAGE, WordTable, hash_slots, stemmer_language, token, words,
)
from .bm25 import B, EPSILON, K1, Postings, Tiers, count_pairs, postings_from_chunks, top_tiers
from ..errors import IndexInvalid, IndexMissing
from ..model import Passage
from .spelling_table import deletion_arrays

FORMAT = "faqbot-index"
FORMAT_VERSION = 1
FIELDS = ("body", "question")
TIERED_FIELD, SIDE_FIELD = FIELDS  # top tiers (bm25.Tiers) of the body's long lists, with the question postings
TIER_PARTS = ("indptr", "docs", "weights", "qweights", "floor", "rest_bound", "top_bound")
MAX_TERM_BYTES = 40  # longer tokens are cut: they are noise (hashes, URLs) and bloat the term table
MAX_CACHED_PIECES = 2_000_000  # distinct whitespace-separated pieces of text remembered per build
TERM_CACHE_SIZE = 200_000  # query words remembered per loaded index (bounded: questions are user input)
KEEP_VERSIONS = 2  # the published version and the one before it, for readers still holding it


def index_text(passage: Passage) -> dict[str, str]:
    """The text each field indexes for a passage.

    body: everything a reader could be asking about (question, answer or paragraph, and where it
    stands); question: the FAQ question alone, so a question that matches it can rank its answer first.
    """
    context = f"{passage.title} {passage.section}"
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


@dataclass
class BuiltIndex:
    """What a build produced."""

    manifest: dict
    version: str


class _FieldBuffer:
    """Token ids of one field, turned into (doc, term, tf) triples a chunk at a time to bound memory."""

    CHUNK_TOKENS = 2_000_000

    def __init__(self):
        self.pending: list[int] = []  # term ids; -1 (a stopword) is dropped when counted
        self.pending_lengths: list[int] = []  # tokens per document, stopwords not counted
        self.first_pending_doc = 0
        self.lengths: list[np.ndarray] = []
        self.pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # count_pairs() chunks

    def add(self, term_ids: list[int], length: int | None = None) -> None:
        self.pending.extend(term_ids)
        self.pending_lengths.append(len(term_ids) if length is None else length)
        if len(self.pending) >= self.CHUNK_TOKENS:
            self.flush()

    def add_many(self, term_ids: np.ndarray, lengths: np.ndarray) -> None:
        """Several documents' term ids at once, counted straight away as one chunk."""
        self.flush()
        lengths = np.asarray(lengths, dtype=np.int64)
        if len(lengths):
            self.pairs.append(count_pairs(np.asarray(term_ids, dtype=np.int64), lengths, self.first_pending_doc))
            self.lengths.append(lengths.astype(np.int32))
            self.first_pending_doc += len(lengths)

    def flush(self) -> None:
        if not self.pending_lengths:
            return
        lengths = np.array(self.pending_lengths, dtype=np.int64)
        ids = np.array(self.pending, dtype=np.int64)
        self.pending, self.pending_lengths = [], []
        if len(ids) != lengths.sum():
            ids = ids[ids >= 0]
        self.pairs.append(count_pairs(ids, lengths, self.first_pending_doc))
        self.lengths.append(lengths.astype(np.int32))
        self.first_pending_doc += len(lengths)

    def postings(self, rank: np.ndarray, n_terms: int) -> Postings:
        """Final postings, with provisional term ids replaced by their rank in the sorted term table."""
        self.flush()
        doc_len = np.concatenate(self.lengths).astype(np.float64) if self.lengths else np.zeros(0)
        self.lengths = []
        pairs, self.pairs = self.pairs, []
        return postings_from_chunks(pairs, doc_len, n_terms, term_map=rank)


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


class IndexWriter:
    """Writes a new index version passage by passage, then publishes it atomically.

    Memory stays bounded: passages go straight to the store file and tokens become compact
    (doc, term, tf) arrays as they arrive. crash_hook(step) is called between steps; tests use
    it to simulate a crash mid-build.
    """

    def __init__(self, index_dir: str | Path, crash_hook=None):
        self.dir = Path(index_dir)
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        self.hook = crash_hook or (lambda step: None)
        self.staging = Path(tempfile.mkdtemp(prefix=".build-", dir=self.dir / "data"))
        self.coder = TermCoder()
        self.fields = {f: _FieldBuffer() for f in FIELDS}
        self.kinds: list[int] = []
        self.offsets: list[int] = [0]
        self.store = open(self.staging / "passages.jsonl", "wb")
        self.store_digest = hashlib.sha256()
        self.languages: Counter = Counter()  # analysis key -> passages analysed in it (the manifest's "languages")

    @property
    def vocab(self) -> dict[bytes, int]:
        """encode_term()ed token -> provisional term id (numbered as first seen)."""
        return self.coder.vocab

    def add(self, passage: Passage, tokens: dict[str, list[str]], lang: str | None = None) -> None:
        """Append one passage with its tokens for each field in FIELDS (analysed in lang's language)."""
        self.languages[stemmer_language(lang)] += 1
        term = self.coder.term
        for field, buffer in self.fields.items():
            buffer.add([term(encode_term(t)) for t in tokens[field]])
        self._append(store_line(passage), passage.kind == "faq")

    def add_passage(self, passage: Passage, lang: str | None = None) -> None:
        """Append one passage, analysed here: same index as add(passage, pipeline.passage_tokens(passage, lang)).

        Each distinct word is analysed once per build (TermCoder); the English ones become the
        index's word table.
        """
        for field, ids in self.coder.passage_ids(passage, lang).items():
            self.fields[field].add(ids)
        self.languages[stemmer_language(lang)] += 1
        self._append(store_line(passage), passage.kind == "faq")

    def add_passages(self, passages: Iterable[tuple[Passage, str | None]], workers: int = 2, batch: int = 2000) -> None:
        """add_passage() for many (passage, lang) pairs, analysed in worker processes: the same index.

        Batches go to `workers` processes in turn (at most a few in flight, so memory stays
        bounded); their term ids are renumbered into this writer's as the results come back in order.
        """
        if workers < 1:
            for passage, lang in passages:
                self.add_passage(passage, lang)
            return
        import multiprocessing
        from collections import deque
        from concurrent.futures import ProcessPoolExecutor

        mapping: dict[int, np.ndarray] = {}  # worker pid -> its term ids' ids here
        pending: deque = deque()
        items = iter(passages)
        # A worker that dies raises BrokenProcessPool here (the caller aborts the build) rather than hanging.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                while True:
                    while len(pending) < 2 * workers:
                        rows = [(_passage_row(p), lang) for p, lang in islice(items, batch)]
                        if not rows:
                            break
                        self.languages.update(stemmer_language(lang) for _, lang in rows)
                        pending.append(pool.submit(_coded_batch, rows))
                    if not pending:
                        break
                    self._add_coded(pending.popleft().result(), mapping)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise

    def _add_coded(self, result: tuple, mapping: dict[int, np.ndarray]) -> None:
        pid, keys, word_log, lines, faq, fields = result
        local = mapping.get(pid, np.zeros(0, np.int64))
        if keys:
            local = mapping[pid] = np.concatenate([local, np.array([self.coder.term(k) for k in keys], np.int64)])
        for language, word, term in word_log:
            self.coder.add_word(word, language, int(local[term]) if term >= 0 else -1)
        self.add_encoded(lines, list(faq), {f: (local[ids], lengths) for f, (ids, lengths) in fields.items()})

    def use_vocabulary(self, vocab: dict[bytes, int]) -> None:
        """Number terms from a known table (ids 0..n-1) before adding passages, e.g. one kept between builds.

        Terms no passage uses are left out of the published term table, so the index is the same as
        one built without it.
        """
        if len(self.kinds):
            raise ValueError("use_vocabulary() must come before the first passage")
        self.coder.vocab = vocab

    def add_encoded(self, lines: bytes, faq: list[int], term_ids: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Append several passages at once: same result as add() on each, with no per-token Python work.

        lines: their store_line()s joined; term_ids: per field, every token as its id in self.vocab
        (see use_vocabulary), and each passage's token count. faqbot.index.incremental uses it for cached passages.
        """
        for field, buffer in self.fields.items():
            ids, counts = term_ids[field]
            buffer.add_many(ids, counts)
        ends = np.flatnonzero(np.frombuffer(lines, dtype=np.uint8) == 10) + 1 + self.offsets[-1]
        self.store.write(lines)
        self.store_digest.update(lines)
        self.offsets.extend(ends.tolist())
        self.kinds.extend(faq)

    def _append(self, line: bytes, faq: bool) -> None:
        self.store.write(line)
        self.store_digest.update(line)
        self.offsets.append(self.offsets[-1] + len(line))
        self.kinds.append(faq)

    def publish(self, articles: int, extra_arrays: dict[str, np.ndarray] | None = None, extra_manifest: dict | None = None) -> BuiltIndex:
        """Finish every file, then make this version the published one (the manifest swap)."""
        try:
            return self._publish(articles, extra_arrays or {}, extra_manifest or {})
        except BaseException:
            self.abort()
            raise

    def _publish(self, articles: int, extra_arrays: dict, extra_manifest: dict) -> BuiltIndex:
        self.store.flush()
        os.fsync(self.store.fileno())
        self.store.close()
        files = {"passages.jsonl": {"bytes": self.offsets[-1], "sha256": self.store_digest.hexdigest()}}
        self.hook("passages")
        used = np.zeros(len(self.vocab), dtype=bool)  # a vocabulary from use_vocabulary() may hold unused terms
        for buffer in self.fields.values():
            buffer.flush()
            for _, chunk_terms, _ in buffer.pairs:
                used[chunk_terms] = True
        terms = sorted(t for t, i in self.vocab.items() if used[i]) if not used.all() else sorted(self.vocab)
        rank = np.full(len(self.vocab), -1, dtype=np.int32)
        rank[[self.vocab[t] for t in terms]] = np.arange(len(terms), dtype=np.int32)
        word_table, word_rows = self._word_table(rank)
        arrays = {
            "terms": np.array(terms, dtype=f"S{MAX_TERM_BYTES}") if terms else np.zeros(0, "S1"),
            "kinds": np.array(self.kinds, dtype=np.uint8),
            "passages.offsets": np.array(self.offsets, dtype=np.int64),
            "words": word_table,
            "words.terms": word_rows,
            "words.slots": hash_slots(word_table),
            **deletion_arrays(terms, MAX_TERM_BYTES),
            **extra_arrays,
        }
        n_terms = len(terms)
        del terms, word_table, word_rows
        for name, array in arrays.items():
            files[f"{name}.npy"] = _write_npy(self.staging / f"{name}.npy", array)
        del arrays
        for field, buffer in self.fields.items():
            postings = buffer.postings(rank, n_terms)
            for part in ("indptr", "docs", "weights", "idf"):
                files[f"{field}.{part}.npy"] = _write_npy(self.staging / f"{field}.{part}.npy", getattr(postings, part))
            if field == SIDE_FIELD:  # the body postings again, from their files: no second copy in memory
                body = Postings(*(np.load(self.staging / f"{TIERED_FIELD}.{part}.npy", mmap_mode="r")
                                  for part in ("indptr", "docs", "weights", "idf")))
                tiers = top_tiers(body, postings)
                for part in TIER_PARTS:
                    files[f"top.{part}.npy"] = _write_npy(self.staging / f"top.{part}.npy", getattr(tiers, part))
                del tiers, body
            del postings
            self.hook(f"field:{field}")
        n = len(self.kinds)
        version = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:8]
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "analyzer": ANALYZER_VERSION,
            "version": version,
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "counts": {
                "articles": articles,
                "passages": n,
                "faq_pairs": int(sum(self.kinds)),
                "paragraphs": n - int(sum(self.kinds)),
                "terms": n_terms,
            },
            "bm25": {"k1": K1, "b": B, "epsilon": EPSILON, "fields": list(FIELDS)},
            "languages": dict(self.languages.most_common()),
            **extra_manifest,
            "files": files,
            "content_hash": hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest(),
        }
        _write_json(self.staging / "manifest.json", manifest)
        _fsync_dir(self.staging)
        self.hook("arrays")
        os.rename(self.staging, self.dir / "data" / version)
        _fsync_dir(self.dir / "data")
        self.hook("renamed")
        _write_json(self.dir / "manifest.tmp", manifest)
        os.replace(self.dir / "manifest.tmp", self.dir / "manifest.json")  # the commit point
        _fsync_dir(self.dir)
        _prune(self.dir, keep=version)
        return BuiltIndex(manifest=manifest, version=version)

    def _word_table(self, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The English words analysed in this build, sorted, and each one's term row (-1: stopword).

        Only words and terms shorter than the width are kept (an exact hit at query time); the
        table depends on the set of words only, so an incremental build writes the same one.
        """
        long_terms = {i for t, i in self.vocab.items() if len(t) >= MAX_TERM_BYTES}
        entries = []
        for word, term in self.coder.word_ids.get(WORD_TABLE_LANGUAGE, {}).items():
            try:
                key = word.encode("utf-8")
            except UnicodeEncodeError:
                continue
            if len(key) < MAX_TERM_BYTES and term not in long_terms:
                entries.append((key, term))
        entries.sort()
        table = np.array([k for k, _ in entries], dtype=f"S{MAX_TERM_BYTES}")
        ids = np.array([t for _, t in entries], dtype=np.int64)
        rows = np.where(ids >= 0, rank[np.maximum(ids, 0)] if len(rank) else -1, -1).astype(np.int32)
        return table, rows

    def abort(self) -> None:
        """Drop the unfinished version; the published one is untouched."""
        try:
            if not self.store.closed:
                self.store.close()  # on a full disk, flushing the last buffer fails again
        except OSError:
            pass
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)


def _passage_row(p: Passage) -> tuple:
    return (p.id, p.article, p.kind, p.question, p.text, p.title, p.section, p.url, p.link)


_worker_coder: TermCoder | None = None


def _coded_batch(rows: list[tuple[tuple, str | None]]) -> tuple:
    """In a worker process: a batch of passages as store lines and term ids (this worker's numbering)."""
    global _worker_coder
    if _worker_coder is None:
        _worker_coder = TermCoder(log=True)
    coder = _worker_coder
    ids: dict[str, list[list[int]]] = {f: [] for f in FIELDS}
    lines = []
    faq = bytearray()
    for row, lang in rows:
        passage = Passage(*row)
        for field, field_ids in coder.passage_ids(passage, lang).items():
            ids[field].append(field_ids)
        lines.append(store_line(passage))
        faq.append(passage.kind == "faq")
    fields = {}
    for field, lists in ids.items():
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        fields[field] = (np.fromiter(chain.from_iterable(lists), dtype=np.int32, count=int(lengths.sum())), lengths)
    keys, coder.keys = coder.keys, []
    word_log, coder.word_log = coder.word_log, []
    return os.getpid(), keys, word_log, b"".join(lines), bytes(faq), fields


def build_index(
    passages: list[Passage],
    field_tokens: dict[str, list[list[str]]],
    index_dir: str | Path,
    articles: int,
    crash_hook=None,
) -> BuiltIndex:
    """Write and publish an index for passages with precomputed tokens per field."""
    writer = IndexWriter(index_dir, crash_hook)
    try:
        for i, passage in enumerate(passages):
            writer.add(passage, {f: field_tokens[f][i] for f in FIELDS})
    except BaseException:
        writer.abort()
        raise
    return writer.publish(articles)


def _write_npy(path: Path, array: np.ndarray) -> dict:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    return {"bytes": path.stat().st_size}


def _write_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(index_dir: Path, keep: str) -> None:
    """Delete old versions and abandoned builds (readers holding them keep their mapped pages)."""
    data = index_dir / "data"
    versions = sorted((p for p in data.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for leftover in data.glob(".build-*"):
        if leftover.stat().st_mtime < dt.datetime.now().timestamp() - 3600:
            shutil.rmtree(leftover, ignore_errors=True)


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
            if len(arrays["passages.offsets"]) != n + 1 or len(arrays["kinds"]) != n:
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
