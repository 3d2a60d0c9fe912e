"""The indexing flow end to end: sources -> articles -> passages -> tokens -> published index."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .analyze import analyze
from .errors import FaqbotError, SkipFile
from .extract import extract_passages
from .index import FIELDS, build_index, index_text
from .model import Article, Passage
from .read import DEFAULT_BASE_URL, Skipped, find_sources, read_source


@dataclass
class IndexReport:
    """What one `faqbot index` run did, for the summary line and the API."""

    articles: int = 0
    faq_pairs: int = 0
    paragraphs: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    version: str = ""


def load_articles(
    paths: list[str | Path], base_url: str = DEFAULT_BASE_URL, progress: Callable[[int, int], None] | None = None
) -> tuple[list[tuple[str, Article]], list[Skipped]]:
    """Read every source under paths; unreadable ones are skipped with their reason."""
    sources, skipped = find_sources(paths)
    articles = []
    for n, source in enumerate(sources, 1):
        try:
            articles.append((source.article_id, read_source(source, base_url)))
        except SkipFile as err:
            skipped.append(Skipped(str(source.path), str(err)))
        except RecursionError:
            skipped.append(Skipped(str(source.path), "markup nested too deeply"))
        if progress:
            progress(n, len(sources))
    return articles, skipped


def passages_of(articles: list[tuple[str, Article]]) -> list[Passage]:
    """Extract the passages of every article, in order."""
    return [p for article_id, article in articles for p in extract_passages(article, article_id)]


def tokenize_passages(passages: list[Passage], langs: dict[str, str | None]) -> dict[str, list[list[str]]]:
    """Token lists per index field for each passage, analysed in its article's language."""
    out: dict[str, list[list[str]]] = {f: [] for f in FIELDS}
    for passage in passages:
        lang = langs.get(passage.article)
        for name, text in index_text(passage).items():
            out[name].append(analyze(text, lang))
    return out


def index_paths(
    paths: list[str | Path],
    index_dir: str | Path,
    base_url: str = DEFAULT_BASE_URL,
    progress: Callable[[int, int], None] | None = None,
) -> IndexReport:
    """Index every article under paths into index_dir (published atomically)."""
    started = time.perf_counter()
    articles, skipped = load_articles(paths, base_url, progress)
    if not articles:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5]) or "no .txt, .md or .html files found"
        raise FaqbotError(f"Nothing to index in {', '.join(map(str, paths))} ({reasons}). The existing index is unchanged.")
    passages = passages_of(articles)
    tokens = tokenize_passages(passages, {aid: a.lang for aid, a in articles})
    built = build_index(passages, tokens, index_dir, articles=len(articles))
    return IndexReport(
        articles=len(articles),
        faq_pairs=sum(p.kind == "faq" for p in passages),
        paragraphs=sum(p.kind == "paragraph" for p in passages),
        skipped=skipped,
        seconds=time.perf_counter() - started,
        version=built.version,
    )
