"""The batched confidence features give exactly what the one-passage-at-a-time definitions give."""

from __future__ import annotations

import math

import numpy as np
import pytest

from faqbot.search.confidence_weights import (BIGRAM_LEXICAL_WEIGHTS, LEXICAL_WEIGHTS, OTHER_LEXICAL_WEIGHTS,
                                              OTHER_SEMANTIC_WEIGHTS, SEMANTIC_WEIGHTS)
from faqbot.search.answer import (AnswerSettings, ask, confidence, confidence_features, coverage,
                                  feature_rows, rank_passages)
from faqbot.index.bm25 import K1
from faqbot.index.store import Index
from faqbot.search.lexical import parse_query, term_coverage
from faqbot.text.analyze import analyze

QUESTIONS = [
    "How long does a refund take?", "reset my password", "refund after 30 days store credit",
    "quantum chromodynamics", "the the the", "password refund shipping account card",
    "What are the main challenges of open source AI?", "zzzz unknownword refund",
]


@pytest.fixture(params=["numpy", "compiled"], autouse=True)
def kernel_path(request, monkeypatch):
    """Every test here on both paths of coverage(): numpy calls, and the compiled kernel (a server's)."""
    from faqbot.search import kernel

    kernels = None
    if request.param == "compiled":
        before = kernel._kernels
        assert kernel.load(), "numba is a dependency: the compiled kernel must load"
        kernels, kernel._kernels = kernel._kernels, before
    monkeypatch.setattr(kernel, "_kernels", kernels)
    return request.param


def _reference_features(index, query, ranked, rank):
    """The original per-passage definition (search.term_coverage once per passage and field)."""
    item = ranked[rank]
    body = term_coverage(index, query, item.doc, "body")
    question = term_coverage(index, query, item.doc, "question") if index.kinds[item.doc] else 0.0
    idf = index.fields["body"].idf
    best_possible = sum(c * float(idf[t]) * (K1 + 1) for t, c in query.known.items()) or 1.0
    runner_up = ranked[rank + 1].score if rank + 1 < len(ranked) else 0.0
    margin = (item.score - runner_up) / abs(item.score) if item.score and rank == 0 else 0.0
    one_term = 0.0
    if query.language != "english":  # passages holding exactly one of the question's terms
        postings = index.fields["body"]
        held = [item.doc in postings.docs[postings.indptr[t]:postings.indptr[t + 1]].tolist()
                for t in query.ids.values() if t is not None]
        one_term = float(sum(held) == 1)
    # The best later passage that is another question (another passage, for paragraphs).
    def same(a, b):
        pa, pb = index.passage(a.doc), index.passage(b.doc)
        return a.doc == b.doc or (pa.kind == pb.kind == "faq" and pa.question.lower().rstrip("?") == pb.question.lower().rstrip("?"))
    other = next((r for r in ranked[1:] if not same(r, item)), None)
    question_margin = cosine_gap = known_share = 0.0
    if rank == 0 and item.score:
        question_margin = (item.score - other.score) / abs(item.score) if other else 1.0
        cosine_gap = item.cosine - (other.cosine if other else 0.0)
    phrases = 0.0
    if rank == 0:
        known_share = sum(1 for t in query.terms if query.ids[t] is not None) / len(query.terms) if query.terms else 0.0
        passage = index.passage(item.doc)
        text = f"{passage.question}\n{passage.text}" if passage.question else passage.text
        joined = " " + " ".join(analyze(text, query.language, index.word_table)) + " "
        pairs = [f" {a} {b} " for a, b in zip(query.sequence, query.sequence[1:])]
        phrases = sum(pair in joined for pair in pairs) / len(pairs) if pairs else 0.0
    return [1.0, body, question, min(item.bm25 / best_possible, 2.0), max(min(margin, 1.0), 0.0), item.cosine,
            item.question_cosine, item.pair_cosine, one_term, max(min(question_margin, 1.0), 0.0), cosine_gap,
            float(item.lexical_first), float(item.dense_first), known_share, phrases]


