"""Documentation sites read from their built folders: URLs, titles, sections, FAQ pairs, what is dropped.

The pages under tests/data/docsites/ are written after the markup of Sphinx (alabaster, and Django's
classic theme with the site name in an <h1>), MkDocs Material, Docusaurus, Hugo (Docsy) and Jekyll
(Just the Docs): heading permalinks, page headers, sidebars, API <dl>s, admonitions and code blocks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faqbot.errors import FaqbotError
from faqbot.ingest.extract import extract_passages
from faqbot.index.pipeline import load_articles

SITES = Path(__file__).parent / "data" / "docsites"
BASE = "https://docs.example.org/"
PERMALINK_SIGNS = ("¶", "🔗", "Permalink", "Direct link", "\u200b")


@pytest.fixture(scope="module")
def site() -> dict[str, tuple]:
    """Every fixture page, read as one site: source path relative to SITES -> (article, passages)."""
    articles, skipped = load_articles([SITES], BASE)
    assert skipped == []
    return {
        Path(a.source).relative_to(SITES).as_posix(): (a, extract_passages(a, article_id))
        for article_id, a in articles
    }


def test_urls_are_where_a_static_server_serves_each_file(site):
    urls = {path: article.url for path, (article, _) in site.items()}
    assert urls == {
        "sphinx/index.html": BASE + "sphinx/",
        "sphinx/ref/config.html": BASE + "sphinx/ref/config.html",
        "sphinx/ref/glossary.html": BASE + "sphinx/ref/glossary.html",
        "sphinx-classic/faq/general.html": BASE + "sphinx-classic/faq/general.html",
        "mkdocs/install/index.html": BASE + "mkdocs/install/",
        "docusaurus/docs/getting-started/index.html": BASE + "docusaurus/docs/getting-started/",
        "hugo/docs/troubleshooting/index.html": BASE + "hugo/docs/troubleshooting/",
        "jekyll/about.html": BASE + "jekyll/about.html",
    }


def test_pretty_url_style_drops_the_extension():
    articles, _ = load_articles([SITES], BASE, url_style="pretty")
    urls = {Path(a.source).relative_to(SITES).as_posix(): a.url for _, a in articles}
    assert urls["jekyll/about.html"] == BASE + "jekyll/about"
    assert urls["sphinx/ref/config.html"] == BASE + "sphinx/ref/config"
    assert urls["mkdocs/install/index.html"] == BASE + "mkdocs/install/"


def test_an_unknown_url_style_is_refused():
    with pytest.raises(FaqbotError, match="url_style must be one of file, pretty"):
        load_articles([SITES], BASE, url_style="ugly")


def test_a_page_that_states_its_url_keeps_it(tmp_path):
    (tmp_path / "page.html").write_text(
        '<html><head><link rel="canonical" href="https://example.com/guide/"></head>'
        "<body><h1>Guide</h1><p>Everything you need to know about guides, in one paragraph of text.</p></body></html>")
    (articles, _) = load_articles([tmp_path], BASE)
    assert articles[0][1].url == "https://example.com/guide/"


def test_markdown_and_text_keep_their_clean_urls(tmp_path):
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "Getting Started.md").write_text("# Start\n\nInstall the app and open it on your phone.\n")
    (tmp_path / "notes.txt").write_text("Notes\nWe ship every order within two days of payment, tracked.\n")
    urls = {article_id: a.url for article_id, a in load_articles([tmp_path])[0]}
    assert urls == {"guides-getting-started": "/articles/guides-getting-started", "notes": "/articles/notes"}


def test_no_two_files_share_a_url(tmp_path):
    for folder in ("docs", "blog"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "index.html").write_text(
            f"<html><body><h1>{folder}</h1><p>The {folder} home page, with enough words to be read.</p></body></html>")
    (tmp_path / "docs" / "faq.html").write_text("<html><body><h1>FAQ</h1><p>Answers to what people ask us most.</p></body></html>")
    (tmp_path / "docs" / "faq.htm").write_text("<html><body><h1>FAQ</h1><p>The old copy of the answers page.</p></body></html>")
    (tmp_path / "docs" / "faq.md").write_text("# FAQ\n\nThe Markdown source of the answers page.\n")
    for style in ("file", "pretty"):
        articles, _ = load_articles([tmp_path / "docs", tmp_path / "blog"], BASE, url_style=style)
        urls = [a.url for _, a in articles]
        assert len(urls) == 5 and len(set(urls)) == 5, urls
    articles, _ = load_articles([tmp_path / "docs"], BASE, url_style="pretty")
    assert {Path(a.source).name: a.url for _, a in articles} == {
        "faq.htm": BASE + "faq", "faq.html": BASE + "faq.html", "faq.md": BASE + "faq-md", "index.html": BASE}


@pytest.mark.parametrize("path, title", [
    ("sphinx/ref/config.html", "Configuration"),
    ("sphinx/ref/glossary.html", "Glossary"),
    ("sphinx-classic/faq/general.html", "FAQ: General"),  # not the site name in the page header's <h1>
    ("mkdocs/install/index.html", "Installation"),
    ("docusaurus/docs/getting-started/index.html", "Getting started"),
    ("hugo/docs/troubleshooting/index.html", "Troubleshooting"),
    ("jekyll/about.html", "About Widgetry"),
])
def test_title_is_the_pages_own_h1(site, path, title):
    article, passages = site[path]
    assert article.title == title
    assert {p.title for p in passages} == {title}


def test_title_falls_back_to_title_without_the_site_name():
    from faqbot.ingest.read_html import read_html

    page = ('<html><head><title>Upgrading | Widgetry</title><meta property="og:site_name" content="Widgetry"></head>'
            "<body><p>Upgrade one minor version at a time and read the release notes of each.</p></body></html>")
    assert read_html(page).title == "Upgrading"
    other = page.replace("Widgetry</title>", "Other site</title>")
    assert read_html(other).title == "Upgrading | Other site"  # a suffix that names no site stays


@pytest.mark.parametrize("path, sections", [
    ("sphinx/ref/config.html", ["The settings file", "widgetry.load_config(path)", "class widgetry.Config",
                                "Frequently asked questions"]),
    ("sphinx/ref/glossary.html", ["engine", "widget tree"]),
    ("mkdocs/install/index.html", ["With pip", "FAQ"]),
    ("docusaurus/docs/getting-started/index.html", ["Create a project", "Frequently asked questions"]),
    ("hugo/docs/troubleshooting/index.html", ["Command line options", "--verbose", "--safe-mode", "FAQs"]),
    ("jekyll/about.html", ["Who maintains Widgetry?", "Licence"]),
])
def test_sections_read_as_the_reader_sees_them(site, path, sections):
    _, passages = site[path]
    assert list(dict.fromkeys(p.section for p in passages if p.section)) == sections


@pytest.mark.parametrize("path, questions", [
    ("sphinx/ref/config.html", ["Can I keep secrets out of the settings file?"]),
    ("sphinx/ref/glossary.html", []),
    # A page titled "FAQ: ..." is one FAQ section: a statement heading in it is an entry too.
    ("sphinx-classic/faq/general.html", ["Why is it called Widgetry?", "Is Widgetry stable?",
                                         "My widgets look blurry on a phone."]),
    ("mkdocs/install/index.html", ["Does Widgetry work offline?"]),
    ("docusaurus/docs/getting-started/index.html", ["Why is my window blank?"]),
    ("hugo/docs/troubleshooting/index.html", ["Why does the engine stop after an update?"]),
])
def test_faq_pairs_only_where_there_is_a_question(site, path, questions):
    _, passages = site[path]
    assert [p.question for p in passages if p.kind == "faq"] == questions


def test_api_entries_are_terms_with_their_own_link_never_faq_pairs(site):
    _, passages = site["sphinx/ref/config.html"]
    by_section = {p.section: p for p in passages}
    load = by_section["widgetry.load_config(path)"]
    assert load.kind == "term" and load.question == "widgetry.load_config(path)"
    assert load.text.startswith("Read the settings file at path and return a Config object")
    assert "Parameters: path – where the settings file lives" in load.text  # the field list stays with its entry
    assert load.link == BASE + "sphinx/ref/config.html#widgetry.load_config"
    config = by_section["class widgetry.Config"]  # a class keeps its members in its definition
    assert "reload() Read the settings file again" in config.text
    assert config.link == BASE + "sphinx/ref/config.html#widgetry.Config"


@pytest.mark.parametrize("path, terms", [
    ("sphinx/ref/config.html", ["widgetry.load_config(path)", "class widgetry.Config"]),
    ("sphinx/ref/glossary.html", ["engine", "widget tree"]),
    ("hugo/docs/troubleshooting/index.html", ["--verbose", "--safe-mode"]),  # an option list
])
def test_definition_lists_that_are_no_questions_give_terms(site, path, terms):
    _, passages = site[path]
    assert [p.question for p in passages if p.kind == "term"] == terms
    assert all(p.section == p.question for p in passages if p.kind == "term")


def test_nothing_of_the_permalinks_or_page_furniture_is_left(site):
    dropped = ("¶", "🔗", "\u200b", "Permalink", "Direct link", "Skip to", "Widgetry 2.1 documentation",
               "Quick search", "Table of contents", "Table of Contents", "Edit this page", "Copy", "©",
               "Copyright", "Last modified", "Made with", "Search Widgetry", "Heading self-link")
    for path, (article, passages) in site.items():
        shown = [article.title] + [f"{p.question or ''} {p.text} {p.section} {p.title}" for p in passages]
        for text in shown:
            for word in dropped:
                assert word not in text, (path, word, text)


def test_every_deep_link_targets_an_id_on_its_page(site):
    checked = 0
    for path, (article, passages) in site.items():
        ids = set(re.findall(r'\bid="([^"]+)"', (SITES / path).read_text(encoding="utf-8")))
        for p in passages:
            url, _, fragment = p.link.partition("#")
            assert url == article.url
            if not fragment.startswith(":~:text="):
                assert fragment in ids, (path, fragment)
                checked += 1
    assert checked >= 15


def test_headings_keep_the_target_of_their_permalink():
    from faqbot.ingest.read_html import read_html

    page = ('<html><body><span id="setup"></span><h2>Setup<a class="headerlink" href="#setup">¶</a></h2>'
            "<p>Run the installer and accept the defaults unless you know you need otherwise.</p>"
            '<h2><a id="user-content-usage" class="anchor" aria-hidden="true" href="#usage"><svg></svg></a>Usage</h2>'
            "<p>Open the app from the menu and pick the project you want to work on today.</p></body></html>")
    headings = [(b.text, b.anchor) for b in read_html(page).blocks if b.kind == "heading"]
    assert headings == [("Setup", "setup"), ("Usage", "user-content-usage")]


def test_a_glossary_term_answers_what_is_it(tmp_path):
    from faqbot.search.answer import AnswerSettings, ask
    from faqbot.index.store import Index
    from faqbot.index.incremental import index_sources

    index_sources([SITES], tmp_path / "ix", BASE)
    answer = ask(Index.load(tmp_path / "ix"), "What is a widget tree?", settings=AnswerSettings(embedder=None))
    assert answer["answer"]["section"] == "widget tree"
    assert answer["answer"]["link"] == BASE + "sphinx/ref/glossary.html#term-widget-tree"


def test_a_category_heading_of_an_faq_section_gives_the_questions_it_lists():
    from faqbot.ingest.read_markdown import read_markdown

    article = read_markdown(
        "# Time zones\n\nDjango stores times in UTC and shows them in the reader's zone.\n\n## FAQ\n\n### Setup\n\n"
        "1. Should I enable time zone support?\n\n   Yes: it costs nothing and avoids bugs twice a year.\n\n"
        "2. Am I safe once it is on?\n\n   Mostly, but test the code that runs around DST changes.\n\n"
        "### How do I list the zones?\n\nUse zoneinfo.available_timezones() from the standard library.\n")
    pairs = [(p.question, p.text) for p in extract_passages(article, "tz") if p.kind == "faq"]
    assert pairs == [
        ("Should I enable time zone support?", "Yes: it costs nothing and avoids bugs twice a year."),
        ("Am I safe once it is on?", "Mostly, but test the code that runs around DST changes."),
        ("How do I list the zones?", "Use zoneinfo.available_timezones() from the standard library."),
    ]


def test_an_api_entry_named_like_furniture_is_kept():
    from faqbot.ingest.read_html import read_html

    # Sphinx anchors API entries by their dotted path; "related" or "menu" in one is no related-articles box.
    page = ('<html><body><h1>Related objects</h1><dl class="py class">'
            '<dt class="sig sig-object py" id="shop.models.related.RelatedManager">class RelatedManager</dt>'
            "<dd><p>A manager used in a one-to-many or many-to-many related context, on both sides.</p></dd>"
            "</dl></body></html>")
    blocks = read_html(page).blocks
    assert [(b.kind, b.question, b.anchor) for b in blocks] == [
        ("term", "class RelatedManager", "shop.models.related.RelatedManager")]
