"""What the app allows: a per-client request rate shared by all workers, and browser security headers.

The rate limit is a fixed window of one minute per client. By default it is counted in a SQLite
file beside the index (WAL mode, one UPSERT per limited request), so every gunicorn worker process
of one machine sees the same counts. With `rate_limit_storage = "redis://..."` it is counted in
Redis (one INCR script per request), so every worker of every replica shares one count per
client; when Redis cannot be reached, requests are allowed (fail open) and the failure is logged
once a minute. Either store holds a salted hash of the client address, never the address itself,
and counts older than the previous window are deleted as windows roll over.

Time budget: the API bounds the work of one question instead of timing it out (a per-request
timer would need a thread or a signal per request): questions are at most 1000 characters and
top_k at most 50. The slowest question we could make for a 100k-passage index (1000 characters of
its most common terms, top_k 50) takes 0.1-0.5 s on 2 shared cores, within a 2 s budget; gunicorn's
30 s worker timeout is the hard stop. benchmarks/load.py measures latency under sustained load.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import sqlite3
import time
from pathlib import Path

from flask import Flask, Response, request

from ..errors import ApiError
from ..ops.storage import ThreadConnections, describe, open_sqlite

LIMITED = {("POST", "/api/ask"), ("POST", "/api/feedback")}
# WSGI environ key: the request was already counted (by fast_ask.FastAsk) with this result (None = allowed).
COUNTED = "faqbot.rate_limit.retry_after"
_NOT_COUNTED = object()
WINDOW_SECONDS = 60


def clock() -> float:
    """The time the per-minute windows read (tests stop it mid-minute: tests/conftest.py)."""
    return time.time()

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Other sites load the widget with <script src> and it then loads its stylesheet: both must stay
# embeddable cross-origin, so they get no page CSP and an explicit cross-origin resource policy.
EMBEDDABLE = {"/widget.js", "/widget.css"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hits (
    client TEXT PRIMARY KEY,       -- salted hash of the client address
    minute INTEGER NOT NULL,       -- unix time // WINDOW_SECONDS
    count INTEGER NOT NULL
);
"""
_UPSERT = """
INSERT INTO hits (client, minute, count) VALUES (?, ?, 1)
ON CONFLICT(client) DO UPDATE SET
    count = CASE WHEN hits.minute = excluded.minute THEN hits.count + 1 ELSE 1 END,
    minute = excluded.minute
RETURNING count
"""


