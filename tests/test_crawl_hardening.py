"""The crawler against awkward servers: real HTTP servers on 127.0.0.1, in threads, no mocks."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faqbot.ingest import crawl
from faqbot.ingest.crawl import Crawler, CrawlSettings, Target, _host_allowed

HTML = b"<!doctype html><html><head><title>T</title></head><body><main><h1>T</h1>" \
       b"<p>A page with enough words in it to be read as an article by faqbot.</p></main></body></html>"


class Server:
    """Routes path -> (status, headers, body) or a callable(handler) writing its own answer."""

    def __init__(self, http11: bool = True):
        self.routes: dict = {}
        self.connections: set = set()  # client (host, port) pairs: one per TCP connection
        self.log: list[tuple[float, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if http11 else "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.connections.add(self.client_address)
                server.log.append((time.monotonic(), self.path))
                route = server.routes.get(self.path, (404, {}, b"not found"))
                try:
                    if callable(route):
                        route(self)
                        return
                    status, headers, body = route
                    self.send_response(status)
                    for name, value in {"Content-Type": "text/html", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def in_thread(function, timeout: float):
    """Run function in a daemon thread; fail (instead of hanging the suite) if it outlives timeout."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", function()), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout} s (deadlocked or not bounded)"
    return result["value"]


# -- finding: a robots.txt that redirects deadlocked the crawl --------------------------------------

def test_a_redirecting_robots_txt_is_followed_without_deadlock(server):
    server.routes["/robots.txt"] = (301, {"Location": "/robots-real.txt"}, b"")
    server.routes["/robots-real.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")
    server.routes["/faq"] = (200, {}, HTML)
    server.routes["/private/x"] = (200, {}, HTML)
    crawler = Crawler(CrawlSettings(timeout=2, retries=0))
    hosts = frozenset({server.host})
    pages = in_thread(lambda: crawler.fetch_pages([Target(server.base + "/faq", hosts),
                                                   Target(server.base + "/private/x", hosts)]), 20)
    assert [(p.status, p.reason) for p in pages] == [("fetched", ""), ("skipped", "disallowed by robots.txt")]


def test_a_page_redirected_to_a_site_whose_robots_txt_redirects_is_fetched(server):
    server.routes["/robots.txt"] = (302, {"Location": "/r.txt"}, b"")
    server.routes["/r.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
    server.routes["/old"] = (301, {"Location": "/new"}, b"")
    server.routes["/new"] = (200, {}, HTML)
    crawler = Crawler(CrawlSettings(timeout=2, retries=0, concurrency=4))
    hosts = frozenset({server.host})
    pages = in_thread(lambda: crawler.fetch_pages([Target(server.base + "/old", hosts)] * 4), 20)
    assert {(p.status, p.final_url) for p in pages} == {("fetched", server.base + "/new")}


# -- finding: the deadline was checked only between 64 KiB reads ----------------------------------

def trickle(body_first: bool):
    def answer(handler):
        if body_first:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", str(len(HTML)))
            handler.end_headers()
            data = HTML
        else:  # the status line and headers themselves, a byte at a time
            data = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"x" * 100 + b"\r\n\r\n"
        for byte in data:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.4)
    return answer


@pytest.mark.parametrize("body_first", [True, False], ids=["body", "headers"])
def test_a_server_trickling_bytes_is_cut_at_the_timeout(server, body_first):
    server.routes["/robots.txt"] = (404, {}, b"")
    server.routes["/slow"] = trickle(body_first)
    crawler = Crawler(CrawlSettings(timeout=2, retries=0))
    started = time.monotonic()
    page = in_thread(lambda: crawler.fetch_page(Target(server.base + "/slow", frozenset({server.host}))), 60)
    took = time.monotonic() - started
    assert (page.status, page.reason) == ("failed", "timed out after 2 s")
    assert took < 4, f"a 2 s timeout held for {took:.1f} s"  # the old crawler: 9.6 s and more


# -- finding: a sitemap host without a port allowed every port -------------------------------------

def test_host_rules_match_host_and_port():
    bare, exact = frozenset({"example.com"}), frozenset({"example.com:8080"})
    assert _host_allowed("http://example.com/a", bare) and _host_allowed("https://example.com/a", bare)
    assert _host_allowed("http://EXAMPLE.com:80/a", bare)
    assert not _host_allowed("http://example.com:8080/a", bare)
    assert not _host_allowed("http://example.com:22/a", bare)
    assert _host_allowed("http://example.com:8080/a", exact)
    assert not _host_allowed("http://example.com/a", exact) and not _host_allowed("http://example.com:8081/", exact)
    assert not _host_allowed("http://other.example/a", bare) and not _host_allowed("ftp://example.com/", bare)
    assert not _host_allowed("http://example.com:99999/", bare)


