"""Indexing a live site: a real HTTP server on 127.0.0.1 with a sitemap, robots.txt and bad pages."""

import gzip
import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faqbot.cli import cli
from faqbot.ingest.crawl import CrawlError, Crawler, CrawlSettings, Target, gunzip_capped, parse_sitemap
from faqbot.index.incremental import index_sources
from faqbot.index.store import Index

FAST = CrawlSettings(timeout=1.0, retries=2, backoff=0.01, concurrency=3)  # generous: a shared machine


def page(title: str, text: str, question: str, answer: str) -> bytes:
    return f"""<!doctype html><html lang="en"><head><title>{title}</title></head><body>
<nav><a href="/">Home</a></nav>
<main><h1>{title}</h1><p>{text}</p>
<h2>Frequently Asked Questions</h2><h3>{question}</h3><p>{answer}</p></main>
<footer>Copyright Example Shop</footer></body></html>""".encode()


class Site:
    """A small web site whose pages, status codes and request log a test can change."""

    def __init__(self):
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.requests: Counter = Counter()
        self.statuses: list[tuple[str, int]] = []
        self.slow = 3.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def html(self, path: str, body: bytes) -> None:
        self.pages[path] = (200, "text/html; charset=utf-8", body)

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.requests[self.path] += 1
                if self.path == "/slow":
                    time.sleep(site.slow)
                status, ctype, body = site.pages.get(self.path, (404, "text/plain", b"not found"))
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                site.statuses.append((self.path, status))
                self.send_response(status)
                if status in (200, 304):
                    self.send_header("ETag", etag)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


@pytest.fixture
def site():
    s = Site()
    pages = ["/faq/refunds", "/faq/shipping", "/faq/account", "/private/secret", "/slow", "/broken", "/manual.pdf"]
    urlset = "".join(f"<url><loc>{s.base}{p}</loc></url>" for p in pages[:4])
    urlset_b = "".join(f"<url><loc>{s.base}{p}</loc></url>" for p in pages[4:])
    urlset_b += f"<url><loc>http://localhost:{s.server.server_port}/faq/refunds</loc></url>"  # another host
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    s.pages["/robots.txt"] = (200, "text/plain", b"User-agent: *\nDisallow: /private/\n")
    s.pages["/sitemap.xml"] = (200, "application/xml", f"""<?xml version="1.0"?><sitemapindex {ns}>
        <sitemap><loc>{s.base}/sitemap-a.xml</loc></sitemap>
        <sitemap><loc>{s.base}/sitemap-b.xml.gz</loc></sitemap></sitemapindex>""".encode())
    s.pages["/sitemap-a.xml"] = (200, "application/xml", f"<urlset {ns}>{urlset}</urlset>".encode())
    s.pages["/sitemap-b.xml.gz"] = (200, "application/gzip", gzip.compress(f"<urlset {ns}>{urlset_b}</urlset>".encode()))
    s.html("/faq/refunds", page("Refunds", "We refund any order within thirty days of delivery to the card you paid with.",
                                "How long does a refund take?", "Refunds reach your card within five working days."))
    s.html("/faq/shipping", page("Shipping", "We ship to every country in Europe with tracked parcels and a signature.",
                                 "Is shipping free?", "Shipping is free on orders above fifty euros."))
    s.html("/faq/account", page("Your account", "Use the forgotten password link on the sign-in page to reset it.",
                                "Can I delete my account?", "Write to support and we delete your data within a week."))
    s.html("/private/secret", page("Secret", "Staff discounts are forty percent.", "Who gets it?", "Staff only."))
    s.html("/slow", page("Slow", "This page takes far too long to load for anyone.", "Why?", "A slow server."))
    s.pages["/broken"] = (500, "text/html", b"<h1>Internal error</h1>")
    s.pages["/manual.pdf"] = (200, "application/pdf", b"%PDF-1.4 binary manual")
    yield s
    s.server.shutdown()
    s.server.server_close()


def articles_of(index_dir) -> dict[str, str]:
    index = Index.load(index_dir)
    return {index.passage(i).article: index.passage(i).url for i in range(index.n_passages)}


def test_sitemap_crawl_indexes_allowed_html_pages_only(site, tmp_path):
    report = index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)

    assert articles_of(tmp_path / "ix") == {
        "faq-refunds": site.base + "/faq/refunds",
        "faq-shipping": site.base + "/faq/shipping",
        "faq-account": site.base + "/faq/account",
    }
    crawl = report.crawl
    assert (crawl.fetched, crawl.unchanged, report.articles, report.read) == (3, 0, 3, 3)
    assert dict(crawl.failed) == {
        site.base + "/slow": "timed out after 1 s",
        site.base + "/broken": "HTTP 500 after 3 attempts",
        site.base + "/manual.pdf": "not HTML (content type application/pdf)",
    }
    assert dict(crawl.skipped) == {
        site.base + "/private/secret": "disallowed by robots.txt",
        f"http://localhost:{site.server.server_port}/faq/refunds":
            f"host localhost:{site.server.server_port} is not the sitemap's host or in allowed_hosts",
    }
    assert site.requests["/private/secret"] == 0  # robots.txt is read before, not after
    assert site.requests["/broken"] == 3  # retried with backoff
    assert site.requests["/robots.txt"] == 1


def test_second_crawl_fetches_nothing_unchanged(site, tmp_path):
    index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)
    first = articles_of(tmp_path / "ix")
    site.statuses.clear()
    report = index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)

    assert (report.crawl.fetched, report.crawl.unchanged, report.read, report.reused) == (0, 3, 0, 3)
    assert [status for path, status in site.statuses if path.startswith("/faq/")] == [304, 304, 304]
    assert articles_of(tmp_path / "ix") == first


