"""Fetch a live site politely: sitemaps (and sitemap indexes, gzipped or not), URL lists, pages.

Polite and safe by construction: robots.txt is honoured for every page, only the sitemap's own
host (or the listed URL's, or `allowed_hosts`) is fetched, redirects included; at most
`concurrency` requests run at once; every request has a timeout; 429 and 5xx answers are retried
with exponential backoff (Retry-After honoured up to MAX_RETRY_AFTER); pages over
`max_page_bytes` and non-HTML content types fail; ETag / Last-Modified from the last run are sent
back so an unchanged page costs a 304. Only the standard library speaks HTTP here.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import urllib.robotparser
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Callable
from urllib.parse import urldefrag, urlsplit

from . import __version__
from .errors import FaqbotError
from .urls import checked_url

USER_AGENT = f"faqbot/{__version__}"
HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit, applied after decompression too
MAX_SITEMAPS = 500  # sitemap files followed from one sitemap index tree
MAX_URLS = 50_000  # pages per crawl
MAX_ROBOTS_BYTES = 512 * 1024
MAX_RETRY_AFTER = 30.0  # seconds; a server asking for a longer wait gets reported as failed
_CHUNK = 64 * 1024


class CrawlError(FaqbotError):
    """A sitemap or URL list that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class CrawlSettings:
    """How to crawl: limits and politeness (from the faqbot settings of the same names)."""

    allowed_hosts: tuple[str, ...] = ()
    concurrency: int = 4
    timeout: float = 10.0
    max_page_bytes: int = 5_000_000
    retries: int = 2  # extra attempts after a 429, a 5xx or a dropped connection
    backoff: float = 1.0  # seconds before the first retry, doubled each time


@dataclass(frozen=True)
class Target:
    """One page to fetch, with the hosts it (and its redirects) may use."""

    url: str
    hosts: frozenset[str]


@dataclass(frozen=True)
class Page:
    """What fetching one URL gave.

    status: "fetched" (body holds the HTML), "unchanged" (304 to our conditional request),
    "failed" (keep what we had: timeouts, 5xx, too large, not HTML...), "gone" (404/410) or
    "skipped" (robots.txt or host rules forbid it). reason says why for the last three.
    """

    url: str
    status: str
    body: bytes = b""
    final_url: str = ""
    etag: str | None = None
    last_modified: str | None = None
    reason: str = ""


@dataclass
class CrawlReport:
    """Counts and reasons for the summary."""

    fetched: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    gone: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def add(self, page: Page) -> None:
        """Count one page's outcome."""
        if page.status == "fetched":
            self.fetched += 1
        elif page.status == "unchanged":
            self.unchanged += 1
        else:
            getattr(self, page.status).append((page.url, page.reason))


class _Response:
    def __init__(self, status: int, headers: Message, body: bytes, url: str):
        self.status, self.headers, self.body, self.url = status, headers, body, url


class _FetchFailed(Exception):
    def __init__(self, reason: str, status: int = 0):
        super().__init__(reason)
        self.status = status


def host_of(url: str) -> str:
    """host[:port] of a URL, lowercased."""
    return urlsplit(url).netloc.lower()


def _host_allowed(url: str, hosts: frozenset[str]) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.netloc.lower() in hosts or (parts.hostname or "") in hosts)


def normalise_url(url: str) -> str | None:
    """The URL without its #fragment, or None when it is not an absolute http(s) URL."""
    try:
        url = urldefrag(url.strip())[0]
    except ValueError:
        return None
    return checked_url(url, relative=False)


def read_url_list(path: str | Path) -> list[str]:
    """URLs of a file, one a line (blank lines and # comments ignored); CrawlError if unreadable."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise CrawlError(f"Cannot read the URL list {path}: {getattr(err, 'strerror', None) or err}.") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """Decompress gzip data a piece at a time, refusing output over limit bytes (zip-bomb safe)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    chunk = data
    try:
        while chunk:
            out += inflater.decompress(chunk, limit + 1 - len(out))
            if len(out) > limit:
                raise CrawlError(f"decompresses to more than {limit // (1024 * 1024)} MB")
            chunk = inflater.unconsumed_tail
    except zlib.error as err:
        raise CrawlError(f"is not valid gzip ({err})") from None
    return bytes(out)


