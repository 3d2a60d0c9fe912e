"""Our BM25 equals rank-bm25's BM25Okapi on the same tokens."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from faqbot.index.bm25 import accumulate, build_postings
from faqbot.index.store import Index
from faqbot.index.pipeline import passages_of, load_articles, tokenize_passages
import faqbot.search.lexical as search
from faqbot.search.lexical import best_passages, parse_query

WORDS = [f"w{i}" for i in range(12)]
corpora = st.lists(st.lists(st.sampled_from(WORDS), max_size=15), min_size=3, max_size=40)
queries = st.lists(st.sampled_from(WORDS + ["unknown"]), min_size=1, max_size=6)


def _ours(corpus, query):
    vocab = sorted({t for doc in corpus for t in doc})
    ids = {t: i for i, t in enumerate(vocab)}
    postings = build_postings([[ids[t] for t in doc] for doc in corpus], len(vocab))
    counts = Counter(ids[t] for t in query if t in ids)
    return accumulate(postings, counts, len(corpus))


@settings(max_examples=200, deadline=None)
@given(corpora, queries)
def test_scores_equal_bm25okapi_on_random_corpora(corpus, query):
    # Small vocabularies put many words in more than half the documents: the epsilon floor.
    if sum(map(len, corpus)) == 0:
        return
    expected = BM25Okapi(corpus).get_scores(query)
    assert np.allclose(_ours(corpus, query), expected, atol=1e-6, rtol=0)


def test_scores_equal_bm25okapi_on_a_real_index(corpus_dir, tmp_path):
    from faqbot.index.writer import build_index

    articles, _ = load_articles([corpus_dir])
    passages = passages_of(articles)
    tokens = tokenize_passages(passages, {})
    build_index(passages, tokens, tmp_path / "ix", articles=len(articles))
    index = Index.load(tmp_path / "ix")
    reference = BM25Okapi(tokens["body"])
    for question in ("can I get a refund", "reset password email", "shipping costs euros", "tomato sun soil"):
        query = parse_query(index, question)
        dense = accumulate(index.fields["body"], query.known, index.n_passages)
        expected = reference.get_scores(list(query.terms.elements()))
        assert np.allclose(dense, expected, atol=1e-6, rtol=0)
        best = [h.doc for h in best_passages(index, query.known, 3, {"body": 1.0})]
        assert best == list(np.argsort(-expected, kind="stable")[: len(best)])


def assert_top_k(hits, expected, matching, k):
    """hits are the k best of the matching docs by the expected (BM25Okapi) scores, up to ties."""
    want = sorted(matching, key=lambda d: (-expected[d], d))[:k]
    assert len(hits) == len(want)
    for hit, wanted in zip(hits, want):
        assert abs(hit.score - expected[hit.doc]) <= 1e-6
        assert hit.doc == wanted or abs(expected[hit.doc] - expected[wanted]) <= 1e-9


class _PostingsOnly:
    """The parts of an Index that best_passages reads, over a random corpus."""

    def __init__(self, corpus):
        vocab = sorted({t for doc in corpus for t in doc})
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.fields = {"body": build_postings([[self.ids[t] for t in doc] for doc in corpus], len(vocab))}
        self.n_passages = len(corpus)

    def max_weight(self, postings, term):
        lo, hi = int(postings.indptr[term]), int(postings.indptr[term + 1])
        return float(postings.weights[lo:hi].max())


@pytest.mark.parametrize("prune_from", [0, 10**9, "compiled", "compiled-scan", "compiled-pruned"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=corpora, query=queries, k=st.integers(1, 5))
def test_fast_top_k_equals_bm25okapi(monkeypatch, compiled_kernel, prune_from, corpus, query, k):
    """The query path's top-k (numpy with MaxScore pruning forced on and off; compiled: listing the
    passages touched, scanning all scores, or pruned) is BM25Okapi's, up to ties."""
    from faqbot.search import kernel

    if sum(map(len, corpus)) == 0:
        return
    compiled = isinstance(prune_from, str)
    monkeypatch.setattr(kernel, "_kernels", compiled_kernel if compiled else None)
    monkeypatch.setattr(search, "PRUNE_FROM_POSTINGS", 0 if compiled else prune_from)
    monkeypatch.setattr(search, "PRUNE_FROM_PASSAGES", 0 if prune_from == "compiled-pruned" else 10**9)
    monkeypatch.setattr(search, "SCAN_FROM", 10**9 if prune_from == "compiled-scan" else 0)
    index = _PostingsOnly(corpus)
    hits = best_passages(index, Counter(index.ids[t] for t in query if t in index.ids), k, {"body": 1.0})
    expected = BM25Okapi(corpus).get_scores(query)
    matching = [d for d in range(len(corpus)) if any(t in corpus[d] for t in query)]
    assert_top_k(hits, expected, matching, k)


@pytest.fixture(scope="module")
def compiled_kernel():
    from faqbot.search import kernel

    assert kernel.load(), "numba is a dependency: the compiled kernel must load"
    kernels = kernel._kernels
    kernel._kernels = None  # other tests choose their path themselves
    return kernels


