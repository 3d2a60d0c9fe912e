"""phrase_coverage: the question's words standing together in the passage, and the confidence it gives."""

from __future__ import annotations

import json
from pathlib import Path

from faqbot.index.incremental import index_sources
from faqbot.index.store import Index
from faqbot.search.answer import AnswerSettings, ask
from faqbot.search.phrases import phrase_coverage

DATA = Path(__file__).parent / "data"


def test_pairs_adjacent_in_the_passage_count_scattered_ones_do_not():
    assert phrase_coverage(["điện", "thoại"], ["điện", "thoại", "mới"]) == 1.0
    assert phrase_coverage(["điện", "thoại"], ["thoại", "cổ", "điện"]) == 0.0
    assert phrase_coverage(["a", "b", "c"], ["a", "b", "x", "c"]) == 0.5
    assert phrase_coverage(["a"], ["a", "b"]) == 0.0  # one term: no pair to find
    assert phrase_coverage([], []) == 0.0


def test_scattered_syllables_give_less_confidence_than_the_same_word(tmp_path):
    """Vietnamese words are several syllables; a passage holding them apart is not the answer."""
    pages = {
        "phone": "Điện thoại di động đầu tiên được bán vào năm 1983 với giá rất cao.",
        "river": "Nhà máy điện trên sông được xây dựng vào năm 1990. Cuộc đối thoại giữa hai nước kéo dài.",
        "museum": "Bảo tàng mở cửa từ thứ hai đến thứ bảy, vé vào cửa miễn phí cho trẻ em.",
        "food": "Phở là món ăn truyền thống, nấu từ xương bò trong nhiều giờ.",
    }
    for name, body in pages.items():
        (tmp_path / f"{name}.md").write_text(f"---\nlang: vi\n---\n{body}\n", encoding="utf-8")
    index_sources([tmp_path], tmp_path / "index")
    index = Index.load(tmp_path / "index")
    together = ask(index, "Điện thoại đầu tiên bán năm nào?", 1, AnswerSettings())
    # The same words, so the same passage, BM25 score and coverage; only their order differs.
    apart = ask(index, "Thoại điện tiên đầu bán năm nào?", 1, AnswerSettings())
    assert "Điện thoại" in together["results"][0]["text"] == apart["results"][0]["text"]
    assert together["results"][0]["score"] == apart["results"][0]["score"]
    assert together["results"][0]["confidence"] > apart["results"][0]["confidence"]
    assert together["answer"] is not None


def test_held_out_off_topic_sets_cover_each_language():
    """Every XQuAD language has held-out off-topic questions, none repeated in its fit set."""
    for lang in ("ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"):
        held = [json.loads(line) for line in (DATA / f"out_of_scope_{lang}_heldout.jsonl").open(encoding="utf-8")]
        assert len(held) >= 25
        assert all(q["kind"] == "none" and not q["gold"] and q["query"].strip() for q in held)
        assert len({q["id"] for q in held}) == len(held) == len({q["query"] for q in held})
        fit = DATA / f"out_of_scope_{lang}.jsonl"
        if fit.exists():
            assert not {q["query"] for q in held} & {json.loads(line)["query"] for line in fit.open(encoding="utf-8")}
