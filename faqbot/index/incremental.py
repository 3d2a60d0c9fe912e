"""Incremental indexing: re-read only new or changed sources (files and web pages), reuse the rest.

What each source contributed last time is kept in `<index_dir>/cache.sqlite` (no pickle: bytes
and JSON): its content hash, mtime/size or ETag/Last-Modified, its article id, and its passages with
their tokens. A run hashes every file (and fetches every page conditionally), reuses the cached
passages of unchanged ones, re-reads the others, drops the ones that are gone, and writes a
complete new index version: BM25 weights depend on every document, so the postings are always
rebuilt, which is cheap; reading, extracting, tokenizing and embedding are what we save.

The result is the same index a full rebuild gives (tests compare the files). The cache is
dropped whole when the code that reads or tokenizes changes, or when base_url, url_style or lang does.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin, urlsplit

import numpy as np

from ..text.analyze import WORD_TABLE_LANGUAGE, stemmer_language, words
from ..ingest.crawl import CrawlError, Crawler, CrawlReport, CrawlSettings, Target
from ..errors import SkipFile
from ..ingest.extract import extract_passages
from ..errors import IndexInvalid, IndexMissing
from .store import FIELDS, Index, encode_term, index_text, store_line
from .writer import IndexWriter
from .source_cache import CACHE_FILE, Entry, SourceCache, code_fingerprint
from .pipeline import IndexReport, nothing_to_index, passage_tokens
from ..ingest.read import (DEFAULT_BASE_URL, EXTENSIONS, MAX_FILE_BYTES, Skipped, decode, find_sources, parse_document,
                   read_file_bytes, slugify, with_language)
from .vectors import embedding_texts, vector_arrays

FILES_ORIGIN = "files"
# A file is trusted unchanged by its stat alone only if it was last changed this long before we
# read it: a write in the same clock tick as our read would otherwise go unnoticed ("racy git").
RACY_NS = 2_000_000_000
BATCH = 256  # sources handed to the index writer at once


@dataclass
class RefreshReport(IndexReport):
    """An index run's summary: IndexReport plus what was re-read, reused, removed and crawled."""

    read: int = 0  # sources parsed this time
    reused: int = 0  # sources whose cached passages were reused
    removed: int = 0  # sources in the last index that are gone now
    crawl: CrawlReport | None = None
    errors: list[str] = field(default_factory=list)  # sitemaps or URL lists that could not be read


def _analysed(entry: Entry, article) -> Entry:
    passages = extract_passages(article, entry.article_id)
    tokens = [passage_tokens(p, article.lang) for p in passages]
    entry.lines = b"".join(map(store_line, passages))
    entry.faq = [int(p.kind == "faq") for p in passages]
    entry.keys = {f: [encode_term(t) for ts in tokens for t in ts[f]] for f in FIELDS}
    entry.counts = {f: np.array([len(ts[f]) for ts in tokens], dtype=np.uint32) for f in FIELDS}
    entry.lang = stemmer_language(article.lang)
    if entry.lang == WORD_TABLE_LANGUAGE:
        seen = dict.fromkeys(w for p in passages for text in index_text(p).values() for w in words(text))
        entry.words = "\n".join(seen).encode("utf-8", "surrogatepass")
    return entry


def _stamp(st: os.stat_result) -> str:
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _read_file(entry: Entry, path: str, st: os.stat_result) -> tuple[Entry, bytes | None]:
    """Read and hash one file (same checks and reasons as read.read_source)."""
    entry.size, entry.mtime_ns, entry.stamp, entry.seen_ns = st.st_size, st.st_mtime_ns, _stamp(st), time.time_ns()
    if st.st_size > MAX_FILE_BYTES:
        entry.skip = f"too large ({st.st_size / 1e6:.1f} MB > 10 MB)"
        return entry, None
    try:
        data = read_file_bytes(path)
    except SkipFile as err:
        entry.skip = str(err)
        return entry, None
    entry.sha256 = hashlib.sha256(data).hexdigest()
    return entry, data