def parse_sitemap(data: bytes) -> tuple[str, list[str]]:
    """("urlset" | "sitemapindex", the <loc> URLs) of a sitemap document; CrawlError if it is not one."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as err:
        raise CrawlError(f"is not valid XML ({err})") from None
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise CrawlError(f"is not a sitemap (root element <{kind}>)")
    child = "url" if kind == "urlset" else "sitemap"
    locs = []
    for entry in root:
        if isinstance(entry.tag, str) and etree.QName(entry).localname == child:
            for loc in entry:
                if isinstance(loc.tag, str) and etree.QName(loc).localname == "loc" and loc.text:
                    locs.append(loc.text.strip())
    return kind, locs


class Crawler:
    """Fetches sitemaps, robots.txt and pages under one set of CrawlSettings."""

    def __init__(self, settings: CrawlSettings = CrawlSettings(), sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._robots_lock = threading.Lock()

    # -- sitemaps and URL lists -------------------------------------------------------------------

    def sitemap_targets(self, sitemap_url: str) -> list[Target]:
        """Page URLs of a sitemap (following a sitemap index), each allowed the sitemap's own host."""
        start = normalise_url(sitemap_url)
        if start is None:
            raise CrawlError(f"Sitemap {sitemap_url!r} is not an http(s) URL.")
        hosts = frozenset({host_of(start), *self.settings.allowed_hosts})
        pages: list[str] = []
        queue, seen = [start], {start}
        while queue:
            url = queue.pop(0)
            data = self._sitemap_bytes(url, hosts)
            try:
                kind, locs = parse_sitemap(data)
            except CrawlError as err:
                raise CrawlError(f"Sitemap {url} {err}.") from None
            for loc in locs:
                loc = normalise_url(loc)
                if loc is None:
                    continue
                if kind == "sitemapindex":
                    if loc not in seen and _host_allowed(loc, hosts) and len(seen) < MAX_SITEMAPS:
                        seen.add(loc)
                        queue.append(loc)
                elif len(pages) < MAX_URLS:
                    pages.append(loc)
        return [Target(url, hosts) for url in dict.fromkeys(pages)]

    def _sitemap_bytes(self, url: str, hosts: frozenset[str]) -> bytes:
        try:
            response = self._get(url, {}, MAX_SITEMAP_BYTES, hosts)
        except _FetchFailed as err:
            raise CrawlError(f"Cannot fetch the sitemap {url}: {err}.") from None
        if response.status != 200:
            raise CrawlError(f"Cannot fetch the sitemap {url}: HTTP {response.status}.")
        body = response.body
        if body[:2] == b"\x1f\x8b":  # gzip by content, whatever the name or content type says
            try:
                body = gunzip_capped(body, MAX_SITEMAP_BYTES)
            except CrawlError as err:
                raise CrawlError(f"Sitemap {url} {err}.") from None
        return body

    def list_targets(self, path: str | Path) -> tuple[list[Target], list[tuple[str, str]]]:
        """Targets of a URL list file (each allowed its own host), and the lines that are not URLs."""
        targets, bad = [], []
        for line in read_url_list(path):
            url = normalise_url(line)
            if url is None:
                bad.append((line, "not an http(s) URL"))
            else:
                targets.append(Target(url, frozenset({host_of(url), *self.settings.allowed_hosts})))
        return targets[:MAX_URLS], bad

    # -- pages ------------------------------------------------------------------------------------

    def fetch_pages(
        self, targets: list[Target], validators: dict[str, tuple[str | None, str | None]] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Page]:
        """Fetch every target (at most `concurrency` at once), in the given order.

        validators maps a URL to the (ETag, Last-Modified) of the copy we hold; they are sent as
        If-None-Match / If-Modified-Since so an unchanged page answers 304.
        """
        validators = validators or {}
        pages: list[Page | None] = [None] * len(targets)
        done = 0
        lock = threading.Lock()

        def work(i: int) -> None:
            nonlocal done
            target = targets[i]
            pages[i] = self.fetch_page(target, *validators.get(target.url, (None, None)))
            with lock:
                done += 1
                if progress:
                    progress(done, len(targets))

        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency), thread_name_prefix="faqbot-crawl") as pool:
            list(pool.map(work, range(len(targets))))
        return pages  # type: ignore[return-value]

    def fetch_page(self, target: Target, etag: str | None = None, last_modified: str | None = None) -> Page:
        """Fetch one page, conditionally when we hold a copy; never raises for network trouble."""
        url = target.url
        if not _host_allowed(url, target.hosts):
            return Page(url, "skipped", reason=f"host {host_of(url)} is not the sitemap's host or in allowed_hosts")
        if not self.robots_allow(url):
            return Page(url, "skipped", reason="disallowed by robots.txt")
        headers = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            response = self._get(url, headers, self.settings.max_page_bytes, target.hosts, check_type=True)
        except _FetchFailed as err:
            status = "gone" if err.status in (404, 410) else "failed"
            return Page(url, status, reason=str(err))
        if response.status == 304:
            return Page(url, "unchanged", final_url=response.url, etag=etag, last_modified=last_modified)
        if response.status != 200:
            return Page(url, "failed", reason=f"HTTP {response.status}")
        return Page(url, "fetched", response.body, response.url,
                    response.headers.get("ETag"), response.headers.get("Last-Modified"))

    # -- robots.txt -------------------------------------------------------------------------------

    def robots_allow(self, url: str) -> bool:
        """Whether robots.txt of url's site lets faqbot fetch it (RFC 9309: 4xx = allowed, 5xx = not)."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc.lower()}"
        with self._robots_lock:
            rules = self._robots.get(site)
            if rules is None:
                rules = self._robots[site] = self._fetch_robots(site)
        return rules.can_fetch(USER_AGENT, url)

    def _fetch_robots(self, site: str) -> urllib.robotparser.RobotFileParser:
        rules = urllib.robotparser.RobotFileParser(site + "/robots.txt")
        try:
            response = self._get(site + "/robots.txt", {}, MAX_ROBOTS_BYTES, frozenset({host_of(site)}))
            status, text = response.status, response.body.decode("utf-8", "replace")
        except _FetchFailed as err:
            status, text = err.status, ""
        if status == 200:
            rules.parse(text.splitlines())
        elif 400 <= status < 500:
            rules.allow_all = True
        else:  # unreachable: assume everything is disallowed for this run
            rules.disallow_all = True
        rules.modified()
        return rules

    # -- HTTP -------------------------------------------------------------------------------------

    def _opener(self, hosts: frozenset[str]) -> urllib.request.OpenerDirector:
        crawler = self

        class Redirects(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, req, fp, code, msg, headers, newurl):
                if not _host_allowed(newurl, hosts):
                    raise _FetchFailed(f"redirected to another host ({host_of(newurl)})")
                if not crawler.robots_allow(newurl):
                    raise _FetchFailed("redirected to a page robots.txt disallows")
                return super().redirect_request(req, fp, code, msg, headers, newurl)

        return urllib.request.build_opener(Redirects)

    def _get(self, url: str, headers: dict, max_bytes: int, hosts: frozenset[str], check_type: bool = False) -> _Response:
        """GET with retries on 429 / 5xx / dropped connections; 200 and 304 come back, the rest raise."""
        settings = self.settings
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
        opener = self._opener(hosts)
        for attempt in range(settings.retries + 1):
            wait = settings.backoff * 2 ** attempt
            try:
                with opener.open(request, timeout=settings.timeout) as response:
                    if check_type:
                        _check_html(response.headers)
                    body = _read_capped(response, max_bytes, settings.timeout)
                    return _Response(response.status, response.headers, body, response.geturl())
            except urllib.error.HTTPError as err:
                err.close()
                if err.code == 304:
                    return _Response(304, err.headers, b"", url)
                retry_after = _retry_after(err.headers.get("Retry-After"))
                if err.code == 429 or err.code >= 500:
                    if retry_after is not None:
                        if retry_after > MAX_RETRY_AFTER:
                            raise _FetchFailed(f"HTTP {err.code} (asked to wait {retry_after:.0f} s)", err.code) from None
                        wait = max(wait, retry_after)
                    if attempt < settings.retries:
                        self.sleep(wait)
                        continue
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    raise _FetchFailed(f"HTTP {err.code}{tries}", err.code) from None
                raise _FetchFailed(f"HTTP {err.code}", err.code) from None
            except _FetchFailed:
                raise
            except (TimeoutError, urllib.error.URLError, OSError, ValueError) as err:
                reason = getattr(err, "reason", err)
                if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                    raise _FetchFailed(f"timed out after {settings.timeout:g} s") from None
                if isinstance(reason, (ConnectionError, ConnectionResetError)) and attempt < settings.retries:
                    self.sleep(wait)
                    continue
                raise _FetchFailed(f"cannot connect ({reason})") from None
        raise _FetchFailed("no attempts made")  # pragma: no cover - retries >= 0 always loops


def _check_html(headers: Message) -> None:
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype not in HTML_TYPES:
        raise _FetchFailed(f"not HTML (content type {ctype or 'missing'})")


def _read_capped(response, max_bytes: int, timeout: float) -> bytes:
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise _FetchFailed(f"too large ({int(length):,} bytes > {max_bytes:,})")
    deadline = time.monotonic() + timeout
    body = bytearray()
    while True:
        chunk = response.read(_CHUNK)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > max_bytes:
            raise _FetchFailed(f"too large (over {max_bytes:,} bytes)")
        if time.monotonic() > deadline:
            raise _FetchFailed(f"timed out after {timeout:g} s")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
