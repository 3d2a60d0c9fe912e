"""Passages: FAQ forms, paragraphs with context, merging and splitting, deep links."""

from faqbot.ingest.extract import extract_passages, is_faq_heading, text_fragment_link
from faqbot.model import Article, Block, FaqPair
from faqbot.ingest.read_markdown import read_markdown
from faqbot.ingest.read_text import read_text


def _passages(article):
    return extract_passages(article, "a")


def test_markdown_faq_headings_pair_with_answers():
    article = read_markdown(
        "# T\n\n## FAQ\n\n### Is it free?\n\nYes, it is free for everyone.\n\nReally free.\n\n"
        "### Who made it?\n\nA small team of volunteers.\n\n## Afterword\n\nA closing paragraph that is not an answer.\n"
    )
    faqs = [(p.question, p.text, p.section) for p in _passages(article) if p.kind == "faq"]
    assert faqs == [
        ("Is it free?", "Yes, it is free for everyone. Really free.", "FAQ"),
        ("Who made it?", "A small team of volunteers.", "FAQ"),
    ]
    paragraphs = [p for p in _passages(article) if p.kind == "paragraph"]
    assert [(p.section, p.text) for p in paragraphs] == [("Afterword", "A closing paragraph that is not an answer.")]


def test_text_faq_lines_ending_in_question_mark():
    article = read_text(
        "Title\nIntro\nSome introduction paragraph that is long enough to stand alone here.\n"
        "Frequently Asked Questions\nDoes it work offline?\nYes, nothing is downloaded at run time.\n"
        "Can I change the colours?\nYes, with the data-accent attribute.\n"
    )
    faqs = [(p.question, p.text) for p in _passages(article) if p.kind == "faq"]
    assert faqs == [
        ("Does it work offline?", "Yes, nothing is downloaded at run time."),
        ("Can I change the colours?", "Yes, with the data-accent attribute."),
    ]


def test_questions_outside_an_faq_section_are_paragraphs():
    article = read_markdown("# T\n\n## Intro\n\nWhy would anyone do this at all?\n\nBecause it is fun to try things.\n")
    assert {p.kind for p in _passages(article)} == {"paragraph"}


def test_structured_faq_wins_over_the_visible_faq_section():
    article = Article(
        title="T",
        url="https://e.com/p",
        blocks=(
            Block("heading", "Frequently Asked Questions", level=2),
            Block("heading", "Is it free?", level=3),
            Block("paragraph", "Visible copy of the answer."),
        ),
        faqs=(FaqPair("Is it free?", "Yes, completely free.", anchor="free"),),
    )
    passages = _passages(article)
    assert [(p.kind, p.question, p.text, p.link) for p in passages] == [
        ("faq", "Is it free?", "Yes, completely free.", "https://e.com/p#free")
    ]


def test_qa_blocks_from_details_and_dl_become_faq_pairs():
    """A pair without an id of its own links to its question text, closer than the section id."""
    article = Article(
        title="T", url="/p",
        blocks=(Block("heading", "Care", level=2, anchor="care"),
                Block("qa", "Once a week in summer.", question="How often should I water?")),
    )
    (p,) = _passages(article)
    assert (p.kind, p.question, p.text, p.section, p.link) == (
        "faq", "How often should I water?", "Once a week in summer.", "Care",
        "/p#:~:text=How%20often%20should%20I%20water%3F")


def test_tiny_fragments_merge_and_long_paragraphs_split():
    sentence = "This sentence has exactly ten words in it for testing. "
    article = Article(
        title="T", url="/p",
        blocks=(Block("heading", "S", level=2), Block("paragraph", "Too short."),
                Block("paragraph", "A normal paragraph of a reasonable length follows here."),
                Block("paragraph", (sentence * 30).strip())),
    )
    passages = _passages(article)
    assert passages[0].text == "Too short. A normal paragraph of a reasonable length follows here."
    long_parts = passages[1:]
    assert len(long_parts) == 3
    assert all(len(p.text.split()) <= 120 for p in long_parts)
    assert all(p.text.endswith("testing.") for p in long_parts)