def _parse_file(entry: Entry, data: bytes, path: str, base_url: str, url_path: str | None = None,
                default_lang: str = "") -> Entry:
    try:
        kind = EXTENSIONS[os.path.splitext(path)[1].lower()]
        article = parse_document(data, kind, path, entry.article_id, base_url, url_path, default_lang)
    except SkipFile as err:
        entry.skip = str(err)
        return entry
    except RecursionError:
        entry.skip = "markup nested too deeply"
        return entry
    return _analysed(entry, article)


def read_page(data: bytes, url: str, article_id: str, default_lang: str = ""):
    """A fetched HTML page -> Article, its URL the canonical one or else the page's own, its language decided."""
    from ..ingest.read_html import read_html  # lxml is only loaded when there is HTML to read

    article = read_html(decode(data, "html"), url)
    own_url = urljoin(url, article.url) if article.url else url
    article = replace(article, url=own_url, title=article.title or article_id.replace("-", " ").capitalize())
    return with_language(article, default_lang)


def page_article_id(url: str, taken: set[str]) -> str:
    """A stable, unique article id for a page: its path as a slug, with the host when that is taken."""
    parts = urlsplit(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    candidate = slugify(tail)
    if candidate in taken:
        candidate = slugify(parts.netloc + tail)
    base, n = candidate, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def index_sources(
    paths: list[str | Path],
    index_dir: str | Path,
    base_url: str = DEFAULT_BASE_URL,
    *,
    sitemaps: list[str] | tuple[str, ...] = (),
    url_lists: list[str | Path] | tuple[str | Path, ...] = (),
    crawl: CrawlSettings | Crawler = CrawlSettings(),
    full: bool = False,
    progress: Callable[[int, int], None] | None = None,
    crawl_progress: Callable[[int, int], None] | None = None,
    crash_hook=None,
    embedder=None,
    embed_progress: Callable[[int, int], None] | None = None,
    url_style: str = "file",
    default_lang: str = "",
    multilingual: bool = True,
) -> RefreshReport:
    """Index files under paths and the pages of sitemaps / URL lists, reusing what did not change.

    full=True re-reads every source and sends no conditional requests (a page that fails still
    keeps its cached passages), then refills the cache. The new version is published atomically.
    The one builder: `faqbot index`, the server, the re-index job, `faqbot eval`, the tests and the
    benchmarks all build with it. With an embedder, passages in the multilingual model's languages
    also get its vectors unless multilingual=False (settings.multilingual_semantic).
    """
    started = time.perf_counter()
    report = RefreshReport()
    index_dir = Path(index_dir)
    cache = SourceCache(index_dir / CACHE_FILE, code_fingerprint(base_url, url_style, default_lang))
    try:
        old = cache.rows()
        entries = _file_entries(paths, base_url, cache, {} if full else old, report, progress, url_style, default_lang)
        if sitemaps or url_lists:
            crawler = crawl if isinstance(crawl, Crawler) else Crawler(crawl)
            taken = {e.article_id for e in entries}
            try:
                entries += _page_entries(crawler, sitemaps, url_lists, cache, old, full, taken, report, crawl_progress,
                                         default_lang)
            finally:
                if crawler is not crawl:
                    crawler.close()
        # Cached token ids refer to the cache's term table; when nothing comes from the cache (a full
        # rebuild), a fresh table drops the terms no source uses any more.
        reset = all(e.keys is not None or e.skip for e in entries)
        vocab = {} if reset else cache.terms()
        _publish(entries, index_dir, paths, sitemaps, url_lists, report, crash_hook, embedder, embed_progress, vocab,
                 multilingual)
        report.removed = cache.save(entries, vocab, reset)
    finally:
        cache.close()
    report.seconds = time.perf_counter() - started
    return report


def _listing_dirs(paths) -> dict[str, int]:
    """mtime of every folder find_sources walks for paths (and of the folder of each given file)."""
    dirs = {}
    for given in map(Path, paths):
        top = given if given.is_dir() else given.parent
        for folder, subdirs, _ in os.walk(top, followlinks=False):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")] if given.is_dir() else []
            dirs[os.path.abspath(folder)] = os.stat(folder).st_mtime_ns
    return dirs


def _find_sources(paths, cache: "SourceCache", use_cache: bool, url_style: str = "file"):
    """(path as found, absolute path, article id, URL path) of each source file, and the skipped paths.

    From find_sources(paths), or its last result when no folder it walked has changed since.
    """
    key = json.dumps([os.getcwd(), *map(str, paths)])  # the sources' paths are kept as given
    listing = cache.get_meta("listing") if use_cache else None
    if listing is not None and listing["paths"] == key:
        try:
            fresh = all(os.stat(d).st_mtime_ns == m and m < listing["seen_ns"] - RACY_NS for d, m in listing["dirs"].items())
        except OSError:
            fresh = False
        if fresh:
            return [tuple(row) for row in listing["sources"]], [Skipped(p, reason) for p, reason in listing["skipped"]]
    seen_ns = time.time_ns()
    dirs = _listing_dirs(paths)
    found, skipped = find_sources(paths, url_style)
    sources = [(str(s.path), os.path.abspath(s.path), s.article_id, s.url_path) for s in found]
    if all(Path(p).exists() for p in paths):  # a missing path's appearance would change no folder we watch
        cache.set_meta("listing", {
            "paths": key, "seen_ns": seen_ns, "dirs": dirs, "skipped": [[s.path, s.reason] for s in skipped],
            "sources": sources})
    return sources, skipped


def _file_entries(paths, base_url, cache, old, report, progress, url_style="file", default_lang="") -> list[Entry]:
    """Entries for the files under paths: unchanged ones from the cache, the others read now."""
    sources, not_found = _find_sources(paths, cache, use_cache=bool(old), url_style=url_style)
    report.skipped.extend(not_found)
    entries, from_cache = [], []
    for n, (path, key, article_id, url_path) in enumerate(sources, 1):
        entry = Entry(key, FILES_ORIGIN, article_id)
        cached = old.get(key)
        if cached is not None and (cached.origin, cached.article_id) != (FILES_ORIGIN, article_id):
            cached = None
        try:
            st = os.stat(path)
        except OSError as err:
            entry.skip = f"cannot read: {err.strerror or err}"
        else:
            if cached is not None and cached.stamp == _stamp(st) and st.st_ctime_ns < cached.seen_ns - RACY_NS:
                entry = cached  # untouched since it was read (no write, rename or utime changes ctime)
                from_cache.append(entry)
            else:
                entry, data = _read_file(entry, path, st)
                if data is not None and cached is not None and cached.sha256 == entry.sha256:
                    from_cache.append(cached)  # touched, same bytes: keep the passages, store the new stamp
                    cached.size, cached.mtime_ns, cached.stamp, cached.seen_ns = (
                        entry.size, entry.mtime_ns, entry.stamp, entry.seen_ns)
                    cached.changed = True
                    entry = cached
                elif data is not None:
                    entry = _parse_file(entry, data, path, base_url, url_path, default_lang)
                    report.read += 1
        if entry.skip:
            report.skipped.append(Skipped(path, entry.skip))
        entries.append(entry)
        if progress:
            progress(n, len(sources))
    cache.fill_many([e for e in from_cache if not e.skip])
    report.reused += len(from_cache)
    return entries


def _page_entries(crawler, sitemaps, url_lists, cache, old, full, taken, report, progress, default_lang="") -> list[Entry]:
    """Entries for the pages of sitemaps and URL lists; full=True re-reads every page that answers."""
    crawl = report.crawl = CrawlReport()
    targets: list[tuple[str, Target]] = []
    kept: list[Entry] = []
    for origin, collect in [(s, crawler.sitemap_targets) for s in sitemaps] + [(str(u), None) for u in url_lists]:
        try:
            if collect is None:
                found, bad = crawler.list_targets(origin)
                crawl.skipped.extend(bad)
            else:
                found = collect(origin)
        except CrawlError as err:
            # Without the list we cannot tell which pages are gone: keep every page it gave last time.
            report.errors.append(f"{err} Its pages from the last run are kept.")
            kept += [cache.fill(e) for e in old.values() if e.origin == origin]
            continue
        targets += [(origin, t) for t in found]
    unique: dict[str, tuple[str, Target]] = {}
    for origin, target in targets:
        unique.setdefault(target.url, (origin, target))  # a page listed twice is fetched once
    targets = list(unique.values())
    kept = [e for e in kept if e.key not in unique]
    validators = {} if full else {
        t.url: (old[t.url].etag, old[t.url].last_modified) for _, t in targets if t.url in old and not old[t.url].skip}
    pages = crawler.fetch_pages([t for _, t in targets], validators, progress)
    entries = []
    for e in kept:
        taken.add(e.article_id)
    for (origin, target), page in zip(targets, pages):
        crawl.add(page)
        cached = old.get(page.url)
        article_id = cached.article_id if cached is not None and cached.article_id not in taken else page_article_id(page.url, taken)
        if page.status in ("unchanged", "failed") and cached is not None:
            entry = cache.fill(cached)  # a page we cannot fetch now keeps its previous passages
            entry.changed = entry.origin != origin
            entry.origin = origin
            report.reused += 1
        elif page.status == "fetched":
            digest = hashlib.sha256(page.body).hexdigest()
            if not full and cached is not None and cached.sha256 == digest and cached.article_id == article_id:
                entry = cache.fill(cached)
                report.reused += 1
            else:
                entry = Entry(page.url, origin, article_id, sha256=digest)
                try:
                    _analysed(entry, read_page(page.body, page.final_url or page.url, article_id, default_lang))
                except SkipFile as err:
                    report.skipped.append(Skipped(page.url, str(err)))
                    continue
                except RecursionError:
                    report.skipped.append(Skipped(page.url, "markup nested too deeply"))
                    continue
                report.read += 1
            entry.origin, entry.etag, entry.last_modified, entry.changed = origin, page.etag, page.last_modified, True
            entry.size = len(page.body)
        else:
            continue
        taken.add(entry.article_id)
        entries.append(entry)
    return entries + kept


def _batch(entries: list[Entry], vocab: dict[bytes, int]) -> tuple[bytes, list[int], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Several entries as one IndexWriter.add_encoded call (numpy works best on long arrays)."""
    ids = [e.term_ids(vocab) for e in entries]
    terms = {name: (np.concatenate([i[name] for i in ids]) if ids else np.zeros(0, np.uint32),
                    np.concatenate([e.counts[name] for e in entries]).astype(np.int64)) for name in FIELDS}
    return b"".join(e.lines for e in entries), [f for e in entries for f in e.faq], terms


def _publish(entries, index_dir, paths, sitemaps, url_lists, report, crash_hook, embedder, embed_progress, vocab,
             multilingual: bool = True) -> None:
    writer = IndexWriter(index_dir, crash_hook)
    try:
        writer.coder.word_table = Index.load(index_dir).word_table  # spares stemming cached sources' words again
    except (IndexMissing, IndexInvalid):
        pass
    writer.use_vocabulary(vocab)
    questions: list[str] = []
    texts: list[str] = []
    languages: list[str] = []  # each embedded passage's analysis language
    try:
        articles = [e for e in entries if not e.skip]
        for start in range(0, len(articles), BATCH):
            writer.add_encoded(*_batch(articles[start:start + BATCH], vocab))
        for entry in articles:
            report.articles += 1
            writer.note_language(entry.lang, len(entry.faq))
            if entry.words:
                for word in entry.words.decode("utf-8", "surrogatepass").split("\n"):
                    writer.coder.add_word(word, WORD_TABLE_LANGUAGE)
            if embedder is not None:
                for question, text in map(embedding_texts, entry.passages()):
                    questions.append(question)
                    texts.append(text)
                languages.extend([stemmer_language(entry.lang)] * (len(texts) - len(languages)))
            report.faq_pairs += sum(entry.faq)
            report.paragraphs += len(entry.faq) - sum(entry.faq)
        if not report.articles:
            raise nothing_to_index([*paths, *sitemaps, *url_lists], report.skipped)
        extra_arrays, extra_manifest = vector_arrays(embedder, questions, texts, index_dir, embed_progress,
                                                    languages, multilingual)
    except BaseException:
        writer.abort()
        raise
    report.version = writer.publish(report.articles, extra_arrays, extra_manifest).version
