"""Incremental indexing: only new or changed files are read, and the result equals a full rebuild."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from faqbot.cli import cli
from faqbot.index.incremental import index_sources
from faqbot.index.lock import BuildLock
from faqbot.index.store import Index

EXTRA = """# Cycling to work

Cycle lanes keep commuters safe from cars and cut the trip to twenty minutes in town.

## FAQ

### Do I need a helmet?

A helmet is not required by law but we recommend one on every ride.
"""


def index_files(index_dir: Path) -> dict[str, bytes]:
    """Every file of the published version, except the manifest's version and build time."""
    manifest = json.loads((index_dir / "manifest.json").read_text())
    data = index_dir / "data" / manifest["version"]
    files = {p.name: p.read_bytes() for p in sorted(data.iterdir()) if p.name != "manifest.json"}
    for key in ("version", "built_at"):
        manifest.pop(key)
    files["manifest.json"] = json.dumps(manifest, sort_keys=True).encode()
    return files


def change_one(corpus_dir: Path) -> None:
    """Edit one article, add one, delete one."""
    refunds = corpus_dir / "refunds.md"
    refunds.write_text(refunds.read_text().replace("five working days", "three working days"))
    (corpus_dir / "cycling.md").write_text(EXTRA)
    (corpus_dir / "gardening.md").unlink()


def test_incremental_index_equals_full_rebuild(corpus_dir, tmp_path):
    (corpus_dir / "broken.txt").write_bytes(b"\x00\x01binary")
    first = index_sources([corpus_dir], tmp_path / "inc")
    assert (first.read, first.reused, first.removed, first.articles) == (5, 0, 0, 4)  # broken.txt is read, then skipped
    change_one(corpus_dir)

    report = index_sources([corpus_dir], tmp_path / "inc")
    full = index_sources([corpus_dir], tmp_path / "full", full=True)
    plain = index_sources([corpus_dir], tmp_path / "plain")

    assert (report.read, report.reused, report.removed) == (2, 3, 1)  # refunds + cycling read; gardening gone
    assert [(s.path, s.reason) for s in report.skipped] == [(str(corpus_dir / "broken.txt"), "binary file")]
    assert (report.articles, report.faq_pairs, report.paragraphs) == (plain.articles, plain.faq_pairs, plain.paragraphs)
    assert index_files(tmp_path / "inc") == index_files(tmp_path / "full") == index_files(tmp_path / "plain")


def test_unchanged_sources_are_not_read_again(corpus_dir, tmp_path, monkeypatch):
    index_sources([corpus_dir], tmp_path / "ix")
    import faqbot.index.incremental as incremental

    monkeypatch.setattr(incremental, "parse_document", lambda *a, **k: pytest.fail("an unchanged file was parsed"))
    os.utime(corpus_dir / "refunds.md")  # a touched but unchanged file is not read either
    report = index_sources([corpus_dir], tmp_path / "ix")
    assert (report.read, report.reused, report.removed, report.articles) == (0, 4, 0, 4)


def test_deleted_source_disappears_from_answers(corpus_dir, tmp_path):
    index_sources([corpus_dir], tmp_path / "ix")
    (corpus_dir / "gardening.md").unlink()
    index_sources([corpus_dir], tmp_path / "ix")
    index = Index.load(tmp_path / "ix")
    articles = {index.passage(i).article for i in range(index.n_passages)}
    assert articles == {"refunds", "account", "shipping"}


def test_changed_base_url_drops_the_cache(corpus_dir, tmp_path):
    index_sources([corpus_dir], tmp_path / "ix")
    report = index_sources([corpus_dir], tmp_path / "ix", "https://example.com/kb/")
    assert (report.read, report.reused) == (4, 0)
    index = Index.load(tmp_path / "ix")
    assert {index.passage(i).url for i in range(index.n_passages)} >= {"https://example.com/kb/refunds"}



def test_the_fingerprint_covers_every_module_reading_imports():
    """code_fingerprint hashes files by path: a module moved out of its list would stop invalidating the cache."""
    from faqbot.index.source_cache import code_files
    from tests.test_architecture import graph, modules

    sources = modules()
    edges = graph(sources)
    needed, todo = set(), ["faqbot.ingest.read", "faqbot.ingest.extract", "faqbot.text.analyze"]
    while todo:
        name = todo.pop()
        if name not in needed and name in sources:
            needed.add(name)
            todo += edges[name]
    hashed = set(code_files())
    assert all(path.is_file() for path in hashed)
    assert {"faqbot.ingest.faq_rules", "faqbot.text.detect", "faqbot.model"} <= needed
    assert sorted(name for name in needed if sources[name] not in hashed and name != "faqbot") == []


