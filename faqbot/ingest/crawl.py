"""Fetch a live site politely: sitemaps (and sitemap indexes, gzipped or not), URL lists, pages.

Polite and safe by construction: robots.txt is honoured for every page (RFC 9309, parsed by
protego: `*` and `$` wildcards, the longest matching rule wins) and so is its Crawl-delay; only
the sitemap's own host and port (or the listed URL's, or `allowed_hosts`) are fetched, redirects
included; at most `concurrency` requests run at once, over kept-alive connections; every request
has one deadline for all its reads (faqbot.ingest.http_fetch); 429 and 5xx answers are retried with
exponential backoff (Retry-After honoured up to MAX_RETRY_AFTER); pages over `max_page_bytes`
and non-HTML content types fail; ETag / Last-Modified from the last run are sent back so an
unchanged page costs a 304.
"""

from __future__ import annotations

import http.client
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Callable
from urllib.parse import urldefrag, urljoin, urlsplit

from .. import __version__
from ..errors import FaqbotError
from .http_fetch import HttpClient, Reply, TooLarge
from .robots import SiteRobots
from .urls import checked_url

USER_AGENT = f"faqbot/{__version__}"
HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit, applied after decompression too
MAX_SITEMAPS = 500  # sitemap files followed from one sitemap index tree
MAX_URLS = 50_000  # pages per crawl
MAX_ROBOTS_BYTES = 512 * 1024
MAX_RETRY_AFTER = 30.0  # seconds; a server asking for a longer wait gets reported as failed
MAX_CRAWL_DELAY = 30.0  # seconds; a robots.txt asking for more gets its pages skipped, with the reason
MAX_REDIRECTS = 5  # RFC 9309 asks at least five for robots.txt; pages get the same
_REDIRECTS = (301, 302, 303, 307, 308)
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


class _FetchFailed(Exception):
    def __init__(self, reason: str, status: int = 0):
        super().__init__(reason)
        self.status = status


def host_of(url: str) -> str:
    """host[:port] of a URL, lowercased."""
    return urlsplit(url).netloc.lower()


