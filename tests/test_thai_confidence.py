"""Thai has its own confidence weights (search/confidence_weights.OWN_LEXICAL_WEIGHTS): with the weights shared
by the bigram languages it answered nearly every off-topic question (7.5% of the held-out ones refused)."""

from __future__ import annotations

import pytest

from faqbot.index.incremental import index_sources
from faqbot.index.store import Index
from faqbot.search import answer, confidence_weights

AMAZON = """---
title: ป่าฝนอเมซอน
lang: th
---

ป่าฝนอเมซอนเป็นป่าดิบชื้นขนาดใหญ่ที่สุดในโลก ครอบคลุมพื้นที่กว่าห้าล้านตารางกิโลเมตรในทวีปอเมริกาใต้ ส่วนใหญ่อยู่ในประเทศบราซิล

แม่น้ำอเมซอนไหลผ่านป่าแห่งนี้และเป็นแม่น้ำที่มีปริมาณน้ำมากที่สุดในโลก ปลายแม่น้ำไหลลงสู่มหาสมุทรแอตแลนติก

ป่าฝนอเมซอนเป็นที่อยู่อาศัยของพืชและสัตว์หลายล้านชนิด รวมถึงเสือจากัวร์ นกแก้ว และปลาปิรันยา

การตัดไม้ทำลายป่าเพื่อทำไร่และเลี้ยงวัวเป็นภัยคุกคามที่ใหญ่ที่สุดของป่าฝนอเมซอนในปัจจุบัน

ชนพื้นเมืองหลายร้อยกลุ่มอาศัยอยู่ในป่าอเมซอนมาเป็นเวลาหลายพันปี และพูดภาษาที่แตกต่างกันมากมาย
"""

IN_SCOPE = ["แม่น้ำอเมซอนไหลลงสู่มหาสมุทรใด", "ภัยคุกคามที่ใหญ่ที่สุดของป่าอเมซอนคืออะไร", "สัตว์อะไรอาศัยอยู่ในป่าฝนอเมซอน"]
# What is your name? How is the weather today? Where is the nearest restaurant? How do I book a
# plane ticket? What is the price of petrol today?
OFF_TOPIC = ["คุณชื่ออะไร", "วันนี้อากาศเป็นอย่างไร", "ร้านอาหารใกล้ที่สุดอยู่ที่ไหน", "ฉันจะจองตั๋วเครื่องบินได้อย่างไร",
             "ราคาน้ำมันวันนี้เท่าไร"]


@pytest.fixture(scope="module")
def thai_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("thai")
    (folder / "src").mkdir()
    (folder / "src" / "amazon.md").write_text(AMAZON, encoding="utf-8")
    index_sources([folder / "src"], folder / "index")
    return Index.load(folder / "index")


def test_thai_questions_about_the_article_are_answered_and_off_topic_ones_refused(thai_index):
    for question in IN_SCOPE:
        assert answer.ask(thai_index, question)["answer"] is not None, question
    for question in OFF_TOPIC:
        assert answer.ask(thai_index, question)["answer"] is None, question


def test_with_the_bigram_languages_weights_thai_off_topic_questions_were_answered(thai_index, monkeypatch):
    monkeypatch.setitem(confidence_weights.OWN_LEXICAL_WEIGHTS, "th", confidence_weights.BIGRAM_LEXICAL_WEIGHTS)
    answered = [q for q in OFF_TOPIC if answer.ask(thai_index, q)["answer"] is not None]
    assert len(answered) >= 4
