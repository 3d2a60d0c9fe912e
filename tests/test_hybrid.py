"""Hybrid candidates: BM25 scores looked up for passages found by their vectors, the code scan
against exact search, and "did you mean" alternatives."""

from __future__ import annotations

import numpy as np
import pytest

from faqbot.search import dense, kernel
from faqbot.index.embed import _model_dir
from faqbot.index.store import Index
from faqbot.search.lexical import best_passages, lexical_scores, parse_query

needs_model = pytest.mark.skipif(_model_dir() is None, reason="embedding model not installed")


@pytest.mark.parametrize("question", ["refund after 30 days", "how long does shipping take", "password reset email",
                                      "tomatoes sun soil", "quantum"])
def test_lexical_scores_are_the_search_scores(index_dir, question):
    index = Index.load(index_dir)
    query = parse_query(index, question)
    hits = best_passages(index, query.known, index.n_passages)
    expected = np.zeros(index.n_passages)
    for hit in hits:
        expected[hit.doc] = hit.score
    docs = np.arange(index.n_passages)[::-1]  # any order
    np.testing.assert_allclose(lexical_scores(index, query, docs), expected[docs], rtol=1e-12, atol=1e-12)


class _Vectors:
    """What dense.nearest reads of an index: the two vector arrays (float16) and their codes."""

    def __init__(self, questions: np.ndarray, pairs: np.ndarray, codes: bool = True):
        self.n_passages = len(pairs)
        self.arrays = {"question_vectors": questions.astype(np.float16), "vectors": pairs.astype(np.float16)}
        if codes:
            self.arrays.update(dense.code_arrays(self.arrays["question_vectors"], self.arrays["vectors"]))


def _unit(rng, shape) -> np.ndarray:
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _exact(index, q, k):
    best = np.maximum(index.arrays["question_vectors"].astype(np.float32) @ q,
                      index.arrays["vectors"].astype(np.float32) @ q)
    return np.lexsort((np.arange(len(best)), -best))[:k].tolist()


def test_nearest_is_exact_below_the_rescore_count():
    rng = np.random.default_rng(1)
    index = _Vectors(_unit(rng, (300, 384)), _unit(rng, (300, 384)))
    for q in _unit(rng, (20, 384)):
        assert [d for d, _ in dense.nearest(index, q, 10)] == _exact(index, q, 10)


@pytest.mark.parametrize("compiled", [False, True])
def test_code_scan_finds_near_vectors(monkeypatch, compiled):
    """Past RESCORE passages the sign codes choose whom to rescore: a question close to a passage's
    question vector (or its pair vector) still finds it first, with the exact cosine."""
    if compiled and not kernel.load():
        pytest.skip("numba unavailable")
    monkeypatch.setattr(kernel, "_kernels", kernel._kernels if compiled else False)
    monkeypatch.setattr(dense, "RESCORE", 64)
    rng = np.random.default_rng(2)
    questions, pairs = _unit(rng, (3000, 384)), _unit(rng, (3000, 384))
    index = _Vectors(questions, pairs)
    for target in (5, 1234, 2999):
        for source in (questions, pairs):
            q = source[target] + 0.3 * _unit(rng, 384)
            q /= np.linalg.norm(q)
            (doc, cosine), *_ = dense.nearest(index, q, 5)
            assert doc == target == _exact(index, q, 1)[0]
            assert cosine == pytest.approx(max(index.arrays["question_vectors"][doc].astype(np.float32) @ q,
                                               index.arrays["vectors"][doc].astype(np.float32) @ q), abs=1e-5)


def test_compiled_and_numpy_hamming_agree():
    if not kernel.load():
        pytest.skip("numba unavailable")
    rng = np.random.default_rng(3)
    a, b = (np.packbits(rng.random((500, 384)) > 0.5, axis=1) for _ in range(2))
    q = np.packbits(rng.random(384) > 0.5)
    expected = np.minimum(np.bitwise_count(a ^ q).sum(1), np.bitwise_count(b ^ q).sum(1))
    np.testing.assert_array_equal(kernel.loaded().pair_hamming(a, b, q), expected)


def test_codes_are_made_for_an_index_built_without_them(monkeypatch):
    monkeypatch.setattr(dense, "RESCORE", 16)
    rng = np.random.default_rng(4)
    questions, pairs = _unit(rng, (200, 384)), _unit(rng, (200, 384))
    with_codes, without = _Vectors(questions, pairs), _Vectors(questions, pairs, codes=False)
    q = pairs[17]
    assert dense.nearest(without, q, 5) == dense.nearest(with_codes, q, 5)
    assert dense.nearest(with_codes, q, 5)[0][0] == 17


@needs_model
def test_semantic_index_stores_codes_and_finds_passages_without_shared_words(tmp_path, corpus_dir):
    from faqbot.search.answer import AnswerSettings, ask
    from faqbot.index.embed import load_embedder
    from faqbot.index.incremental import index_sources

    embedder = load_embedder()
    index_sources([corpus_dir], tmp_path / "ix", embedder=embedder)
    index = Index.load(tmp_path / "ix")
    assert index.arrays["question_codes"].shape == (index.n_passages, 48)
    assert index.arrays["vector_codes"].dtype == np.uint8
    # No word of this question is in the articles: BM25 has no candidate, the vectors do.
    question = "gardening: cultivating veggies"
    assert not best_passages(index, parse_query(index, question).known, 5)
    response = ask(index, question, 3, AnswerSettings(embedder=embedder))
    assert response["results"][0]["score"] > 0
    assert "omatoes" in response["results"][0]["text"]


