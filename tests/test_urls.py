"""One URL check for every reader and the crawler: http(s) URLs and site-relative paths only."""

import pytest

from faqbot.ingest.crawl import normalise_url
from faqbot.index.incremental import index_sources
from faqbot.index.pipeline import load_articles

UNSAFE = [
    "javascript:alert(document.domain)//",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "java\tscript:alert(1)",
    "file:///etc/passwd",
    "//evil.example/page",
    "/\\evil.example/page",
    "https://exa mple.org/",
    "http://",
]


@pytest.mark.parametrize("url", UNSAFE)
def test_front_matter_url_that_is_not_http_falls_back_to_the_derived_url(tmp_path, url):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "evil.md").write_text(f"---\ntitle: Evil\nurl: {url}\n---\n# Evil\n\nA paragraph that says enough.\n")
    [(_, article)], _ = load_articles([folder])
    assert article.url == "/articles/evil"
    assert article.notes and article.notes[0].startswith("front matter url ")


@pytest.mark.parametrize("url", ["https://example.org/help/a?b=1#c", "http://example.org", "/help/account"])
def test_front_matter_http_urls_and_site_paths_are_kept(tmp_path, url):
    (tmp_path / "ok.md").write_text(f"---\nurl: {url}\n---\n# Ok\n\nA paragraph that says enough.\n")
    [(_, article)], _ = load_articles([tmp_path / "ok.md"])
    assert (article.url, article.notes) == (url, ())


def test_api_never_serves_a_javascript_url_from_front_matter(tmp_path, make_app):
    """The outside review's case: `url: javascript:...` came back as the answer's url and link."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "evil.md").write_text("---\nurl: javascript:alert(document.domain)//\n---\n# Parcel lockers\n\n"
                                    "Parcel lockers keep your parcel for seven days after delivery.\n")
    (folder / "data.md").write_text("---\ncanonical: data:text/html,<script>alert(1)</script>\n---\n# Returns\n\n"
                                    "Returns are free within thirty days of the parcel reaching you.\n")
    for name in ("tea", "bikes", "plants"):
        (folder / f"{name}.md").write_text(f"# {name}\n\nAll about {name}: how to choose and care for {name}.\n")
    index_sources([folder], tmp_path / "ix")
    client = make_app(index_dir=str(tmp_path / "ix")).test_client()
    results = [r for question in ("how long do parcel lockers keep a parcel", "are returns free")
               for r in client.post("/api/ask", json={"question": question}).get_json()["results"]]
    by_title = {r["title"]: r for r in results}
    for title, slug in (("Parcel lockers", "evil"), ("Returns", "data")):
        assert by_title[title]["url"] == f"/articles/{slug}"
        assert by_title[title]["link"].startswith(f"/articles/{slug}#")
    assert all(r["url"].startswith("/articles/") and r["link"].startswith("/articles/") for r in results)


def test_html_canonical_and_og_url_pass_the_same_check(tmp_path):
    (tmp_path / "page.html").write_text(
        '<html><head><link rel="canonical" href="javascript:alert(1)">'
        '<meta property="og:url" content="https://example.org/real"></head>'
        "<body><h1>Page</h1><p>A paragraph of the page that says enough to be kept.</p></body></html>")
    [(_, article)], _ = load_articles([tmp_path / "page.html"])
    assert article.url == "https://example.org/real"
    assert article.notes == ("canonical link 'javascript:alert(1)' not used: not an absolute http(s) URL",)


def test_crawler_takes_absolute_http_urls_only():
    assert normalise_url(" https://example.org/a#top ") == "https://example.org/a"
    for url in UNSAFE + ["/relative/path"]:
        assert normalise_url(url) is None, url


def test_inspect_says_which_url_it_refused(tmp_path, runner):
    from faqbot.cli import cli

    (tmp_path / "evil.md").write_text("---\nurl: javascript:alert(document.domain)//\n---\n# Evil\n\nEnough text here.\n")
    result = runner.invoke(cli, ["inspect", str(tmp_path / "evil.md")])
    assert result.exit_code == 0, result.output
    assert "  url: /articles/evil\n" in result.output
    assert ("  note: front matter url 'javascript:alert(document.domain)//' not used: "
            "not an http(s) URL or a site-relative path\n") in result.output
    result = runner.invoke(cli, ["inspect", "--json", str(tmp_path / "evil.md")])
    assert '"notes": [' in result.output and "/articles/evil" in result.output
