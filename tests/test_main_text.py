"""Main text: never less than trafilatura alone, and the furniture that trails or interrupts an article."""

from faqbot.model import Block
from faqbot.ingest.read_html import read_html
from faqbot.ingest.reference_text import coverage, merge

SENTENCES = [
    "The river rose four metres overnight after a week of heavy rain in the hills above the town.",
    "Residents of the lower streets were woken by sirens shortly after two in the morning and told to leave.",
    "The council opened the school gymnasium as a shelter and volunteers brought blankets and hot soup.",
    "By noon the water had reached the steps of the town hall, where sandbags had been piled the evening before.",
    "Engineers said the old stone bridge held, although debris had collected against its upstream arches.",
    "Farmers downstream moved cattle to higher fields and reported that the harvest would be late this year.",
    "The weather service expects the rain to ease by Thursday, but warned that the ground is saturated.",
    "Insurance companies have set up a temporary office in the library to help people file their claims.",
    "The mayor thanked the fire brigade and said the town would ask the region for emergency funding.",
    "Schools will stay closed until Monday while the buildings are checked for damage and dried out.",
]


def _article_html(second_half_class: str) -> str:
    first, second = ("".join(f"<p>{s} {s}</p>" for s in half) for half in (SENTENCES[:6], SENTENCES[6:]))
    nav = "".join(f'<li><a href="/s{n}">Section {n}</a></li>' for n in range(30))
    return (f"<!DOCTYPE html><html><head><title>Flood</title></head><body><nav><ul>{nav}</ul></nav>"
            f'<h1>The river floods the town</h1><div class="body">{first}</div>'
            f'<div class="{second_half_class}">{second}</div>'
            "<footer><p>Example Gazette, all rights reserved.</p></footer></body></html>")


def test_article_text_inside_a_container_the_furniture_rules_drop_is_kept():
    # "promo" in a class name marks furniture; here it holds the last four paragraphs, and only
    # the comparison with trafilatura's extraction of the same page brings them back.
    article = read_html(_article_html("promo-box"))
    text = " ".join(b.text for b in article.blocks)
    assert all(s in text for s in SENTENCES)
    assert "all rights reserved" not in text
    assert article.title == "The river floods the town"


def test_plain_article_page_keeps_every_paragraph():
    article = read_html(_article_html("content"))
    assert [b.text for b in article.blocks if b.kind == "paragraph"] == [f"{s} {s}" for s in SENTENCES]


def test_trailing_labels_link_paragraphs_captions_and_teasers_are_dropped():
    html = ("<html><body><article><h1>Lemon cake</h1>"
            "<p>Beat the butter and sugar until pale, then add the eggs one at a time.</p>"
            '<figure><img src="cake.jpg"><figcaption>The finished cake. Photo: A. Baker</figcaption></figure>'
            '<p>Read also: <a href="/scones">Our best scones for a rainy afternoon</a></p>'
            "<p>Bake for forty minutes, until a skewer comes out clean, and let it cool in the tin.</p>"
            "<h2>More recipes</h2><p>Weitere Artikel zum Thema</p>"
            '<p><a href="/bread">Bread without kneading: the easy way</a></p>'
            "</article></body></html>")
    article = read_html(html)
    assert [b.text for b in article.blocks] == [
        "Beat the butter and sugar until pale, then add the eggs one at a time.",
        "Bake for forty minutes, until a skewer comes out clean, and let it cool in the tin.",
    ]


def test_a_closing_short_sentence_and_an_address_line_stay():
    html = ("<html><body><article><h1>Visit us</h1>"
            "<p>Our shop sells fish cakes fried to order, every day from nine in the morning.</p>"
            "<p>Happy eating!</p><p>+81 158-23-2012</p></article></body></html>")
    assert [b.text for b in read_html(html).blocks][-2:] == ["Happy eating!", "+81 158-23-2012"]


def test_coverage_counts_the_reference_word_trigrams_the_blocks_hold():
    blocks = [Block("paragraph", "one two three four")]
    assert coverage("one two three four", blocks) == (1.0, 0)
    assert coverage("one two three four five six", blocks) == (0.5, 2)
    assert coverage("", blocks) == (1.0, 0)


def test_merge_places_extra_blocks_in_reading_order():
    a, b, c, d = (Block("paragraph", t) for t in ("alpha text", "bravo text", "charlie text", "delta text"))
    own = [a, c]
    # Inside the own text only (bravo), unless everywhere (delta after the last own block too).
    assert merge(own, [a, b, c, d], [False, True, False, True], everywhere=False) == [a, b, c]
    assert merge(own, [a, b, c, d], [False, True, False, True], everywhere=True) == [a, b, c, d]
    # A candidate whose text the own blocks already hold is not added twice.
    assert merge(own, [a, Block("item", "alpha text"), c], [False, True, False], everywhere=True) == [a, c]