def test_did_you_mean_lists_close_faq_pairs_only(monkeypatch):
    from faqbot.search import answer

    def passage(kind, question, score):
        return {"kind": kind, "question": question, "score": score, "text": "t"}

    scored = [passage("faq", "Can I get a refund?", 1.0), passage("faq", "can i get a refund", 0.995),
              passage("faq", "How long does a refund take?", 0.98), passage("paragraph", None, 0.979)]
    assert [p["question"] for p in answer.close_alternatives(scored)] == ["How long does a refund take?"]
    scored[2]["score"] = 0.5  # far behind: the answer is clear
    assert answer.close_alternatives(scored) == []
    assert answer.close_alternatives([passage("paragraph", None, 1.0), passage("faq", "Q?", 1.0)]) == []
    # Copies of the answer's own question do not use up the places of other questions.
    scored = [passage("faq", "Q one?", 1.0)] + [passage("faq", "q one", 0.999)] * 3 + [
        passage("faq", "Q two?", 0.99), passage("faq", "Q three?", 0.985), passage("faq", "Q four?", 0.98)]
    assert [p["question"] for p in answer.close_alternatives(scored)] == ["Q two?", "Q three?"]
    # Asking the best passage's own question (a chip) is not ambiguous; other wordings may be.
    assert answer.close_alternatives(scored, "q ONE?") == []
    assert len(answer.close_alternatives(scored, "q one please")) == 2


def test_misspelled_terms_read_as_an_indexed_neighbour(index_dir):
    from faqbot.search.spelling import correct, neighbours

    assert {"refund", "refud", "rrefnd", "erfnd", "refnda"} <= neighbours("refnd") and "refnd" not in neighbours("refnd")
    index = Index.load(index_dir)
    right, wrong = parse_query(index, "refund delivery"), parse_query(index, "refnud delievry")
    assert not wrong.known
    fixed = correct(index, wrong)
    assert fixed.known == right.known and set(fixed.terms) == set(right.terms)
    known = parse_query(index, "refund delivery zq")  # every long term known: the same object back
    assert correct(index, known) is known
    far = parse_query(index, "zzzzzz")  # no indexed term one edit away
    assert correct(index, far) is far
    assert correct(index, parse_query(index, "tmatoes")).known == parse_query(index, "tomatoes").known



def test_compiled_cosines_equal_numpy(monkeypatch):
    if not kernel.load():
        pytest.skip("numba unavailable")
    rng = np.random.default_rng(5)
    index = _Vectors(_unit(rng, (500, 384)), _unit(rng, (500, 384)))
    docs = np.sort(rng.choice(500, 200, replace=False))
    q = _unit(rng, 384)
    compiled = dense.cosines(index, q, docs)
    monkeypatch.setattr(kernel, "_kernels", False)
    plain = dense.cosines(index, q, docs)
    for a, b in zip(compiled, plain):
        np.testing.assert_allclose(a, b, atol=1e-5)


@needs_model
def test_a_question_as_close_to_two_faq_questions_gets_choices_not_an_answer(tmp_path):
    """Two pages ask nearly the same FAQ question with different answers: a question matching both
    is answered with the two questions to choose from (uncertain), never one of the answers."""
    from dataclasses import replace

    from faqbot.search.answer import AnswerSettings, ask
    from faqbot.index.embed import load_embedder
    from faqbot.index.incremental import index_sources

    folder = tmp_path / "articles"
    folder.mkdir()
    pages = {"kids.md": ("School closures", "Should schools close during the outbreak?",
                         "Schools follow the advice of the local health department."),
             "work.md": ("Offices", "Should schools close during an outbreak?",
                         "Closing schools early slows the spread, the ministry says."),
             "pets.md": ("Pets", "Can my dog catch the virus?", "There is no evidence that dogs spread it.")}
    for name, (title, question, answer) in pages.items():
        (folder / name).write_text(f"# {title}\n\nAbout {title.lower()}.\n\n## Frequently Asked Questions\n\n"
                                   f"### {question}\n\n{answer}\n", encoding="utf-8")
    embedder = load_embedder()
    index_sources([folder], tmp_path / "ix", embedder=embedder)
    index = Index.load(tmp_path / "ix")
    settings = AnswerSettings(embedder=embedder, min_confidence=0.0, semantic_min_confidence=0.0)

    both = ask(index, "should schools close in an outbreak", 5, settings)
    assert both["uncertain"] is True and both["answer"] is None
    offered = {both["results"][0]["question"]} | {r["question"] for r in both["did_you_mean"]}
    assert offered == {"Should schools close during the outbreak?", "Should schools close during an outbreak?"}

    # A chip asks one of those questions word for word: that one is answered.
    chosen = ask(index, "Should schools close during an outbreak?", 5, settings)
    assert chosen["uncertain"] is False and chosen["answer"]["question"] == "Should schools close during an outbreak?"

    clear = ask(index, "can dogs catch it", 5, settings)
    assert clear["uncertain"] is False and clear["did_you_mean"] == []
    assert clear["answer"]["question"] == "Can my dog catch the virus?"
    lexical = ask(index, "should schools close in an outbreak", 5, AnswerSettings(min_confidence=0.0))
    assert lexical["uncertain"] is False and lexical["answer"] is not None  # BM25 scores: no such rule
    # semantic_min_confidence: a floor of semantic ranking only.
    strict = AnswerSettings(embedder=embedder, min_confidence=0.0, semantic_min_confidence=1.0)
    assert ask(index, "can dogs catch it", 5, strict)["answer"] is None
    assert ask(index, "can dogs catch it", 5, replace(strict, embedder=None))["answer"] is not None
