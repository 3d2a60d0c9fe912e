"""The per-source cache of incremental builds (<index_dir>/cache.sqlite): each source's passages and
tokens, dropped whole when the code that reads or tokenizes changes (code_fingerprint)."""

from __future__ import annotations

import hashlib
import inspect
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..model import Passage
from ..text.analyze import ANALYZER_VERSION, WORD_TABLE_LANGUAGE
from .store import FIELDS, index_text, store_line

CACHE_FILE = "cache.sqlite"


# What a cached passage depends on besides its source's bytes: all of the reading and analysing
# stages (every file of faqbot/ingest and faqbot/text), the records, the errors and the incremental builder, by path in the
# package. test_incremental checks that every module the readers import is among them.
CODE_DIRS = ("ingest", "text")


CODE_FILES = ("model.py", "errors.py", "index/incremental.py", "index/source_cache.py")


def code_files() -> list[Path]:
    """The files code_fingerprint hashes, in a fixed order."""
    package = Path(__file__).resolve().parents[1]
    found = [p for d in CODE_DIRS for p in sorted((package / d).rglob("*")) if p.suffix in (".py", ".json")]
    return found + [package / name for name in CODE_FILES]


@dataclass
class Entry:
    """What one source contributes to the index (nothing, when skipped)."""

    key: str  # absolute file path or page URL
    origin: str  # FILES_ORIGIN, a sitemap URL or a URL list path
    article_id: str
    sha256: str = ""
    size: int = 0
    mtime_ns: int = 0
    stamp: str = ""  # files: inode, size, mtime and ctime when last read
    seen_ns: int = 0  # files: when they were last read (see RACY_NS)
    etag: str | None = None
    last_modified: str | None = None
    skip: str | None = None  # why nothing was extracted (files only; shown in the summary)
    lines: bytes = b""  # the passages' index.store_line()s, joined
    faq: list[int] = field(default_factory=list)  # 1 where the passage's kind is "faq"
    ids: bytes = b""  # every token of every field (FIELDS order), as uint32 ids of the cache's term table
    counts: dict[str, np.ndarray] = field(default_factory=dict)  # per field, each passage's token count
    keys: dict[str, list[bytes]] | None = None  # a source read now: its encode_term()ed tokens, until ids are given
    words: bytes = b""  # the distinct raw words of its English passages, newline-separated (the index's word table)
    changed: bool = True  # write it back to the cache
    lang: str = WORD_TABLE_LANGUAGE  # the analysis language of its passages (analyze.stemmer_language)

    def passages(self) -> list[Passage]:
        """The passages, decoded from their store lines."""
        return [Passage(**json.loads(line)) for line in self.lines.splitlines()]

    def term_ids(self, vocab: dict[bytes, int]) -> dict[str, np.ndarray]:
        """Every token's term id per field; a source read now gets its new terms added to vocab."""
        if self.keys is not None:
            per_field = {name: np.fromiter((vocab.setdefault(k, len(vocab)) for k in keys), np.uint32, len(keys))
                         for name, keys in self.keys.items()}
            self.ids, self.keys = b"".join(a.tobytes() for a in per_field.values()), None
            return per_field
        ids = np.frombuffer(self.ids, dtype=np.uint32)
        out, start = {}, 0
        for name in FIELDS:
            end = start + int(self.counts[name].sum())
            out[name], start = ids[start:end], end
        return out


def code_fingerprint(base_url: str, url_style: str = "file", default_lang: str = "") -> str:
    """Identifies everything a cached passage depends on besides its source's bytes."""
    digest = hashlib.sha256(f"{__version__}|{ANALYZER_VERSION}|{base_url}|{url_style}|{default_lang}|".encode())
    package = Path(__file__).resolve().parents[1]
    for path in code_files():
        digest.update(f"{path.relative_to(package)}|".encode())
        digest.update(path.read_bytes())
    for function in (index_text, store_line):
        digest.update(inspect.getsource(function).encode())
    return digest.hexdigest()


