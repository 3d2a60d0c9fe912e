"""Writing an index version: postings, tiers, the word table and the passage store, published atomically.

See faqbot.index.store for the directory layout; IndexWriter fills data/<version>/ and then
replaces manifest.json (os.replace), the one commit point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Iterable

import numpy as np

from ..model import Passage
from ..text.analyze import ANALYZER_VERSION, WORD_TABLE_LANGUAGE, hash_slots, stemmer_language
from .bm25 import B, EPSILON, K1, Postings, count_pairs, postings_from_chunks, top_tiers
from .store import (FIELDS, FORMAT, FORMAT_VERSION, MAX_TERM_BYTES, SIDE_FIELD, TIER_PARTS, TIERED_FIELD,
                    encode_term, store_line)
from .spelling_table import deletion_arrays
from .terms import TermCoder

KEEP_VERSIONS = 2  # the published version and the one before it, for readers still holding it


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
        self.passage_languages: list[str] = []  # each passage's analysis key, in passage order

    def note_language(self, lang: str | None, passages: int = 1) -> None:
        """Record the analysis language of the next `passages` passages (in the order they are added)."""
        key = stemmer_language(lang)
        self.languages[key] += passages
        self.passage_languages.extend([key] * passages)

    @property
    def vocab(self) -> dict[bytes, int]:
        """encode_term()ed token -> provisional term id (numbered as first seen)."""
        return self.coder.vocab

    def add(self, passage: Passage, tokens: dict[str, list[str]], lang: str | None = None) -> None:
        """Append one passage with its tokens for each field in FIELDS (analysed in lang's language)."""
        self.note_language(lang)
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
        self.note_language(lang)
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
                        for _, lang in rows:
                            self.note_language(lang)
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
        # Which language each passage was analysed in, where the index holds several (else implied).
        keys = list(dict.fromkeys(self.passage_languages))
        if len(keys) > 1:
            codes = {k: i for i, k in enumerate(keys)}
            extra_arrays = {**extra_arrays, "passage_languages": np.array(
                [codes[k] for k in self.passage_languages], dtype=np.uint8 if len(keys) < 256 else np.uint16)}
            extra_manifest = {**extra_manifest, "passage_language_keys": keys}
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
    return (p.id, p.article, p.kind, p.question, p.text, p.title, p.section, p.url, p.link, None, p.title_indexed)


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