@pytest.mark.parametrize("path", ["numpy", "compiled", "compiled-scan", "compiled-pruned"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=corpora, questions=corpora, query=queries, k=st.integers(1, 5), within=st.booleans())
def test_two_field_top_k_equals_summed_bm25okapi(monkeypatch, compiled_kernel, path, corpus, questions, query, k, within):
    """Every query path (numpy; compiled: listing, scanning or pruned) gives the top k of body + question
    BM25Okapi, whether or not each question's words are among its passage's (in a real index the
    body holds the question)."""
    from faqbot.search import kernel

    questions = (questions * len(corpus))[:len(corpus)]  # one (possibly empty) question per passage
    if within:
        questions = [[t for t in q if t in body] for q, body in zip(questions, corpus)]
    if sum(map(len, corpus)) == 0 or sum(map(len, questions)) == 0:
        return
    monkeypatch.setattr(kernel, "_kernels", compiled_kernel if path.startswith("compiled") else None)
    monkeypatch.setattr(search, "PRUNE_FROM_PASSAGES", 0 if path == "compiled-pruned" else 10**9)
    monkeypatch.setattr(search, "SCAN_FROM", 10**9 if path == "compiled-scan" else 0)
    index = _PostingsOnly(corpus)
    index.fields["question"] = build_postings([[index.ids[t] for t in doc if t in index.ids] for doc in questions], len(index.ids))
    fields = {"body": 1.0, "question": 1.0}
    hits = best_passages(index, Counter(index.ids[t] for t in query if t in index.ids), k, fields)
    expected = BM25Okapi(corpus).get_scores(query)
    kept = [[t for t in doc if t in index.ids] for doc in questions]
    if any(kept):
        expected = expected + BM25Okapi(kept).get_scores(query)
    matching = [d for d in range(len(corpus)) if any(t in corpus[d] or t in kept[d] for t in query)]
    assert_top_k(hits, expected, matching, k)


TIER_WORDS = [f"t{i}" for i in range(40)]  # a larger vocabulary: most idf are positive, so pruning runs
tier_corpora = st.lists(st.lists(st.sampled_from(TIER_WORDS), min_size=1, max_size=12), min_size=5, max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=tier_corpora, questions=tier_corpora, query=st.lists(st.sampled_from(TIER_WORDS), min_size=1, max_size=6),
       k=st.integers(1, 10), share=st.floats(0.01, 1.0), width=st.integers(1, 9), body_only=st.booleans(),
       within=st.booleans())
def test_tiered_ranges_equal_summed_bm25okapi(monkeypatch, compiled_kernel, corpus, questions, query, k, share, width,
                                              body_only, within):
    """The range-by-range kernel over top tiers (bm25.Tiers; any tier share, any range width) gives
    the top k of body + question BM25Okapi, and of the body alone, whether or not each question's
    words are among its passage's."""
    from faqbot.search import kernel
    from faqbot.index.bm25 import top_tiers

    questions = (questions * len(corpus))[:len(corpus)]
    vocab = {t for body in corpus for t in body}
    questions = [[t for t in q if (t in body if within else t in vocab)] for q, body in zip(questions, corpus)]
    monkeypatch.setattr(kernel, "_kernels", compiled_kernel)
    monkeypatch.setattr(search, "TIERED_FROM_PASSAGES", 0)
    monkeypatch.setattr(search, "RANGE_WIDTH", width)
    index = _PostingsOnly(corpus)
    index.fields["question"] = build_postings([[index.ids[t] for t in q] for q in questions], len(index.ids))
    index.tiers = top_tiers(index.fields["body"], index.fields["question"], min_postings=1, share=share)
    fields = {"body": 1.0} if body_only else {"body": 1.0, "question": 1.0}
    hits = best_passages(index, Counter(index.ids[t] for t in query if t in index.ids), k, fields)
    expected = BM25Okapi(corpus).get_scores(query)
    if not body_only and any(questions):
        expected = expected + BM25Okapi(questions).get_scores(query)
    matching = [d for d in range(len(corpus)) if any(t in corpus[d] or (t in questions[d] and not body_only) for t in query)]
    assert_top_k(hits, expected, matching, k)


def test_built_index_has_top_tiers_that_partition_the_long_lists(corpus_dir, tmp_path, monkeypatch):
    """Every body posting of a tiered term is in its top tier (weight >= floor) or its rest (< floor), not both."""
    from functools import partial

    import faqbot.index.writer
    from faqbot.index.bm25 import top_tiers
    from faqbot.index.writer import build_index

    monkeypatch.setattr(faqbot.index.writer, "top_tiers", partial(top_tiers, min_postings=1))
    articles, _ = load_articles([corpus_dir])
    passages = passages_of(articles)
    build_index(passages, tokenize_passages(passages, {}), tmp_path / "ix", articles=len(articles))
    index = Index.load(tmp_path / "ix")
    tiers, body, question = index.tiers, index.fields["body"], index.fields["question"]
    assert tiers is not None and len(tiers.docs) > 0
    for t in range(len(index.terms)):
        lo, hi = body.indptr[t], body.indptr[t + 1]
        top = slice(tiers.indptr[t], tiers.indptr[t + 1])
        high = body.weights[lo:hi] >= tiers.floor[t]
        kept = dict(zip(tiers.docs[top].tolist(), tiers.weights[top].tolist()))
        assert {d: w for d, w in zip(body.docs[lo:hi][high].tolist(), body.weights[lo:hi][high].tolist())} == \
            {d: w for d, w in kept.items() if w}
        qlo, qhi = question.indptr[t], question.indptr[t + 1]
        assert set(question.docs[qlo:qhi].tolist()) <= set(kept)
        rest = body.weights[lo:hi][~high]
        assert tiers.rest_bound[t] == (rest.max() if len(rest) else 0.0)
