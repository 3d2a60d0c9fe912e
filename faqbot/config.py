"""Settings: one table, one load order (defaults -> faqbot.toml -> FAQBOT_* environment -> flags)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .errors import FaqbotError


@dataclass(frozen=True)
class Settings:
    """Every setting faqbot reads; see the README's Configuration table."""

    index_dir: str = ".faqbot/index"  # where `faqbot index` writes and the API reads
    sources: tuple[str, ...] = ("corpus",)  # folders/files `faqbot index` reads by default
    base_url: str = "/articles/"  # URL prefix for articles that don't state their own URL
    min_confidence: float = 0.35  # below this the answer is null and results are suggestions
    top_k: int = 5  # results returned when the request does not say
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2  # server processes for `faqbot serve`
    allowed_origins: tuple[str, ...] = ()  # extra CORS origins for /api/* (same origin and localhost always)
    semantic: bool = True  # rerank BM25 candidates with sentence embeddings (FAQBOT_SEMANTIC=0: off)
    semantic_weight: float = 0.7  # share of cosine similarity in the reranking mix
    rerank_depth: int = 30  # BM25 candidates reranked per question
    min_cosine: float = 0.2  # with semantic ranking, no answer below this cosine similarity
    sitemaps: tuple[str, ...] = ()  # sitemap URLs `faqbot index` crawls by default (sitemap indexes, .gz too)
    url_lists: tuple[str, ...] = ()  # files of page URLs, one a line, `faqbot index` fetches by default
    allowed_hosts: tuple[str, ...] = ()  # hosts a crawl may fetch besides each sitemap's own
    crawl_concurrency: int = 4  # pages fetched at once
    crawl_timeout: float = 10.0  # seconds per page request
    crawl_max_page_bytes: int = 5_000_000  # larger pages fail (and keep their previous passages)
    admin_token: str = ""  # Bearer token for the admin API (POST /api/reindex, GET /admin/report); empty = off
    log_questions: bool = True  # keep a question log (no IP addresses or personal data)
    question_log: str = ""  # SQLite file; empty = questions.sqlite beside the index directory
    log_retention_days: float = 90.0  # questions older than this are deleted
    rate_limit: int = 60  # POST /api/ask and /api/feedback requests per minute per client (0 = off)
    trust_proxy: bool = False  # take the client address from the first X-Forwarded-For hop (behind a proxy only)

    def answer_settings(self):
        """The answer step's settings, with the embedding model loaded when semantic ranking is on."""
        from .answer import AnswerSettings
        from .embed import load_embedder

        return AnswerSettings(
            min_confidence=self.min_confidence,
            embedder=load_embedder() if self.semantic else None,
            semantic_weight=self.semantic_weight,
            rerank_depth=self.rerank_depth,
            min_cosine=self.min_cosine,
        )

    def embedder(self):
        """The embedding model for indexing, or None when semantic ranking is off or unavailable."""
        from .embed import load_embedder

        return load_embedder() if self.semantic else None

    @property
    def question_log_path(self) -> str:
        """Where the question log lives."""
        from pathlib import Path

        return self.question_log or str(Path(self.index_dir).resolve().parent / "questions.sqlite")


CONFIG_FILE_ENV = "FAQBOT_CONFIG"
DEFAULT_CONFIG_FILE = "faqbot.toml"


def _coerce(name: str, value: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if isinstance(default, tuple):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, int):
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        raise FaqbotError(f"Setting {name!r} has an invalid value {value!r}.") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Settings:
    """Build Settings from defaults, the config file, FAQBOT_* variables, then overrides (None = unset)."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    defaults = {f.name: getattr(settings, f.name) for f in fields(Settings)}
    path = Path(config_file or environ.get(CONFIG_FILE_ENV) or DEFAULT_CONFIG_FILE)
    layers: list[Mapping[str, Any]] = []
    if path.exists():
        try:
            layers.append(tomllib.loads(path.read_text(encoding="utf-8")).get("faqbot", {}))
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise FaqbotError(f"Cannot read the config file {path}: {err}") from None
    elif config_file or environ.get(CONFIG_FILE_ENV):
        raise FaqbotError(f"Config file {path} does not exist.")
    layers.append({k[len("FAQBOT_"):].lower(): v for k, v in environ.items() if k.startswith("FAQBOT_")})
    layers.append({k: v for k, v in (overrides or {}).items() if v is not None})
    for layer in layers:
        known = {k: _coerce(k, v, defaults[k]) for k, v in layer.items() if k in defaults}
        settings = replace(settings, **known)
    return settings
