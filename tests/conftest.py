"""Shared fixtures: tiny real articles, a built index, the app and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import nltk
import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "open-source-ai-must-win.txt"
if not SEED.exists():  # CI and fresh clones carry a copy in the sample corpus
    SEED = REPO / "corpus" / "open-source-ai-must-win.txt"

SAMPLE_ARTICLES = {
    "refunds.md": """# Refunds and returns

## How refunds work

We refund any order within 30 days of delivery. The money goes back to the card you paid with.

## Frequently Asked Questions

### Can I get a refund after 30 days?

No. After 30 days we offer store credit instead of a refund.

### How long does a refund take?

Refunds reach your card within five working days.
""",
    "account.md": """---
title: Your account
url: https://example.com/help/account
---
# Account help

## Reset your password {#reset}

Use the forgotten password link on the sign-in page and follow the email we send you.

## Delete your account

Write to support and we delete your account and its data within a week.
""",
    "shipping.txt": """Shipping times
Comments
Delivery options
We ship to every country in Europe with tracked parcels and a signature on delivery.
Costs
Shipping is free on orders above fifty euros and costs five euros otherwise.
""",
    "gardening.md": """# Growing tomatoes

Tomatoes need six hours of sun a day, rich soil and regular watering at the roots.

Pinch out the side shoots of cordon varieties so the plant puts its energy into fruit.
""",
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No stray FAQBOT_* settings, no nltk data lookups, and a private working directory."""
    import os

    for key in list(os.environ):
        if key.startswith("FAQBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setattr(nltk.data, "path", [])
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _steady_minute(monkeypatch):
    """The rate limits' clock (faqbot.serve.limits.clock) stopped in the middle of a minute, so a test that
    counts requests against a per-minute limit cannot see the window roll over between two of them."""
    import time

    from faqbot.serve import limits

    middle = time.time() // limits.WINDOW_SECONDS * limits.WINDOW_SECONDS + limits.WINDOW_SECONDS / 2
    monkeypatch.setattr(limits, "clock", lambda: middle)


def write_sample_articles(folder: Path) -> Path:
    """Write SAMPLE_ARTICLES into folder (created); return it."""
    folder.mkdir()
    for name, body in SAMPLE_ARTICLES.items():
        (folder / name).write_text(body, encoding="utf-8")
    return folder


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    """Four tiny articles in three formats: enough passages for BM25 idf to be positive."""
    return write_sample_articles(tmp_path / "articles")


@pytest.fixture
def index_dir(tmp_path, corpus_dir) -> Path:
    from faqbot.index.incremental import index_sources

    path = tmp_path / "index"
    index_sources([corpus_dir], path)
    return path


@pytest.fixture
def seed_index(tmp_path) -> Path:
    from faqbot.index.incremental import index_sources

    path = tmp_path / "seed-index"
    index_sources([SEED], path)
    return path


@pytest.fixture
def make_app(index_dir):
    """make_app(**settings): the app as `faqbot serve` builds it (create_app), over the sample index
    (built with the product's builder) unless index_dir is given; every test builds its app this way."""
    from faqbot import create_app

    def make(**settings):
        app = create_app({"index_dir": str(index_dir), **settings})
        app.testing = True
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    return CliRunner()


def _throwaway_server(kind: str):
    """A started PostgresServer or RedisServer; the test is skipped, with the reason, where it is not installed."""
    from tests import cluster_servers

    reason = cluster_servers.missing_reason()
    if reason:
        pytest.skip(reason)
    server = getattr(cluster_servers, kind)()
    server.start()
    return server


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster for the session."""
    server = _throwaway_server("PostgresServer")
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server():
    """A throwaway redis-server for the session."""
    server = _throwaway_server("RedisServer")
    yield server
    server.close()
