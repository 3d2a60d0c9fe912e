"""ask()'s fast parts give what the straightforward code gives: highlighted terms and result dicts."""

from __future__ import annotations

import json
import string

from hypothesis import given, settings, strategies as st

from faqbot.text.analyze import _WORD, normalize, token, words
from faqbot.search.answer import AnswerSettings, ask, rank_passages
from faqbot.index.store import Index
from faqbot.index.incremental import index_sources

from .conftest import REPO, SHARED


def _plain_terms(wanted: set[str], language: str, texts: list[str]) -> list[str]:
    """Every word of the texts, in order, once, whose token is a query term: no shortcuts."""
    return [w for w in dict.fromkeys(w for text in texts for w in words(text)) if token(w, language) in wanted]


def test_terms_and_results_equal_the_straightforward_code(tmp_path):
    folders = [REPO / "corpus"] + [p for p in (SHARED / "eval" / "articles", SHARED / "eval-multilingual" / "de")
                                   if p.is_dir()]
    index_sources(folders, tmp_path / "ix")
    index = Index.load(tmp_path / "ix")
    for i in range(index.n_passages):
        assert index.passage_dict(i) == index.passage(i).to_dict()
    questions = [json.loads(line)["query"] for line in (REPO / "tests" / "data" / "realistic_faq.jsonl").open()]
    if (SHARED / "eval" / "queries.jsonl").exists():
        questions += [json.loads(line)["query"] for line in (SHARED / "eval" / "queries.jsonl").open()]
    questions += ["Wie kündige ich meinen Vertrag?", "Café über Straße", "what's the refund's policy?"]
    highlighted = 0
    for question in questions:
        for lang in (None, "de"):
            got = ask(index, question, 5, AnswerSettings(), lang)
            if not got["results"] or not got["results"][0]["score"]:
                continue
            first = got["results"][0]
            query = rank_passages(index, question, 5, AnswerSettings(), lang)[0]  # spelling corrected
            assert got["terms"] == _plain_terms(set(query.terms), query.language, [first["question"] or "", first["text"]]), question
            highlighted += bool(got["terms"])
    assert highlighted >= 100


@settings(max_examples=500, deadline=None)
@given(st.text(string.printable + "’_", max_size=60))
def test_ascii_words_are_the_word_pattern_s(text):
    normalized = normalize(text)
    assert words(text) == _WORD.findall(normalized)