def test_changed_page_is_fetched_and_read_again(site, tmp_path):
    index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)
    site.html("/faq/shipping", page("Shipping", "We now ship worldwide with tracked parcels and a signature.",
                                    "Is shipping free?", "Shipping is free on orders above forty euros."))
    report = index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)
    assert (report.crawl.fetched, report.crawl.unchanged, report.read, report.reused) == (1, 2, 1, 2)
    index = Index.load(tmp_path / "ix")
    assert any("forty euros" in index.passage(i).text for i in range(index.n_passages))


def test_failing_page_keeps_its_previous_passages_and_a_gone_page_is_dropped(site, tmp_path):
    index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)
    site.pages["/faq/account"] = (503, "text/html", b"down for maintenance")
    report = index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)
    assert (site.base + "/faq/account", "HTTP 503 after 3 attempts") in report.crawl.failed
    assert "faq-account" in articles_of(tmp_path / "ix")

    del site.pages["/faq/account"]  # 404 now: the page is gone
    report = index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)
    assert report.crawl.gone == [(site.base + "/faq/account", "HTTP 404")]
    assert "faq-account" not in articles_of(tmp_path / "ix")


def test_unreadable_sitemap_keeps_the_pages_it_gave_last_time(site, tmp_path):
    index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)
    site.pages["/sitemap.xml"] = (500, "application/xml", b"")
    report = index_sources([], tmp_path / "ix", sitemaps=[site.base + "/sitemap.xml"], crawl=FAST)
    assert report.errors == [f"Cannot fetch the sitemap {site.base}/sitemap.xml: HTTP 500 after 3 attempts. "
                             "Its pages from the last run are kept."]
    assert set(articles_of(tmp_path / "ix")) == {"faq-refunds", "faq-shipping", "faq-account"}


def test_page_over_the_size_limit_fails(site, tmp_path):
    body = page("Refunds", "words " * 5000, "Q?", "A.")
    site.html("/faq/refunds", body)
    crawler = Crawler(CrawlSettings(max_page_bytes=10_000, timeout=1))
    result = crawler.fetch_page(Target(site.base + "/faq/refunds", frozenset({site.base[7:]})))
    assert (result.status, result.reason) == ("failed", f"too large ({len(body):,} bytes > 10,000)")


def test_redirect_to_another_host_is_refused(site):
    port = site.server.server_port
    crawler = Crawler(FAST)
    site.pages["/moved"] = (301, "text/html", b"")  # to localhost: the same machine, another host by name
    original = site.server.RequestHandlerClass

    class Moving(original):
        def send_header(self, name, value):
            super().send_header(name, value)
            if name == "Content-Type" and self.path == "/moved":
                super().send_header("Location", f"http://localhost:{port}/faq/refunds")

    site.server.RequestHandlerClass = Moving
    result = crawler.fetch_page(Target(site.base + "/moved", frozenset({f"127.0.0.1:{port}"})))
    assert (result.status, result.reason) == ("failed", f"redirected to another host (localhost:{port})")


def test_retry_after_is_honoured_then_the_page_is_fetched(site):
    waits = []
    crawler = Crawler(CrawlSettings(retries=2, backoff=0.01), sleep=waits.append)
    calls = Counter()
    original = site.server.RequestHandlerClass

    class Busy(original):
        def send_response(self, code, message=None):
            calls[self.path] += 1
            if self.path == "/faq/refunds" and calls[self.path] == 1:
                code = 429
            super().send_response(code, message)
            if code == 429:
                super().send_header("Retry-After", "2")

    site.server.RequestHandlerClass = Busy
    result = crawler.fetch_page(Target(site.base + "/faq/refunds", frozenset({site.base[7:]})))
    assert result.status == "fetched"
    assert waits == [2.0]


def test_gzip_bomb_is_refused():
    bomb = gzip.compress(b"\0" * 5_000_000)
    with pytest.raises(CrawlError, match="decompresses to more than"):
        gunzip_capped(bomb, 1024 * 1024)
    assert gunzip_capped(gzip.compress(b"<urlset/>"), 1024) == b"<urlset/>"


def test_sitemap_parser_ignores_entities_and_reads_both_kinds():
    evil = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/x?a=1&amp;b=2</loc></url>
<url><loc>&e;</loc></url></urlset>"""
    kind, locs = parse_sitemap(evil)
    assert kind == "urlset" and locs[0] == "https://a.example/x?a=1&b=2"
    assert not any("root:" in loc for loc in locs)
    with pytest.raises(CrawlError, match="not a sitemap"):
        parse_sitemap(b"<html><body/></html>")


def test_cli_index_urls_file_prints_a_summary(site, tmp_path, runner):
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# pages\n{site.base}/faq/refunds\n{site.base}/faq/shipping\n{site.base}/faq/account\n"
                    f"{site.base}/manual.pdf\nnot a url\n")
    env = {"FAQBOT_SEMANTIC": "0", "FAQBOT_CRAWL_TIMEOUT": "2"}
    result = runner.invoke(cli, ["index", "--urls", str(urls), "--index", str(tmp_path / "ix")], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Indexed 3 articles: 3 FAQ pairs, ")
    assert "Pages: 3 fetched, 0 unchanged, 1 failed, 0 gone, 1 not allowed.\n" in result.output
    assert f"Failed (previous passages kept):\n  {site.base}/manual.pdf: not HTML (content type application/pdf)\n" in result.output
    assert "  not a url: not an http(s) URL\n" in result.output