def test_batched_features_equal_the_per_passage_definition_in_german(tmp_path):
    from faqbot.index.incremental import index_sources

    for name, body in {"a": "Der Lohn wird am Monatsende überwiesen.", "b": "Urlaub beantragen Sie schriftlich.",
                       "c": "Der Urlaub verfällt am Jahresende.", "d": "Das Konto führen wir kostenlos."}.items():
        (tmp_path / f"{name}.md").write_text(f"---\nlang: de\n---\n{body}\n", encoding="utf-8")
    index_sources([tmp_path], tmp_path / "index")
    index = Index.load(tmp_path / "index")
    for question in ("Wann wird der Lohn am Monatsende überwiesen?", "Urlaub am Jahresende", "Konto"):
        query, ranked, _ = rank_passages(index, question, 20, AnswerSettings())
        assert query.language == "german" and ranked
        rows = feature_rows(index, query, ranked)
        assert rows == [_reference_features(index, query, ranked, r) for r in range(len(ranked))]
    assert {row[8] for row in rows} == {1.0}  # "Konto": one term (CONFIDENCE_FEATURES[8])



@pytest.mark.parametrize("question", QUESTIONS)
def test_batched_features_equal_the_per_passage_definition(index_dir, question):
    index = Index.load(index_dir)
    query, ranked, _ = rank_passages(index, question, 20, AnswerSettings())
    rows = feature_rows(index, query, ranked)
    assert rows == [_reference_features(index, query, ranked, r) for r in range(len(ranked))]
    for rank in range(len(ranked)):
        assert confidence_features(index, query, ranked, rank) == rows[rank]


@pytest.mark.parametrize("weights", [LEXICAL_WEIGHTS, OTHER_LEXICAL_WEIGHTS, BIGRAM_LEXICAL_WEIGHTS,
                                     OTHER_SEMANTIC_WEIGHTS, SEMANTIC_WEIGHTS])
def test_features_skipped_for_a_model_give_the_same_confidences(index_dir, weights):
    """ask() passes its weights so features they weigh 0 are not computed: the confidences stay the same."""
    index = Index.load(index_dir)
    for question in QUESTIONS:
        query, ranked, _ = rank_passages(index, question, 20, AnswerSettings())
        full = [confidence(row, weights) for row in feature_rows(index, query, ranked)]
        assert [confidence(row, weights) for row in feature_rows(index, query, ranked, weights)] == full


@pytest.mark.parametrize("field", ["body", "question"])
def test_coverage_of_every_passage_equals_term_coverage(index_dir, field):
    index = Index.load(index_dir)
    docs = np.arange(index.n_passages)
    for question in QUESTIONS:
        query = parse_query(index, question)
        got = coverage(index, query, docs, field).tolist()
        assert got == [term_coverage(index, query, int(d), field) for d in docs]


def test_no_ranked_passages_no_features(index_dir):
    index = Index.load(index_dir)
    assert feature_rows(index, parse_query(index, "quantum"), []) == []


def test_ask_confidences_come_from_the_features(index_dir):
    index = Index.load(index_dir)
    for question in QUESTIONS:
        response = ask(index, question, 10)
        query, ranked, _ = rank_passages(index, question, 10, AnswerSettings())
        expected = [round(confidence(_reference_features(index, query, ranked, r), LEXICAL_WEIGHTS), 4)
                    for r in range(len(ranked))]
        assert [r["confidence"] for r in response["results"][:len(ranked)]] == expected
        assert all(r["confidence"] == 0.0 and r["score"] == 0.0 for r in response["results"][len(ranked):])
        assert len(response["results"]) == min(10, index.n_passages)
        assert not math.isnan(sum(expected))
        assert [r["id"] for r in response["results"][:len(ranked)]] == [index.passage(r.doc).id for r in ranked]
