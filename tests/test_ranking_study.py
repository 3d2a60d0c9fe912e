"""benchmarks/ranking_study.py: the candidates it scores are hybrid_rank's, and its listwise fit learns."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from faqbot.index.store import Index
from faqbot.search import semantic
from faqbot.search.lexical import search

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("ranking_study", REPO / "benchmarks" / "ranking_study.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _scores(study, bm25, question_cosine, pair_cosine):
    rows = np.atleast_2d
    return study.Scores(rows(bm25), np.zeros_like(rows(bm25)), rows(question_cosine), rows(pair_cosine), {})


def test_candidates_are_bm25_matches_then_nearest_vectors(study):
    bm25 = np.array([0.0, 3.0, 1.0, 0.0, 2.0, 0.0])
    question_cosine = np.array([0.9, 0.1, 0.2, 0.3, 0.1, 0.8])
    pair_cosine = np.array([0.1, 0.1, 0.1, 0.7, 0.1, 0.1])
    docs = study.candidates(_scores(study, bm25, question_cosine, pair_cosine), 0, depth=2)
    # BM25's two best (passages without a match never), then the two nearest by the better cosine.
    assert docs.tolist() == [1, 4, 0, 5]
    assert study.candidates(_scores(study, bm25, question_cosine, pair_cosine), 0, depth=10).tolist() == [1, 4, 2, 0, 5, 3]


def test_candidates_match_hybrid_rank_on_a_real_index(study, index_dir):
    """The study's candidates from full score rows are the passages hybrid_rank itself scores."""
    index = Index.load(index_dir)
    rng = np.random.default_rng(3)
    n, dim = index.n_passages, 384
    fake = {"question_vectors": rng.standard_normal((n, dim)).astype(np.float16),
            "vectors": rng.standard_normal((n, dim)).astype(np.float16)}
    fake = {k: (v / np.linalg.norm(v.astype(np.float32), axis=1, keepdims=True)).astype(np.float16) for k, v in fake.items()}
    index.arrays.update(fake)
    q = rng.standard_normal(dim).astype(np.float32)
    q /= np.linalg.norm(q)
    query, hits = search(index, "refund after 30 days", n)
    ranked = semantic.hybrid_rank(index, query, q, hits[:3], depth=3)
    bm25 = np.zeros(n)
    for hit in hits:
        bm25[hit.doc] = hit.score
    cq = fake["question_vectors"].astype(np.float32) @ q
    ca = fake["vectors"].astype(np.float32) @ q
    docs = study.candidates(_scores(study, bm25, cq, ca), 0, depth=3)
    assert sorted(docs.tolist()) == sorted(r.doc for r in ranked)
    x = study.features(_scores(study, bm25, cq, ca), 0, docs, ("bm25", "question_cosine", "pair_cosine"),
                       np.zeros(n, bool))
    mixed = dict(zip(docs.tolist(), study.default_mix(x).tolist()))
    for r in ranked:
        assert mixed[r.doc] == pytest.approx(r.score, abs=1e-3)


def test_listwise_fit_learns_which_feature_points_at_the_right_candidate(study):
    rng = np.random.default_rng(0)

    def lists(count):
        out = []
        for _ in range(count):
            x = rng.standard_normal((8, 3))
            right = np.zeros(8, bool)
            right[int(np.argmax(x[:, 1] + 0.3 * rng.standard_normal(8)))] = True  # feature 1 is informative
            out.append((None, x, right))
        return out

    train, test = lists(200), lists(200)
    w = study.fit_listwise([(x, r) for _, x, r in train])
    assert abs(w[1]) > 3 * max(abs(w[0]), abs(w[2]))
    assert study.first_right(test, lambda q: study.linear(w)) > 0.7
    assert study.first_right(test, lambda q: study.linear(np.array([1.0, 0.0, 0.0]))) < 0.4


def test_sentences_and_best_sentence_per_passage(study):
    assert study.sentences("Wash your hands. Keep 2 m apart! Is it safe? yes.") == [
        "Wash your hands.", "Keep 2 m apart!", "Is it safe? yes."]
    assert study.sentences("no stop") == ["no stop"]
    similarity = np.array([[0.1, 0.5, 0.2], [0.9, 0.0, 0.3]])
    best = study.best_by_owner(similarity, np.array([0, 0, 2]), 3)
    assert best.tolist() == [[0.5, -1.0, 0.2], [0.9, -1.0, 0.3]]


def test_article_halves_and_ranks(study):
    assert study.article_halves(["b", "a", "c", "a"]) == {"a", "c"}
    assert study.rank_of([4, 7, 2], {2, 9}) == 3
    assert study.rank_of([4, 7], {2}) is None


def test_mpnet_relative_position_buckets():
    """benchmarks/model_ceiling.py's buckets are T5's bidirectional ones (32 buckets, max distance 128)."""
    spec = importlib.util.spec_from_file_location("model_ceiling", REPO / "benchmarks" / "model_ceiling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    buckets = module.relative_buckets(300)
    assert buckets[5, 5] == 0
    assert buckets[1, 0] == 1 and buckets[7, 0] == 7  # key before the query: the distance, exact up to 7
    assert buckets[0, 1] == 17 and buckets[0, 7] == 23  # key after: 16 + the distance
    assert buckets[20, 0] == 10  # 8 + floor(log(20 / 8) / log(16) * 8)
    assert buckets[299, 0] == 15 and buckets[0, 299] == 31  # far away: the last bucket of each side
    assert buckets.min() == 0 and buckets.max() == 31