def test_paragraph_links_use_heading_id_else_text_fragment():
    article = Article(
        title="T", url="https://e.com/p",
        blocks=(Block("heading", "With id", level=2, anchor="with-id"),
                Block("paragraph", "A paragraph under a heading that has an id attribute."),
                Block("heading", "Without", level=2),
                Block("paragraph", "Rock-solid, tested & true: the second paragraph here.")),
    )
    first, second = _passages(article)
    assert first.link == "https://e.com/p#with-id"
    assert second.link == ("https://e.com/p#:~:text=Rock%2Dsolid%2C%20tested%20%26%20true%3A%20the%20second%20paragraph%20here.")


def test_passage_ids_are_stable_and_carry_context():
    article = read_markdown("# Title\n\n## Sec\n\nOne paragraph with enough words to stand alone.\n\nTwo paragraphs with enough words to stand alone.\n")
    a, b = extract_passages(article, "my-article")
    assert (a.id, b.id, a.article, a.title, a.section) == ("my-article#0", "my-article#1", "my-article", "Title", "Sec")


def test_faq_heading_detection():
    for text in ("FAQ", "FAQs", "Frequently Asked Questions", "frequently asked questions about X", "Q&A"):
        assert is_faq_heading(text)
    for text in ("Faster answers", "Questions we never answer", "Benefits"):
        assert not is_faq_heading(text)


def test_text_fragment_link_escapes_reserved_characters():
    assert text_fragment_link("/a#old", "a-b, c & d", words=8) == "/a#:~:text=a%2Db%2C%20c%20%26%20d"


def test_structured_faq_takes_the_visible_question_heading_id():
    article = Article(
        title="T", url="https://e.com/p",
        blocks=(Block("heading", "FAQ", level=2, anchor="faq"),
                Block("heading", "Is it free?", level=3, anchor="is-it-free"),
                Block("paragraph", "Visible copy of the answer.")),
        faqs=(FaqPair("Is it free?", "Yes, completely free."),),
    )
    (passage,) = _passages(article)
    assert (passage.section, passage.link) == ("FAQ", "https://e.com/p#is-it-free")


def test_a_title_that_is_the_texts_first_words_is_not_indexed_as_context():
    from faqbot.index.store import index_text
    from faqbot.ingest.extract import title_is_opening

    opening = "Im Jahr 2000 startete ABC eine webbasierte Werbekampagne rund um ihr Logo."
    placeholder = Article(title="Im Jahr 2000 startete ABC eine", blocks=(
        Block("paragraph", opening), Block("heading", "Serien", level=2),
        Block("paragraph", "Die Fernsehserie lief zehn Jahre lang.")))
    assert title_is_opening(placeholder)
    first, second = extract_passages(placeholder, "abc")
    assert not first.title_indexed and first.title == "Im Jahr 2000 startete ABC eine"  # still shown
    assert "startete" not in index_text(second)["body"]
    # A real title stays: shorter ones that open the text ("Oxygen is ..."), and any that does not open it.
    for title, text in (("Victoria and Albert Museum", "Victoria and Albert Museum (V&A) is a museum in London."),
                        ("How to reset your password quickly", "Open the settings page and choose Reset.")):
        article = Article(title=title, blocks=(Block("paragraph", text), Block("heading", "More", level=2),
                                               Block("paragraph", "More text here.")))
        assert not title_is_opening(article)
        assert title.split()[-1] in index_text(extract_passages(article, "a")[1])["body"]
    # Chinese: the title is the paragraph's first run (character pairs compared).
    zh = "2000年，美国广播公司发起了一个网络宣传活动，围绕其 圆形标志 。"
    assert title_is_opening(Article(title=zh.split(" ")[0], blocks=(Block("paragraph", zh),)))
