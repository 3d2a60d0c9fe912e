"""The on-disk index: atomic publish, refusal of damaged or foreign indexes."""

import json

import pytest

from faqbot.search.answer import ask
from faqbot.errors import IndexInvalid, IndexMissing
from faqbot.index.store import Index
from faqbot.index.incremental import index_sources


class Crash(Exception):
    pass


def test_interrupted_build_leaves_the_previous_index_loadable(corpus_dir, tmp_path):
    path = tmp_path / "ix"
    index_sources([corpus_dir], path)
    before = Index.load(path).version
    (corpus_dir / "new.md").write_text("# New\n\nA brand new article about pineapples.\n")
    for step in ("field:body", "arrays", "passages", "renamed"):
        def hook(at, step=step):
            if at == step:
                raise Crash(at)

        with pytest.raises(Crash):
            index_sources([corpus_dir], path, crash_hook=hook)
        index = Index.load(path)
        assert index.version == before
        assert ask(index, "how long does a refund take")["answer"]["question"] == "How long does a refund take?"
        assert ask(index, "pineapples")["answer"] is None
    index_sources([corpus_dir], path)
    assert ask(Index.load(path), "pineapples")["answer"]["title"] == "New"
    assert not list((path / "data").glob(".build-*"))


def test_old_versions_are_pruned(corpus_dir, tmp_path):
    path = tmp_path / "ix"
    for _ in range(4):
        index_sources([corpus_dir], path)
    assert len(list((path / "data").iterdir())) == 2


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexMissing, match="Run `faqbot index` first"):
        Index.load(tmp_path / "nothing")


def test_other_format_version_is_refused(index_dir):
    manifest = json.loads((index_dir / "manifest.json").read_text())
    manifest["format_version"] = 999
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexInvalid, match="Rebuild"):
        Index.load(index_dir)


def test_truncated_data_file_is_refused(index_dir):
    version = json.loads((index_dir / "manifest.json").read_text())["version"]
    target = index_dir / "data" / version / "body.weights.npy"
    target.write_bytes(target.read_bytes()[:-8])
    with pytest.raises(IndexInvalid, match="truncated"):
        Index.load(index_dir)


def test_garbage_manifest_is_refused(index_dir):
    (index_dir / "manifest.json").write_text("{not json")
    with pytest.raises(IndexInvalid):
        Index.load(index_dir)


def test_manifest_records_counts_build_time_and_hash(index_dir):
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["counts"] == {"articles": 4, "passages": manifest["counts"]["passages"], "faq_pairs": 2,
                                  "paragraphs": manifest["counts"]["paragraphs"], "terms": manifest["counts"]["terms"]}
    assert manifest["counts"]["passages"] == 2 + manifest["counts"]["paragraphs"]
    assert len(manifest["content_hash"]) == 64
    assert manifest["built_at"].startswith("20")
    assert not any(name.endswith(".pkl") for name in manifest["files"])
