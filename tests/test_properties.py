"""Property tests: readers, decoding, extraction and the analyzer take any input without crashing.

The only exception a reader may raise is SkipFile (a sentence for the indexing summary); whatever
Article comes back must extract into passages and analyze into tokens.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faqbot.text.analyze import analyze
from faqbot.errors import SkipFile
from faqbot.ingest.extract import extract_passages
from faqbot.model import Article, Passage
from faqbot.ingest.read import decode, parse_document
from faqbot.ingest.read_markdown import read_markdown
from faqbot.ingest.read_text import read_text

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = st.sampled_from([
    "refund", "How", "do", "I", "reset", "my", "password?", "FAQ", "Frequently Asked Questions", "Q:", "A:",
    "Question", "Answer", "it's", "don't", "naïve", "Straße", "東京", "ﬁle", "İstanbul", "ǅ", "١٢٣", "e\u0301",
    "\u200b", "\ufeff", "\x00", "\x0b", "\u2028", "-", "—", "…", "’s", "'''", "Related Articles", "Comments",
])
SPACE = st.sampled_from([" ", "  ", "\t", "\n", "\n\n", "\r\n", "\r", "\n   \n"])
MARKDOWN = st.sampled_from([
    "# ", "## ", "### ", "#### ", "####### ", "---\n", "---\ntitle: T\nurl: https://e.com/x\nlang: de\n---\n",
    "title:", "url:", " {#reset}", "{#}", "- ", "* ", "1. ", "99) ", "> ", "```\n", "```python\n", "~~~", "    code",
    "**bold**", "_it_", "`x`", "[link](https://e.com)", "![img](a.png)", "[ref]: http://x", "| a | b |\n|---|---|",
    "<details><summary>Q?</summary>A.</details>", "<br>", "***", "===\n", "\\", "&amp;", "?",
])
HTML = st.sampled_from([
    "<!doctype html>", "<html lang='fr'>", "<html lang=''>", "<head>", "</head>", "<body>", "</body>", "<title>",
    "</title>", '<meta charset="latin-1">', '<meta charset="nonsense">', '<link rel="canonical" href="/x">',
    '<meta property="og:url" content="https://e.com/y">', "<h1>", "</h1>", "<h2 id='faq'>", "</h2>", "<h3>",
    "</h3>", "<p>", "</p>", "<ul>", "<li>", "</li>", "<ol>", "<dl>", "<dt>", "<dd>", "</dl>", "<details>",
    "<summary>", "</summary>", "</details>", "<div>", "</div>", "<nav>", "<footer>", "<article>", "<main>",
    "<script>", "</script>", "<style>", "</style>", "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#x110000;",
    "&nbsp;", "<", ">", "</", "<table><tr><td>", "<br/>", "<img src=x alt='y'>", "<svg><text>t</text></svg>",
    '<script type="application/ld+json">', '{"@type": "FAQPage", "mainEntity": [{"@type": "Question", "name": "Q?",'
    ' "acceptedAnswer": {"@type": "Answer", "text": "<p>A.</p>"}}]}', '{"@type": "FAQPage", "mainEntity": 3}',
    '{"@graph": [null, {"@type": ["FAQPage"]}]}', "{", "[", "null",
])


def _joined(*parts):
    return st.lists(st.one_of(*parts), max_size=60).map("".join)


ANY_TEXT = st.text(max_size=400)
TEXTISH = _joined(WORDS, SPACE, st.text(max_size=8))
MARKDOWNISH = _joined(MARKDOWN, WORDS, SPACE, st.text(max_size=5))
HTMLISH = _joined(HTML, WORDS, SPACE, st.text(max_size=5))
LANGS = st.one_of(st.none(), st.sampled_from(["en", "de", "fr-CA", "pt_BR", "xx", "", "-", "zh-Hans", "EN"]),
                  st.text(max_size=6))


def _read_html():
    try:
        from faqbot.ingest.read_html import read_html
    except ImportError as err:
        pytest.fail(f"faqbot.ingest.read_html.read_html is missing ({err}): the HTML reader must exist for this test.")
    return read_html


def check_article(article: Article) -> list[Passage]:
    """What every reader result must satisfy: extractable passages whose text analyzes."""
    assert isinstance(article, Article)
    passages = extract_passages(article, "article")
    for passage in passages:
        assert passage.kind in ("faq", "paragraph")
        assert passage.id.startswith("article#")
        for text in (passage.text, passage.question or "", passage.title, passage.section):
            analyze(text, article.lang)
    return passages


def read_or_skip(reader, text: str) -> Article | None:
    try:
        return reader(text, "test-source")
    except SkipFile as err:
        assert str(err)  # a reason for the summary
        return None


@FAST
@given(st.one_of(ANY_TEXT, TEXTISH))
def test_read_text_never_crashes(text):
    article = read_or_skip(read_text, text)
    if article is not None:
        check_article(article)


@FAST
@given(st.one_of(ANY_TEXT, MARKDOWNISH))
def test_read_markdown_never_crashes(text):
    article = read_or_skip(read_markdown, text)
    if article is not None:
        check_article(article)


@SLOW
@given(st.one_of(ANY_TEXT, HTMLISH))
def test_read_html_never_crashes(text):
    read_html = _read_html()
    try:
        article = read_or_skip(read_html, text)
    except NotImplementedError:
        pytest.fail("faqbot.ingest.read_html.read_html is not implemented yet.")
    if article is not None:
        check_article(article)


BYTES = st.one_of(
    st.binary(max_size=300),
    HTMLISH.map(lambda t: t.encode("utf-8", "surrogatepass")),
    HTMLISH.map(lambda t: "\ufeff".join(["", t]).encode("utf-16")),
    MARKDOWNISH.map(lambda t: t.encode("utf-8-sig")),
    TEXTISH.map(lambda t: t.encode("latin-1", "replace")),
    HTMLISH.map(lambda t: b'<meta charset="cp1252">' + t.encode("cp1252", "replace")),
    HTMLISH.map(lambda t: b'<meta charset="utf-16">' + t.encode("latin-1", "replace") + b"\xff"),
)


@FAST
@given(BYTES, st.sampled_from(["text", "markdown", "html"]))
def test_decode_returns_text_or_skips(data, kind):
    try:
        text = decode(data, kind)
    except SkipFile as err:
        assert str(err)
        return
    assert isinstance(text, str)


@SLOW
@given(BYTES, st.sampled_from(["text", "markdown", "html"]))
def test_any_file_parses_extracts_and_analyzes_or_skips(data, kind):
    if kind == "html":
        _read_html()
    try:
        article = parse_document(data, kind, "test-source", "article", "/articles/")
    except SkipFile as err:
        assert str(err)
        return
    except NotImplementedError:
        pytest.fail("faqbot.ingest.read_html.read_html is not implemented yet.")
    assert article.url and article.title
    check_article(article)


BLOCKS = st.builds(
    lambda kind, text, level, anchor, question: __import__("faqbot.model", fromlist=["Block"]).Block(
        kind, text, level, anchor, question),
    st.sampled_from(["heading", "paragraph", "item", "qa"]),
    st.one_of(ANY_TEXT, TEXTISH),
    st.integers(0, 7),
    st.one_of(st.none(), st.text(max_size=10)),
    st.one_of(st.none(), st.text(max_size=40), st.just("How do I get a refund?")),
)


@FAST
@given(st.lists(BLOCKS, max_size=25), st.text(max_size=30), st.one_of(st.none(), st.text(max_size=30)), LANGS)
def test_extract_passages_takes_any_blocks(blocks, title, url, lang):
    from faqbot.model import FaqPair

    faqs = (FaqPair("Can I get a refund?", "Yes, within 30 days."),) if len(blocks) % 3 == 0 else ()
    article = Article(title=title, blocks=tuple(blocks), url=url or "/articles/a", lang=lang, faqs=faqs)
    passages = check_article(article)
    assert len({p.id for p in passages}) == len(passages)


@FAST
@given(st.one_of(ANY_TEXT, TEXTISH, MARKDOWNISH, HTMLISH), LANGS)
def test_analyze_returns_tokens_for_any_text(text, lang):
    tokens = analyze(text, lang)
    assert all(isinstance(t, str) and t for t in tokens)
    assert analyze(text, lang) == tokens