class CountingEmbedder:
    """A stand-in embedding model that records what it was asked to embed."""

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen += texts
        return np.array([[len(t) % 7 + 1.0, len(t.split()) % 5 + 1.0, 1.0] for t in texts])


def test_only_new_texts_are_embedded_again(corpus_dir, tmp_path):
    embedder = CountingEmbedder()
    index_sources([corpus_dir], tmp_path / "ix", embedder=embedder)
    first = len(embedder.seen)
    embedder.seen = []
    change_one(corpus_dir)
    index_sources([corpus_dir], tmp_path / "ix", embedder=embedder)
    assert 0 < len(embedder.seen) < first
    assert all("three working days" in t or "helmet" in t.lower() or "Cycle lanes" in t for t in embedder.seen)
    index = Index.load(tmp_path / "ix")
    assert index.arrays["vectors"].shape == (index.n_passages, 3)


def test_cli_index_reports_reuse_and_full_rebuilds(runner, corpus_dir, tmp_path):
    ix = str(tmp_path / "ix")
    result = runner.invoke(cli, ["index", str(corpus_dir), "--index", ix], env={"FAQBOT_SEMANTIC": "0"})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Indexed 4 articles: 2 FAQ pairs, ")
    assert "Read 4 new or changed sources, reused 0 unchanged, removed 0." in result.output
    result = runner.invoke(cli, ["index", str(corpus_dir), "--index", ix], env={"FAQBOT_SEMANTIC": "0"})
    assert "Read 0 new or changed sources, reused 4 unchanged, removed 0." in result.output
    result = runner.invoke(cli, ["index", str(corpus_dir), "--index", ix, "--full"], env={"FAQBOT_SEMANTIC": "0"})
    assert "Read 4 new or changed sources, reused 0 unchanged, removed 0." in result.output


def test_cli_index_refuses_while_another_reindex_runs(runner, corpus_dir, tmp_path):
    with BuildLock(tmp_path / "ix"):
        result = runner.invoke(cli, ["index", str(corpus_dir), "--index", str(tmp_path / "ix")],
                               env={"FAQBOT_SEMANTIC": "0"})
    assert result.exit_code == 1
    assert result.output == f"Error: Another re-index of {tmp_path / 'ix'} is running; try again when it has finished.\n"


def test_files_untouched_since_read_are_not_even_opened(corpus_dir, tmp_path, monkeypatch):
    import faqbot.index.incremental as incremental

    monkeypatch.setattr(incremental, "RACY_NS", 0)  # every file here was changed before it was read
    index_sources([corpus_dir], tmp_path / "ix")
    refunds = corpus_dir / "refunds.md"
    refunds.write_text(refunds.read_text().replace("five working days", "three working days"))
    opened = []
    real = incremental._read_file
    monkeypatch.setattr(incremental, "_read_file", lambda entry, path, st: opened.append(os.path.basename(path)) or real(entry, path, st))
    report = index_sources([corpus_dir], tmp_path / "ix")
    assert opened == ["refunds.md"]
    assert (report.read, report.reused) == (1, 3)


def test_unchanged_folders_are_not_listed_again_but_new_and_deleted_files_are_seen(corpus_dir, tmp_path, monkeypatch):
    import faqbot.index.incremental as incremental

    monkeypatch.setattr(incremental, "RACY_NS", 0)
    index_sources([corpus_dir], tmp_path / "ix")
    real = incremental.find_sources
    listed = []
    monkeypatch.setattr(incremental, "find_sources", lambda paths, *a: listed.append(1) or real(paths, *a))
    assert index_sources([corpus_dir], tmp_path / "ix").articles == 4
    assert listed == []
    (corpus_dir / "cycling.md").write_text(EXTRA)
    assert index_sources([corpus_dir], tmp_path / "ix").articles == 5
    (corpus_dir / "gardening.md").unlink()
    assert index_sources([corpus_dir], tmp_path / "ix").articles == 4
    assert listed == [1, 1]