class SourceCache:
    """The per-source cache file: one row per source, with its passages and tokens as JSON."""

    def __init__(self, path: str | Path, fingerprint: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.executescript("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
        """)
        row = self.db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        if row is None or row[0] != fingerprint:  # other code or base_url: start afresh (the layout too)
            with self.db:
                self.db.execute("DROP TABLE IF EXISTS sources")
                self.db.execute("DROP TABLE IF EXISTS terms")
                self.db.execute("DELETE FROM meta WHERE key = 'listing'")
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
        self.db.execute("""
            CREATE TABLE IF NOT EXISTS sources (
                key TEXT PRIMARY KEY, origin TEXT, article_id TEXT, sha256 TEXT, size INTEGER,
                mtime_ns INTEGER, stamp TEXT, seen_ns INTEGER, etag TEXT, last_modified TEXT, skip TEXT,
                lines BLOB, ids BLOB, faq BLOB, counts BLOB, words BLOB, lang TEXT)  -- faq: uint8 per passage; counts: uint32 per field and passage
        """)
        # The term table as newline-separated chunks, in id order: one row per build that added terms.
        self.db.execute("CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, chunk BLOB NOT NULL)")

    def get_meta(self, key: str):
        """A JSON value kept in the cache's meta table (None when missing)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, key: str, value) -> None:
        """Keep a JSON value in the meta table."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def terms(self) -> dict[bytes, int]:
        """The term table cached token ids refer to (ids 0..n-1)."""
        chunks = [bytes(c) for (c,) in self.db.execute("SELECT chunk FROM terms ORDER BY id")]
        keys = b"\n".join(chunks).split(b"\n") if chunks else []
        return dict(zip(keys, range(len(keys))))

    def rows(self) -> dict[str, Entry]:
        """Every cached source, without its passages (load those with fill())."""
        out = {}
        for key, origin, article_id, sha, size, mtime, stamp, seen, etag, lm, skip in self.db.execute(
            "SELECT key, origin, article_id, sha256, size, mtime_ns, stamp, seen_ns, etag, last_modified, skip "
            "FROM sources ORDER BY rowid"
        ):
            out[key] = Entry(key, origin, article_id, sha, size, mtime, stamp, seen, etag, lm, skip, changed=False)
        return out

    def fill(self, entry: Entry) -> Entry:
        """The entry with its cached passages and tokens loaded."""
        self.fill_many([entry])
        return entry

    def fill_many(self, entries: list[Entry]) -> None:
        """Load the cached passages and tokens of several entries, a few queries for all."""
        by_key = {e.key: e for e in entries}
        keys = list(by_key)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            for key, lines, ids, faq, counts, words_, lang in self.db.execute(
                f"SELECT key, lines, ids, faq, counts, words, lang FROM sources WHERE key IN ({','.join('?' * len(chunk))})", chunk
            ):
                entry = by_key[key]
                entry.lines, entry.ids, entry.words = lines, ids, words_ or b""
                entry.lang = lang or WORD_TABLE_LANGUAGE
                entry.faq = list(faq)  # bytes of 0/1
                counts = np.frombuffer(counts, dtype=np.uint32).reshape(len(FIELDS), -1)
                entry.counts = {name: row for name, row in zip(FIELDS, counts)}

    def save(self, entries: list[Entry], vocab: dict[bytes, int], reset: bool = False) -> int:
        """Store changed entries and the new terms of vocab, forget sources not in entries; the number forgotten.

        reset: no entry refers to the old term table any more, so it is replaced by vocab.
        """
        keys = {e.key for e in entries}
        with self.db:
            if reset:
                self.db.execute("DELETE FROM terms")
            known = sum(c.count(b"\n") + 1 for (c,) in self.db.execute("SELECT chunk FROM terms"))
            new = [t for t, i in vocab.items() if i >= known]  # dicts keep insertion order: ids ascending
            if new:
                self.db.execute("INSERT INTO terms (chunk) VALUES (?)", (b"\n".join(new),))
            old = [k for (k,) in self.db.execute("SELECT key FROM sources") if k not in keys]
            self.db.executemany("DELETE FROM sources WHERE key = ?", [(k,) for k in old])
            self.db.executemany(
                "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(e.key, e.origin, e.article_id, e.sha256, e.size, e.mtime_ns, e.stamp, e.seen_ns, e.etag,
                  e.last_modified, e.skip,
                  e.lines, e.ids, bytes(e.faq), np.array([e.counts.get(f, ()) for f in FIELDS], dtype=np.uint32).tobytes(),
                  e.words, e.lang)
                 for e in entries if e.changed],
            )
        return len(old)

    def close(self) -> None:
        self.db.close()
