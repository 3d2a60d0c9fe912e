"""Reading a folder without building an index: sources -> articles -> passages -> tokens (inspect, eval,
benchmarks), the run report and the nothing-to-index error. The builder is faqbot.index.incremental."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..text.analyze import analyze
from ..errors import FaqbotError, SkipFile
from ..ingest.extract import extract_passages
from .store import FIELDS, index_text
from ..model import Article, Passage
from ..ingest.read import DEFAULT_BASE_URL, Skipped, find_sources, read_source


@dataclass
class IndexReport:
    """What one `faqbot index` run did, for the summary line and the API."""

    articles: int = 0
    faq_pairs: int = 0
    paragraphs: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    version: str = ""


def iter_articles(
    paths: list[str | Path], base_url: str = DEFAULT_BASE_URL, skipped: list[Skipped] | None = None,
    progress: Callable[[int, int], None] | None = None, url_style: str = "file", default_lang: str = "",
) -> Iterator[tuple[str, Article]]:
    """Read every source under paths, one at a time; unreadable ones go to skipped with their reason.

    default_lang: the language of articles that declare none and are not detected (the `lang` setting).
    """
    skipped = [] if skipped is None else skipped
    sources, not_found = find_sources(paths, url_style)
    skipped.extend(not_found)
    for n, source in enumerate(sources, 1):
        try:
            yield source.article_id, read_source(source, base_url, default_lang)
        except SkipFile as err:
            skipped.append(Skipped(str(source.path), str(err)))
        except RecursionError:
            skipped.append(Skipped(str(source.path), "markup nested too deeply"))
        if progress:
            progress(n, len(sources))


def load_articles(
    paths: list[str | Path], base_url: str = DEFAULT_BASE_URL, progress: Callable[[int, int], None] | None = None,
    url_style: str = "file", default_lang: str = "",
) -> tuple[list[tuple[str, Article]], list[Skipped]]:
    """Read every source under paths into memory (for inspect and eval)."""
    skipped: list[Skipped] = []
    articles = list(iter_articles(paths, base_url, skipped, progress, url_style, default_lang))
    return articles, skipped


def passages_of(articles: list[tuple[str, Article]]) -> list[Passage]:
    """Extract the passages of every article, in order."""
    return [p for article_id, article in articles for p in extract_passages(article, article_id)]


def passage_tokens(passage: Passage, lang: str | None = None) -> dict[str, list[str]]:
    """Token lists of one passage for each index field."""
    return {name: analyze(text, lang) for name, text in index_text(passage).items()}


def tokenize_passages(passages: list[Passage], langs: dict[str, str | None]) -> dict[str, list[list[str]]]:
    """Token lists per index field for each passage, analysed in its article's language."""
    out: dict[str, list[list[str]]] = {f: [] for f in FIELDS}
    for passage in passages:
        for name, tokens in passage_tokens(passage, langs.get(passage.article)).items():
            out[name].append(tokens)
    return out


def nothing_to_index(named: list, skipped: list[Skipped]) -> FaqbotError:
    """The error for a build that found no readable article, with the first skip reasons."""
    where = ", ".join(map(str, named)) or "(no sources)"
    reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5]) or "no .txt, .md or .html files found"
    return FaqbotError(f"Nothing to index in {where} ({reasons}). The existing index is unchanged.")


