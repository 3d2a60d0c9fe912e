"""FAQ pairs from every common markup, each found by a named rule (tests/data/faq/: one page per pattern)."""

import json
from pathlib import Path

import pytest

from faqbot.cli import cli
from faqbot.ingest.extract import extract_passages, is_faq_heading
from faqbot.ingest.faq_rules import strip_question_number
from faqbot.ingest.read import find_sources, read_source

PAGES = Path(__file__).parent / "data" / "faq"

EXPECTED = {
    "jsonld-faqpage.html": ("jsonld-faqpage", ["When is my order dispatched?", "Can I change the delivery address?"]),
    "jsonld-qapage.html": ("jsonld-qapage", ["Why does my sourdough starter smell of nail polish?"]),
    "microdata-faqpage.html": ("microdata-faqpage", ["Who can get a library card?",
                                                     "How many books can I borrow at once?"]),
    "microdata-qapage.html": ("microdata-qapage", ["Why does my bike chain keep slipping in the smallest cog?"]),
    "rdfa-faqpage.html": ("rdfa-faqpage", ["How much does a resident permit cost?", "Can visitors park in my zone?"]),
    "accordion-bootstrap.html": ("accordion-bootstrap", ["Do I need my own shoes?", "Can children climb?",
                                                         "How do I cancel my membership?"]),
    "accordion-aria.html": ("accordion-aria", ["Which plastics go in the yellow bin?", "What if my bin was not emptied?",
                                               "Is glass collected at the door?"]),
    "wp-details.html": ("wp-details", ["Who pays if a repair goes wrong?", "Do we need insurance?"]),
    "faq-yoast.html": ("faq-yoast", ["What can I feed the worms?", "How often should I harvest the compost?"]),
    "faq-rankmath.html": ("faq-rankmath", ["Which balls are best for beginners?",
                                           "How long should I practise each day?"]),
    "toggle-elementor.html": ("toggle-elementor", ["Can we bring our own caterer?",
                                                   "Until what time can the party go on?"]),
    "toggle-divi.html": ("toggle-divi", ["Do I need a piano at home?", "What age can my child start?"]),
    "details.html": ("details", ["May I light a bonfire?", "Can I keep chickens?"]),
    "dl.html": ("dl", ["Is there an audition?", "Do I need to read music?"]),
    "faq-section-topic.html": ("faq-section", ["Can I plant lemon seeds from store-bought lemons?",
                                               "How long until a seedling bears fruit?"]),
    "faq-heading-de.md": ("faq-section", ["Wie reserviere ich ein Rad?", "Kostet die Ausleihe etwas?"]),
    "faq-heading-fr.md": ("faq-section", ["Peut-on payer par carte ?", "Les chiens sont-ils admis ?"]),
    "questions-answered.md": ("faq-section", ["Does a heat pump work in frost?", "Is it loud?"]),
    "question-heading-de.html": ("question-heading", ["Wo melde ich das Balkonkraftwerk an?",
                                                      "Brauche ich einen neuen Zähler?"]),
    "article-question-heading.html": ("question-heading", ["What does it cost to borrow a tool?"]),
    "bold-question.html": ("bold-question", ["Do I need to be able to swim?", "What happens if the weather turns?"]),
    "bold-question.md": ("bold-question", ["Which grit should I start with?", "How often should I sharpen?"]),
    "qa-lines.html": ("qa-lines", ["How many volunteers does the shop need?", "Does the shop make a profit?"]),
    "qa-lines.md": ("qa-lines", ["Do I need to bring a helmet?", "Can I carry children in the box?"]),
    "qa-lines.txt": ("qa-lines", ["Is the water deep?", "What should I bring?"]),
}


def faq_passages(name: str):
    sources, skipped = find_sources([PAGES / name])
    assert skipped == []
    return [p for p in extract_passages(read_source(sources[0]), sources[0].article_id) if p.kind == "faq"]


