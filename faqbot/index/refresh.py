"""The product's index builder entry point: `faqbot index`, `faqbot serve` and the re-index job
all call refresh(), which builds the configured (or named) sources with index_sources."""

from __future__ import annotations

from contextlib import nullcontext

from ..config import Settings
from ..ingest.crawl import CrawlSettings
from .vectors import configured_embedder
from .incremental import RefreshReport, index_sources
from .lock import BuildLock

_UNSET = object()


def crawl_settings(settings) -> CrawlSettings:
    """CrawlSettings from faqbot Settings."""
    return CrawlSettings(
        allowed_hosts=tuple(h.lower() for h in settings.allowed_hosts),
        concurrency=settings.crawl_concurrency,
        timeout=settings.crawl_timeout,
        max_page_bytes=settings.crawl_max_page_bytes,
    )


def refresh(
    settings: Settings, paths=(), sitemaps=(), url_lists=(), full: bool = False, *, progress=None,
    crawl_progress=None, embed_progress=None, embedder=_UNSET, lock: bool = True,
) -> RefreshReport:
    """Index what is named (paths, sitemaps, URL lists), or else every configured source.

    lock=True takes the index directory's re-index lock (IndexBusy when another run holds it).
    """
    if not (paths or sitemaps or url_lists):
        paths, sitemaps, url_lists = settings.sources, settings.sitemaps, settings.url_lists
    embedder = configured_embedder(settings) if embedder is _UNSET else embedder
    with BuildLock(settings.index_dir) if lock else nullcontext():
        return index_sources(
            list(paths), settings.index_dir, settings.base_url, sitemaps=list(sitemaps), url_lists=list(url_lists),
            crawl=crawl_settings(settings), full=full, progress=progress, crawl_progress=crawl_progress,
            embedder=embedder, embed_progress=embed_progress, url_style=settings.url_style,
            default_lang=settings.lang, multilingual=settings.multilingual_semantic,
        )


def summary_lines(report: RefreshReport) -> list[str]:
    """The lines `faqbot index` prints after its counts: reuse, pages fetched, failures."""
    s = "" if report.read == 1 else "s"
    lines = [f"Read {report.read} new or changed source{s}, reused {report.reused} unchanged, removed {report.removed}."]
    crawl = report.crawl
    if crawl is not None:
        lines.append(f"Pages: {crawl.fetched} fetched, {crawl.unchanged} unchanged, {len(crawl.failed)} failed, "
                     f"{len(crawl.gone)} gone, {len(crawl.skipped)} not allowed.")
        for title, rows in (("Failed (previous passages kept)", crawl.failed), ("Gone", crawl.gone),
                            ("Not allowed", crawl.skipped)):
            if rows:
                lines.append(f"{title}:")
                lines += [f"  {url}: {reason}" for url, reason in rows]
    lines += [f"Warning: {error}" for error in report.errors]
    return lines


def report_counts(report: RefreshReport) -> dict:
    """A run's counts as JSON for the status endpoint."""
    crawl = report.crawl
    return {
        "articles": report.articles, "faq_pairs": report.faq_pairs, "paragraphs": report.paragraphs,
        "read": report.read, "reused": report.reused, "removed": report.removed, "skipped": len(report.skipped),
        "fetched": crawl.fetched if crawl else 0, "unchanged": crawl.unchanged if crawl else 0,
        "failed": len(crawl.failed) if crawl else 0,
    }