class RateLimiter:
    """Counts requests per client per minute in one SQLite file (safe across threads and processes)."""

    def __init__(self, path: str | Path, per_minute: int, now=None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.per_minute = per_minute
        self._now = now
        self._connections = ThreadConnections(lambda: open_sqlite(self.path))
        self._pruned_window = -1
        db = self._connect()
        db.executescript(SCHEMA)
        db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)", (secrets.token_hex(16),))
        self._salt = db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0].encode()

    def _connect(self) -> sqlite3.Connection:
        return self._connections.get()[0]

    def key(self, client: str) -> str:
        """The stored form of a client address: a salted hash, so the file holds no IP address."""
        return hashlib.blake2b(client.encode(), key=self._salt, digest_size=12).hexdigest()

    def hit(self, client: str) -> float | None:
        """Count one request; return None when allowed, else the seconds until the client may retry."""
        now = (self._now or clock)()
        window = int(now // WINDOW_SECONDS)
        db = self._connect()
        count = db.execute(_UPSERT, (self.key(client), window)).fetchone()[0]
        if window != self._pruned_window:
            self._pruned_window = window
            db.execute("DELETE FROM hits WHERE minute < ?", (window - 1,))
        if count <= self.per_minute:
            return None
        return max(1.0, (window + 1) * WINDOW_SECONDS - now)


# One round trip: count the request and, on the window's first, let the key expire with the next
# window. The salt is put back if Redis lost it (a restart without persistence), so processes that
# read it before and processes that read it after the restart keep hashing a client alike.
_REDIS_HIT = """
redis.call('SET', KEYS[2], ARGV[2], 'NX')
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_REDIS_SALT = "faqbot:ratelimit:salt"
REDIS_TIMEOUT = 0.25  # seconds: a request waits at most this long for Redis before it is let through
REDIS_RETRY = 1.0  # seconds without trying Redis after a failure (a dead host would cost each request a timeout)
WARN_EVERY = 60.0


class RedisRateLimiter:
    """Counts requests per client per minute in Redis, shared by every replica; fails open."""

    def __init__(self, url: str, per_minute: int, now=None):
        try:
            import redis
        except ImportError:
            from ..errors import FaqbotError

            raise FaqbotError("A redis:// rate_limit_storage needs redis-py: pip install 'faqbot[cluster]'.") from None
        self.per_minute = per_minute
        self._now = now
        self._errors = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
        self._script = self._client.register_script(_REDIS_HIT)
        self._salt: bytes | None = None
        self._down_until = 0.0
        self._warned_at = -WARN_EVERY
        self.where = describe(url)

    def key(self, client: str) -> str:
        """The stored form of a client address: a salted hash (one salt for all replicas, kept in Redis)."""
        if self._salt is None:
            self._client.set(_REDIS_SALT, secrets.token_hex(16), nx=True)
            self._salt = self._client.get(_REDIS_SALT)
        return hashlib.blake2b(client.encode(), key=self._salt, digest_size=12).hexdigest()

    def hit(self, client: str) -> float | None:
        """Count one request; return None when allowed (or Redis is unreachable), else the seconds to wait."""
        now = (self._now or clock)()
        if time.monotonic() < self._down_until:
            return None
        window = int(now // WINDOW_SECONDS)
        try:
            count = int(self._script(keys=[f"faqbot:ratelimit:{window}:{self.key(client)}", _REDIS_SALT],
                                     args=[2 * WINDOW_SECONDS, self._salt]))
        except self._errors as err:
            self._down_until = time.monotonic() + REDIS_RETRY
            if time.monotonic() - self._warned_at >= WARN_EVERY:
                self._warned_at = time.monotonic()
                import logging

                logging.getLogger("faqbot").warning(
                    "faqbot: rate limit store %s unreachable (%s); requests are not limited until it is back",
                    self.where, err)
            return None
        if count <= self.per_minute:
            return None
        return max(1.0, (window + 1) * WINDOW_SECONDS - now)


def rate_limiter(settings):
    """The rate limiter the settings ask for: Redis when rate_limit_storage is a redis:// URL, else SQLite."""
    storage = settings.rate_limit_storage
    if storage.startswith(("redis://", "rediss://", "unix://")):
        return RedisRateLimiter(storage, settings.rate_limit)
    if storage:
        from ..errors import FaqbotError

        raise FaqbotError(f"rate_limit_storage {storage!r}: give a redis://host:6379/0 URL, or leave it empty "
                          "for the SQLite file beside the index.")
    return RateLimiter(Path(settings.index_dir).resolve().parent / "ratelimit.sqlite", settings.rate_limit)


def client_address(environ: dict | None = None) -> str:
    """The client as the app sees it: REMOTE_ADDR, which ProxyFix (see install) sets behind trusted proxies."""
    environ = request.environ if environ is None else environ
    return environ.get("REMOTE_ADDR") or "unknown"


def trust_proxies(wsgi_app, hops: int):
    """Read the client address and scheme that `hops` trusted proxies appended (counted from the right).

    Each proxy appends the address it got the request from to X-Forwarded-For, so only the last
    `hops` entries were written by proxies we trust; anything to their left is what the client sent
    and may be made up. werkzeug's ProxyFix takes the entry `hops` from the right (and
    X-Forwarded-Proto likewise, which makes cookies Secure behind a TLS proxy).
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(wsgi_app, x_for=hops, x_proto=hops) if hops > 0 else wsgi_app


def install(app: Flask, settings) -> None:
    """Register the rate limit (when settings.rate_limit > 0) and the security headers on app."""
    if settings.rate_limit > 0:
        limiter = rate_limiter(settings)
        app.extensions["faqbot.limiter"] = limiter

        @app.before_request
        def rate_limit():
            if (request.method, request.path) not in LIMITED:
                return None
            retry_after = request.environ.pop(COUNTED, _NOT_COUNTED)
            if retry_after is _NOT_COUNTED:
                retry_after = limiter.hit(client_address())
            if retry_after is None:
                return None
            seconds = math.ceil(retry_after)
            raise ApiError(f"Too many requests: the limit is {limiter.per_minute} a minute. Try again in {seconds} seconds.",
                           429, {"Retry-After": str(seconds)})

    page = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "strict-origin-when-cross-origin"),
            ("Content-Security-Policy", PAGE_CSP), ("X-Frame-Options", "DENY"))
    api = page[:2] + (("Content-Security-Policy", API_CSP),)
    embeddable = page[:2] + (("Cross-Origin-Resource-Policy", "cross-origin"),)

    @app.after_request
    def security_headers(response: Response) -> Response:
        path = request.path
        wanted = embeddable if path in EMBEDDABLE else api if path.startswith("/api/") else page
        headers = response.headers
        present = {key.lower() for key, _ in headers.items()}  # a view may have set its own: keep it
        for key, value in wanted:
            if key.lower() not in present:
                headers.add(key, value)
        return response