def test_a_sitemap_cannot_send_the_crawler_to_another_port_of_its_host(server):
    other = Server()
    try:
        other.routes["/admin"] = (200, {}, HTML)
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        server.routes["/sitemap.xml"] = (200, {"Content-Type": "application/xml"},
                                         f"<urlset {ns}><url><loc>{other.base}/admin</loc></url></urlset>".encode())
        for allowed in ((), ("127.0.0.1",)):
            crawler = Crawler(CrawlSettings(timeout=2, retries=0, allowed_hosts=allowed))
            [target] = crawler.sitemap_targets(server.base + "/sitemap.xml")
            page = crawler.fetch_page(target)
            assert (page.status, page.reason) == (
                "skipped", f"host {other.host} is not the sitemap's host or in allowed_hosts")
        assert other.log == []
        crawler = Crawler(CrawlSettings(timeout=2, retries=0, allowed_hosts=(other.host,)))
        [target] = crawler.sitemap_targets(server.base + "/sitemap.xml")
        other.routes["/robots.txt"] = (404, {}, b"")
        assert crawler.fetch_page(target).status == "fetched"
    finally:
        other.close()


# -- finding: robots.txt wildcards, the longest match, Crawl-delay ---------------------------------

ROBOTS = b"""User-agent: *
Disallow: /faq/
Allow: /faq/refunds$
Disallow: /*.pdf$
Disallow: /shop/*/cart
Crawl-delay: 2
"""


def test_robots_txt_wildcards_and_longest_match(server):
    server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, ROBOTS)
    crawler = Crawler(CrawlSettings(timeout=2, retries=0))
    expected = {
        "/faq/refunds": True,  # Allow /faq/refunds$ is longer than Disallow /faq/
        "/faq/refunds/more": False,  # $ anchors the allow rule
        "/faq/shipping": False,
        "/manual.pdf": False, "/docs/a/b.pdf": False, "/manual.pdf?page=2": True,
        "/shop/shoes/cart": False, "/shop/cart": True, "/about": True,
    }
    assert {path: crawler.robots_allow(server.base + path) for path in expected} == expected
    crawler.close()


def test_crawl_delay_spaces_requests_to_a_site(server):
    server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nCrawl-delay: 0.5\n")
    for n in range(4):
        server.routes[f"/p{n}"] = (200, {}, HTML)
    crawler = Crawler(CrawlSettings(timeout=2, retries=0, concurrency=4))
    targets = [Target(f"{server.base}/p{n}", frozenset({server.host})) for n in range(4)]
    pages = in_thread(lambda: crawler.fetch_pages(targets), 30)
    assert [p.status for p in pages] == ["fetched"] * 4
    times = sorted(t for t, path in server.log if path.startswith("/p"))
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.45, gaps  # four threads, yet one request per 0.5 s


def test_a_crawl_delay_over_the_limit_skips_the_site_with_the_reason(server):
    server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nCrawl-delay: 86400\n")
    server.routes["/p"] = (200, {}, HTML)
    page = Crawler(CrawlSettings(timeout=2)).fetch_page(Target(server.base + "/p", frozenset({server.host})))
    assert (page.status, page.reason) == (
        "skipped", f"robots.txt asks for 86400 s between requests (faqbot waits at most {crawl.MAX_CRAWL_DELAY:g} s)")
    assert [path for _, path in server.log] == ["/robots.txt"]


# -- connections are reused ----------------------------------------------------------------------

def test_pages_of_one_site_share_a_kept_alive_connection(server):
    server.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
    for n in range(6):
        server.routes[f"/p{n}"] = (200, {}, HTML)
    crawler = Crawler(CrawlSettings(timeout=2, retries=0, concurrency=1))
    pages = crawler.fetch_pages([Target(f"{server.base}/p{n}", frozenset({server.host})) for n in range(6)])
    crawler.close()
    assert [p.status for p in pages] == ["fetched"] * 6
    assert len(server.log) == 7 and len(server.connections) <= 2  # robots.txt from the calling thread, pages from one


def test_a_kept_alive_connection_the_server_dropped_is_replaced(server):
    def answer_then_hang_up(handler):  # says nothing of closing, then closes: the client finds out on reuse
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(HTML)))
        handler.end_headers()
        handler.wfile.write(HTML)
        handler.close_connection = True

    server.routes.update({"/robots.txt": (404, {}, b""), "/first": answer_then_hang_up, "/second": (200, {}, HTML)})
    crawler = Crawler(CrawlSettings(timeout=2, retries=0))
    hosts = frozenset({server.host})
    assert crawler.fetch_page(Target(server.base + "/first", hosts)).status == "fetched"
    time.sleep(0.2)
    assert crawler.fetch_page(Target(server.base + "/second", hosts)).status == "fetched"
    assert [path for _, path in server.log] == ["/robots.txt", "/first", "/second"]
    assert len(server.connections) == 2