def test_every_page_has_its_expectation():
    assert sorted(p.name for p in PAGES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_pattern_gives_its_pairs_by_its_rule(name):
    rule, questions = EXPECTED[name]
    pairs = faq_passages(name)
    assert [(p.rule, p.question) for p in pairs] == [(rule, q) for q in questions]
    assert all(p.text for p in pairs)


def test_collapsed_and_hidden_panels_are_answers():
    texts = {p.question: p.text for p in faq_passages("accordion-bootstrap.html") + faq_passages("accordion-aria.html")}
    assert texts["Can children climb?"] == "Children from six years climb with an adult who has passed our belay check."
    assert texts["What if my bin was not emptied?"] == (
        "Report it online by noon the next working day and the crew returns within two days. "
        "Bins that hold the wrong waste get a sticker explaining why.")
    assert texts["Is glass collected at the door?"].startswith("No, please take glass to a bottle bank.")


def test_an_answer_runs_until_the_next_question_or_a_heading_as_high():
    lemon = {p.question: p.text for p in faq_passages("faq-section-topic.html")}
    assert lemon["How long until a seedling bears fruit?"] == (
        "Expect five to ten years. Grafted trees from a nursery fruit much sooner.")
    meter = {p.question: p.text for p in faq_passages("question-heading-de.html")}
    assert meter["Brauche ich einen neuen Zähler?"] == (
        "Ein alter Ferraris-Zähler ohne Rücklaufsperre darf vorübergehend bleiben.\n"
        "- Der Netzbetreiber tauscht ihn kostenlos.\n- Einen Elektriker brauchen Sie dafür nicht.")
    kayak = {p.question: p.text for p in faq_passages("bold-question.html")}
    assert kayak["What happens if the weather turns?"] == (
        "The lifeguard raises a red flag and everyone returns to the jetty. You can rebook the lost time for free. "
        "Bring a change of clothes, just in case.")


def test_question_heading_in_an_ordinary_article_is_a_pair_and_a_statement_heading_is_not():
    sources, _ = find_sources([PAGES / "article-question-heading.html"])
    passages = extract_passages(read_source(sources[0]), sources[0].article_id)
    faq = [p for p in passages if p.kind == "faq"]
    assert [p.question for p in faq] == ["What does it cost to borrow a tool?"]
    # The lower heading inside the answer belongs to it; "Thanks" (same level) ends it.
    assert faq[0].text == ("Borrowing is free. A deposit of twenty euros is taken for power tools and returned with "
                           "the tool. Opening hours The tool library opens on Saturdays from ten to one.")
    why = [p for p in passages if p.section == "Why we built this"]
    assert [p.kind for p in why] == ["paragraph"]
    assert all(p.question != "Why we built this" for p in passages)


@pytest.mark.parametrize("text, expected", [
    ("1. Can I plant lemon seeds?", "Can I plant lemon seeds?"),
    ("Q1: Is it safe?", "Is it safe?"),
    ("Q: Is it safe?", "Is it safe?"),
    ("Frage 3: Brauche ich einen Zähler?", "Brauche ich einen Zähler?"),
    ("12) Why now?", "Why now?"),
    ("Why 2024 matters?", "Why 2024 matters?"),
    ("3D printing: is it worth it?", "3D printing: is it worth it?"),
])
def test_leading_numbers_and_q_labels_are_dropped(text, expected):
    assert strip_question_number(text) == expected


@pytest.mark.parametrize("heading", [
    "FAQ", "FAQs", "F.A.Q.", "How to Grow a Lemon Tree from Seed: FAQs", "FAQs about shipping",
    "Frequently asked questions (FAQ)", "Your questions, answered", "Häufig gestellte Fragen (FAQ)",
    "Questions fréquentes", "Lemon trees – questions and answers",
])
def test_faq_headings_however_phrased(heading):
    assert is_faq_heading(heading)


@pytest.mark.parametrize("heading", ["Why we built this", "Answers to the climate question", "Fafq"])
def test_other_headings_are_not_faq_headings(heading):
    assert not is_faq_heading(heading)


def test_inspect_json_names_the_rule_of_each_pair(runner):
    result = runner.invoke(cli, ["inspect", str(PAGES / "faq-yoast.html"), "--json"])
    assert result.exit_code == 0, result.output
    passages = json.loads(result.output)[0]["passages"]
    assert [(p["kind"], p["rule"]) for p in passages] == [("paragraph", None), ("faq", "faq-yoast"),
                                                           ("faq", "faq-yoast")]
    human = runner.invoke(cli, ["inspect", str(PAGES / "faq-yoast.html")])
    assert "Q: What can I feed the worms?  [faq-yoast]" in human.output
