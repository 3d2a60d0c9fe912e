"""The quality metrics, on small hand-made cases."""

import json

import pytest

from faqbot.ops.evaluate import evaluate, gold_passages, load_queries, metrics, no_answer_metrics
from faqbot.model import Passage


def _p(n, kind="paragraph", question=None, text="", article="a"):
    return Passage(id=f"{article}#{n}", article=article, kind=kind, question=question, text=text,
                   title="T", section="", url="/a", link="/a")


def test_hit_and_mrr_from_ranks():
    m = metrics([1, 2, None, 4])
    assert m["queries"] == 4
    assert m["hit@1"] == pytest.approx(0.25)
    assert m["hit@3"] == pytest.approx(0.5)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 2 + 1 / 4) / 4)


def test_rank_beyond_ten_counts_as_a_miss_for_mrr():
    assert metrics([11])["mrr@10"] == 0.0


def test_no_answer_precision_and_recall():
    # 2 out-of-scope questions (one refused), 2 in-scope (one refused by mistake)
    m = no_answer_metrics(out_of_scope=[True, True, False, False], answered=[False, True, False, True])
    assert (m["precision"], m["recall"], m["out_of_scope"]) == (0.5, 0.5, 2)


def test_faq_gold_matches_the_question_on_any_page_and_paragraph_gold_its_chunks(tmp_path):
    passages = [
        _p(0, "faq", "What is X?", "X is a thing.", article="a"),
        _p(1, "faq", "what is  X?", "Copy on another page.", article="b"),
        _p(2, text="Oxygen was discovered by Scheele in 1773 and by Priestley.", article="ox"),
        _p(3, text="Priestley published first, so he is often given priority.", article="ox"),
        _p(4, text="Unrelated paragraph about something else entirely here.", article="ox"),
    ]
    (tmp_path / "ox.md").write_text(
        "# Oxygen\n\nOxygen was discovered by Scheele in 1773 and by Priestley. "
        "Priestley published first, so he is often given priority.\n\nUnrelated paragraph about something else entirely here.\n")
    queries = load_queries(_write(tmp_path, [
        {"id": "1", "query": "what's X", "article": "a", "gold": "What is X?", "kind": "faq"},
        {"id": "2", "query": "who found oxygen", "article": "ox", "gold": "Oxygen was discovered by Scheele", "kind": "paragraph"},
    ]))
    assert gold_passages(queries[0], passages) == {0, 1}
    assert gold_passages(queries[1], passages, tmp_path) == {2, 3}


def test_evaluate_reports_overall_per_kind_no_answer_and_misses(tmp_path):
    passages = [_p(0, "faq", "Q one?", "A1"), _p(1, "faq", "Q two?", "A2"), _p(2, text="Some paragraph text here.")]
    queries = load_queries(_write(tmp_path, [
        {"id": "1", "query": "one", "article": "a", "gold": "Q one?", "kind": "faq"},
        {"id": "2", "query": "two", "article": "a", "gold": "Q two?", "kind": "faq"},
        {"id": "3", "query": "para", "article": "a", "gold": "Some paragraph", "kind": "paragraph"},
        {"id": "4", "query": "hello", "article": "", "gold": [], "kind": "none"},
    ]))
    ranking = {"one": ([0, 1], True), "two": ([0, 1], True), "para": ([2], False), "hello": ([1], False)}
    report = evaluate(lambda q: ranking[q], queries, passages)
    assert report["overall"]["hit@1"] == pytest.approx(2 / 3)
    assert report["overall"]["mrr@10"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert report["overall"]["answered_hit@1"] == pytest.approx(1 / 3)
    assert report["faq"]["hit@1"] == 0.5 and report["paragraph"]["hit@1"] == 1.0
    assert report["no_answer"] == {"out_of_scope": 1, "precision": 0.5, "recall": 1.0}
    assert [(m["id"], m["rank"], m["first"]) for m in report["misses"]] == [("2", 2, "Q one?")]


def _write(tmp_path, rows):
    path = tmp_path / "queries.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path