def _host_allowed(url: str, hosts: frozenset[str]) -> bool:
    """Whether url is http(s) on one of hosts: "host:port" allows that port only, a bare "host"
    the default ports (80 and 443, so a site moving to https stays allowed), never any other."""
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return False
    for entry in hosts:
        allowed = urlsplit("//" + entry)
        try:
            entry_port = allowed.port
        except ValueError:
            continue
        if allowed.hostname == parts.hostname and (
                port == entry_port if entry_port else port == _DEFAULT_PORTS[parts.scheme]):
            return True
    return False


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
        self._http = HttpClient()
        self._robots = SiteRobots(USER_AGENT, self._fetch_robots, sleep)
        self._in_batch = threading.local()  # set in fetch_pages' threads: connections kept between pages

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._http.close()

    # -- sitemaps and URL lists -------------------------------------------------------------------

    def sitemap_targets(self, sitemap_url: str) -> list[Target]:
        """Page URLs of a sitemap (following a sitemap index), each allowed the sitemap's own host."""
        try:
            return self._sitemap_targets(sitemap_url)
        finally:
            self._http.close_mine()

    def _sitemap_targets(self, sitemap_url: str) -> list[Target]:
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
            self._in_batch.on = True  # keep this thread's connections for its next pages
            pages[i] = self.fetch_page(target, *validators.get(target.url, (None, None)))
            with lock:
                done += 1
                if progress:
                    progress(done, len(targets))

        try:
            with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency), thread_name_prefix="faqbot-crawl") as pool:
                list(pool.map(work, range(len(targets))))
        finally:
            self._http.close()
        return pages  # type: ignore[return-value]

    def fetch_page(self, target: Target, etag: str | None = None, last_modified: str | None = None) -> Page:
        """Fetch one page, conditionally when we hold a copy; never raises for network trouble."""
        try:
            return self._fetch_page(target, etag, last_modified)
        finally:
            if not getattr(self._in_batch, "on", False):
                self._http.close_mine()

    def _fetch_page(self, target: Target, etag: str | None, last_modified: str | None) -> Page:
        url = target.url
        if not _host_allowed(url, target.hosts):
            return Page(url, "skipped", reason=f"host {host_of(url)} is not the sitemap's host or in allowed_hosts")
        robots = self._robots.rules_for(url)
        if not robots.allows(url):
            return Page(url, "skipped", reason="disallowed by robots.txt")
        if robots.delay() > MAX_CRAWL_DELAY:
            return Page(url, "skipped", reason=f"robots.txt asks for {robots.delay():g} s between requests "
                                                f"(faqbot waits at most {MAX_CRAWL_DELAY:g} s)")
        self._robots.wait_turn(url, robots.delay())
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
        return self._robots.rules_for(url).allows(url)

    def _fetch_robots(self, site: str) -> tuple[int, str]:
        hosts = frozenset({host_of(site), urlsplit(site).hostname or ""})  # http -> https on the same host too
        try:
            response = self._get(site + "/robots.txt", {}, MAX_ROBOTS_BYTES, hosts, robots=False)
        except _FetchFailed as err:
            return err.status, ""
        return response.status, response.body.decode("utf-8", "replace")

    # -- HTTP -------------------------------------------------------------------------------------

    def _get(self, url: str, headers: dict, max_bytes: int, hosts: frozenset[str], check_type: bool = False,
             robots: bool = True) -> Reply:
        """GET with redirects (each checked against hosts and, when robots, robots.txt) and retries on
        429 / 5xx / dropped connections; 200 and 304 come back, the rest raise _FetchFailed."""
        settings = self.settings
        headers = {"User-Agent": USER_AGENT, **headers}
        for attempt in range(settings.retries + 1):
            wait = settings.backoff * 2 ** attempt
            try:
                response = self._follow(url, headers, max_bytes, hosts, check_type, robots)
            except TimeoutError:
                raise _FetchFailed(f"timed out after {settings.timeout:g} s") from None
            except TooLarge as err:
                size = f"{err.size:,} bytes > {max_bytes:,}" if err.size is not None else f"over {max_bytes:,} bytes"
                raise _FetchFailed(f"too large ({size})") from None
            except ConnectionError as err:
                if attempt < settings.retries:
                    self.sleep(wait)
                    continue
                raise _FetchFailed(f"cannot connect ({err})") from None
            except (OSError, http.client.HTTPException, ValueError) as err:
                raise _FetchFailed(f"cannot connect ({err or type(err).__name__})") from None
            if response.status in (200, 304):
                return response
            code = response.status
            if code == 429 or code >= 500:
                retry_after = _retry_after(response.headers.get("Retry-After"))
                if retry_after is not None:
                    if retry_after > MAX_RETRY_AFTER:
                        raise _FetchFailed(f"HTTP {code} (asked to wait {retry_after:.0f} s)", code)
                    wait = max(wait, retry_after)
                if attempt < settings.retries:
                    self.sleep(wait)
                    continue
                tries = f" after {attempt + 1} attempts" if attempt else ""
                raise _FetchFailed(f"HTTP {code}{tries}", code)
            raise _FetchFailed(f"HTTP {code}", code)
        raise _FetchFailed("no attempts made")  # pragma: no cover - retries >= 0 always loops

    def _follow(self, url: str, headers: dict, max_bytes: int, hosts: frozenset[str], check_type: bool,
                robots: bool) -> Reply:
        """One attempt: GET url, following up to MAX_REDIRECTS redirects."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._http.get(url, headers, self.settings.timeout, max_bytes,
                                      check=_check_html if check_type else None)
            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or not location:
                return response
            url = normalise_url(urljoin(url, location.strip()))
            if url is None:
                raise _FetchFailed("redirected to a URL that is not http(s)")
            if not _host_allowed(url, hosts):
                raise _FetchFailed(f"redirected to another host ({host_of(url)})")
            if robots and not self.robots_allow(url):
                raise _FetchFailed("redirected to a page robots.txt disallows")
        raise _FetchFailed(f"more than {MAX_REDIRECTS} redirects")


def _check_html(status: int, headers: Message) -> None:
    """A 200 answer must be HTML (checked before its body is read)."""
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if status == 200 and ctype not in HTML_TYPES:
        raise _FetchFailed(f"not HTML (content type {ctype or 'missing'})")


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
