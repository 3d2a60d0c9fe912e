"""Reading HTML pages: main content, metadata, FAQ markup, and hostile input."""

import importlib.util
import sys
from pathlib import Path

import pytest

from faqbot.errors import SkipFile
from faqbot.model import Block, FaqPair
from faqbot.ingest.read_html import read_html

REPO = Path(__file__).resolve().parent.parent
HTML_DEV = REPO.parent / "shared" / "html-dev"

BODY = """
<p>Refunds go back to the card you paid with, within five working days of our receiving the parcel.</p>
<p>Store credit never expires and can be spent on anything in the shop, including sale items.</p>
"""


def page(body: str, head: str = "", html_attrs: str = "") -> str:
    return f"<!DOCTYPE html><html{html_attrs}><head>{head}</head><body>{body}</body></html>"


def texts(article) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in article.blocks]


def test_title_url_and_lang_from_h1_canonical_and_html_lang():
    head = (
        '<title>Site | Refunds</title><meta property="og:title" content="OG refunds">'
        '<link rel="canonical" href="https://example.com/refunds">'
        '<meta property="og:url" content="https://example.com/og">'
    )
    html = page(f"<main><h1>Refunds</h1>{BODY}</main>", head, ' lang="en-US"')
    article = read_html(html, "refunds.html")
    assert (article.title, article.url, article.lang, article.source) == (
        "Refunds", "https://example.com/refunds", "en", "refunds.html"
    )


def test_title_falls_back_to_og_title_then_title_and_url_to_og_url():
    head = (
        '<title>Plain title</title><meta property="og:title" content="OG title">'
        '<meta property="og:url" content="https://example.com/og">'
    )
    article = read_html(page(BODY, head))
    assert (article.title, article.url, article.lang) == ("OG title", "https://example.com/og", None)
    assert read_html(page(BODY, "<title>Plain  title</title>")).title == "Plain title"


def test_relative_or_odd_urls_are_not_the_article_url():
    head = '<link rel="canonical" href="/refunds"><meta property="og:url" content="javascript:alert(1)">'
    assert read_html(page(BODY, head)).url is None


def test_furniture_is_dropped():
    body = f"""
    <header><a href="/">Shop</a> <a href="/help">Help centre</a></header>
    <nav><ul><li><a href="/a">All products</a></li></ul></nav>
    <div id="cookie-consent"><p>We use cookies to improve your experience on this website.</p></div>
    <article><h1>Refunds</h1>{BODY}
      <div class="share-buttons"><a href="#">Share on Facebook</a></div>
      <section id="comments"><p>Great post, thanks for writing it up so clearly!</p></section>
    </article>
    <aside><p>Related: how to track a parcel.</p></aside>
    <script>var secret = "tracking code";</script><style>p {{ color: red }}</style>
    <footer><p>Copyright 2024 Example Shop Ltd.</p></footer>
    """
    article = read_html(page(body))
    assert article.title == "Refunds"
    assert texts(article) == [
        ("paragraph", "Refunds go back to the card you paid with, within five working days of our receiving the "
                      "parcel."),
        ("paragraph", "Store credit never expires and can be spent on anything in the shop, including sale items."),
    ]


def test_headings_keep_ids_and_inline_runs_stay_together():
    body = """
    <h1>Help</h1>
    <h2 id="refunds">Refunds</h2>
    <p>You get a <strong>full</strong> refund within <em>30 days</em>, see <a href="/terms">our terms</a>.</p>
    <section id="shipping"><h2>Shipping</h2><p>Parcels ship the next working day from our warehouse.</p></section>
    <h3><a id="returns"></a>Returns</h3>
    <ul><li>Pack the item.</li><li>Print the <b>label</b>.</li></ul>
    <table><tr><th>Zone</th><th>Days</th></tr><tr><td>EU</td><td>3</td></tr></table>
    """
    article = read_html(page(body))
    assert [(b.kind, b.text, b.level, b.anchor) for b in article.blocks] == [
        ("heading", "Refunds", 2, "refunds"),
        ("paragraph", "You get a full refund within 30 days, see our terms.", 0, None),
        ("heading", "Shipping", 2, "shipping"),
        ("paragraph", "Parcels ship the next working day from our warehouse.", 0, None),
        ("heading", "Returns", 3, "returns"),
        ("item", "Pack the item.", 0, None),
        ("item", "Print the label.", 0, None),
        ("paragraph", "Zone | Days", 0, None),
        ("paragraph", "EU | 3", 0, None),
    ]


JSONLD_FAQ = """{"@type": "FAQPage", "mainEntity": [
  {"@type": "Question", "name": "Can I return an item?", "url": "https://example.com/faq#return",
   "acceptedAnswer": {"@type": "Answer", "text": "<p>Yes, within <b>30 days</b>.</p>"}},
  {"@type": "Question", "name": "Do you ship abroad?",
   "acceptedAnswer": {"@type": "Answer", "text": "Only to the EU &amp; the UK."}}]}"""
