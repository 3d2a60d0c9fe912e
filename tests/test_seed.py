"""The user's own article: the first real input, which must come out exactly right."""

from faqbot.search.answer import ask
from faqbot.ingest.extract import extract_passages
from faqbot.index.store import Index
from faqbot.ingest.read import find_sources, read_source

from .conftest import SEED


def _seed():
    sources, skipped = find_sources([SEED])
    assert skipped == []
    article = read_source(sources[0])
    return article, extract_passages(article, sources[0].article_id)


def test_seed_is_one_article_with_exactly_its_three_faq_pairs():
    article, passages = _seed()
    assert article.title == "Open Source AI Must Win"
    assert [p.question for p in passages if p.kind == "faq"] == [
        "What is open source AI?",
        "Why is open source AI important?",
        "What are the main challenges of open source AI?",
    ]
    answers = [p.text for p in passages if p.kind == "faq"]
    assert answers[2].startswith("The main challenges include limited funding")


def test_seed_sections_are_its_four_headings_and_the_faq_heading():
    article, passages = _seed()
    headings = [b.text for b in article.blocks if b.kind == "heading"]
    assert headings == [
        "The Rise of Open Source AI",
        "Benefits of Open Source AI",
        "Challenges Facing Open Source AI",
        "The Future of Open Source AI",
        "Frequently Asked Questions",
    ]
    assert {p.section for p in passages} == set(headings)


def test_seed_list_items_stay_with_their_lead_in_paragraph():
    _, passages = _seed()
    benefits = [p for p in passages if p.text.startswith("Open source AI offers several distinct advantages")]
    assert len(benefits) == 1
    assert "- Collaboration: Open source projects invite developers" in benefits[0].text
    assert "- Cost-Effectiveness: Free access to tools" in benefits[0].text
    challenges = [p for p in passages if p.text.startswith("Despite its benefits")]
    assert "- Intellectual Property Concerns:" in challenges[0].text


def test_seed_page_furniture_is_not_indexed():
    article, passages = _seed()
    everything = " ".join([article.title] + [p.text for p in passages] + [p.section for p in passages])
    for furniture in ("Comments", "Related Articles", "Verizon", "Chessnut", "Technology", "Fable", "Coinbase"):
        assert furniture not in everything


def test_seed_answers_the_challenges_question_with_its_faq_answer(seed_index):
    response = ask(Index.load(seed_index), "What are the main challenges of open source AI?")
    answer = response["answer"]
    assert answer["question"] == "What are the main challenges of open source AI?"
    for topic in ("funding", "quality", "intellectual property"):
        assert topic in answer["text"]
    assert answer["link"].startswith("/articles/open-source-ai-must-win#")


def test_seed_has_no_answer_for_an_unrelated_question(seed_index):
    response = ask(Index.load(seed_index), "refurbished phone with MDM deleted his data")
    assert response["answer"] is None
    assert len(response["results"]) == 5