EXPECTED_JSONLD = (
    FaqPair("Can I return an item?", "Yes, within 30 days.", "return", "jsonld-faqpage"),
    FaqPair("Do you ship abroad?", "Only to the EU & the UK.", rule="jsonld-faqpage"),
)


@pytest.mark.parametrize("data", [
    JSONLD_FAQ.replace("{", '{"@context": "https://schema.org", ', 1),
    '{"@context": "https://schema.org", "@graph": [{"@type": "WebPage", "name": "FAQ"}, ' + JSONLD_FAQ + "]}",
    '[{"@type": "Organization", "name": "Shop"}, ' + JSONLD_FAQ + "]",
])
def test_jsonld_faqpage_plain_graph_and_list(data):
    head = f'<script type="application/ld+json">{data}</script><script type="application/ld+json">{{broken</script>'
    article = read_html(page(BODY, head))
    assert article.faqs == EXPECTED_JSONLD


def test_microdata_faqpage():
    body = """
    <div itemscope itemtype="https://schema.org/FAQPage">
      <div id="q-return" itemscope itemprop="mainEntity" itemtype="https://schema.org/Question">
        <h3 itemprop="name">Can I return an item?</h3>
        <div itemscope itemprop="acceptedAnswer" itemtype="https://schema.org/Answer">
          <div itemprop="text"><p>Yes, within <b>30 days</b> of delivery.</p></div>
        </div>
      </div>
      <div itemscope itemprop="mainEntity" itemtype="https://schema.org/Question">
        <h3 itemprop="name">Do you ship abroad?</h3>
        <div itemscope itemprop="acceptedAnswer" itemtype="https://schema.org/Answer">
          <p itemprop="text">Only to the EU and the UK.</p>
        </div>
      </div>
    </div>"""
    article = read_html(page(BODY + body))
    assert article.faqs == (
        FaqPair("Can I return an item?", "Yes, within 30 days of delivery.", "q-return", "microdata-faqpage"),
        FaqPair("Do you ship abroad?", "Only to the EU and the UK.", rule="microdata-faqpage"),
    )


def test_details_summary_and_definition_lists_become_qa_blocks():
    body = BODY + """
    <details id="cancel"><summary>Can I cancel an order?</summary>Yes, <em>any</em> time before it ships.</details>
    <details><summary>Is gift wrap free?</summary><p>No, it costs two euros per parcel.</p></details>
    <dl><dt id="track">How do I track a parcel?</dt><dd>Use the link in your shipping email.</dd>
        <dt>Do you deliver on Sundays?</dt><dd>No.</dd></dl>
    """
    article = read_html(page(body))
    assert [(b.question, b.text, b.anchor) for b in article.blocks if b.kind == "qa"] == [
        ("Can I cancel an order?", "Yes, any time before it ships.", "cancel"),
        ("Is gift wrap free?", "No, it costs two euros per parcel.", None),
        ("How do I track a parcel?", "Use the link in your shipping email.", "track"),
        ("Do you deliver on Sundays?", "No.", None),
    ]


@pytest.mark.parametrize("text", [
    "",
    "   \n ",
    page(""),
    page("<nav><a href='/'>Home</a></nav><script>alert(1)</script>"),
    page("<h1>Only a heading</h1>", "<title>Empty</title>"),
    "<?xml version='1.0' encoding='utf-8'?><html><body></body></html>",
])
def test_pages_without_text_are_skipped(text):
    with pytest.raises(SkipFile, match="no extractable text"):
        read_html(text)


def test_faq_data_alone_is_enough():
    head = f'<script type="application/ld+json">{JSONLD_FAQ}</script>'
    article = read_html(page("", head))
    assert (article.blocks, len(article.faqs)) == ((), 2)


def test_deeply_nested_page_does_not_crash():
    html = page("<div>" * 5000 + "<p>Deep inside the page there is a sentence worth keeping.</p>" + "</div>" * 5000)
    try:
        article = read_html(html)
    except SkipFile:
        return
    assert all(isinstance(b, Block) for b in article.blocks)


@pytest.mark.parametrize("text", [
    bytes(range(256)).decode("latin-1") * 40,
    "<html><body><p>Unclosed <b><i>tags <table><tr><td>cell<p>more text to read here</div></span>",
    "<<<>>><!-- <script> </" + "\ud800" + "\x00 &#0; &#xFFFFFFFF; &bogus; <p/><br/></br>",
    '<script type="application/ld+json">' + "[" * 10000 + "</script><p>Some text for the page body.</p>",
])
def test_garbage_raises_nothing_but_skipfile(text):
    try:
        read_html(text)
    except SkipFile:
        pass


@pytest.mark.skipif(not (HTML_DEV / "truth.jsonl").is_file(), reason="html-dev set not beside the repo")
def test_html_dev_set_recall_and_no_failed_pages():
    spec = importlib.util.spec_from_file_location("html_extraction", REPO / "benchmarks" / "html_extraction.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up while the class is built
    spec.loader.exec_module(bench)
    score = bench.score_folder(HTML_DEV)
    assert score.failed == []
    assert score.recall >= 0.90
    assert score.leak <= 0.10
