"""HTTP GET for the crawler: keep-alive connections reused per thread and origin, and one deadline for
the whole request (connect, send, status line, headers and body) enforced on every socket read.

Why not urllib.request or urllib3: both apply their timeout to each socket operation, so a server
sending one byte every 0.4 s holds a 2 s timeout for as long as it likes (measured with urllib:
9.6 s). Here every read gets only the time left before the deadline. The standard library's
http.client does the HTTP; this module only keeps its connections and bounds its reads.
"""

from __future__ import annotations

import http.client
import io
import ssl
import threading
import time
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote, urlsplit

_CHUNK = 64 * 1024
_PATH_SAFE = "/%:@!$&'()*+,;=-._~?"  # already-escaped URLs pass unchanged; spaces and non-ASCII get escaped


@dataclass(frozen=True)
class Reply:
    """A complete response: status, headers, body (at most max_bytes) and the URL asked for."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes
    url: str


class TooLarge(Exception):
    """The body is over max_bytes; size is the declared Content-Length, or None if it was counted."""

    def __init__(self, size: int | None):
        super().__init__(size)
        self.size = size


class _DeadlineReader(io.RawIOBase):
    """The socket's reads, each allowed only the time left before the deadline."""

    def __init__(self, sock, deadline: float):
        self._raw = sock.makefile("rb", buffering=0)  # holds the socket open while the response is read
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        self._sock.settimeout(left)
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock, debuglevel=0, method=None, url=None, *, deadline: float):
        super().__init__(sock, debuglevel, method, url)
        self.fp.close()  # the plain socket file http.client made; ours replaces it before any read
        self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


class HttpClient:
    """GET requests over HTTP/1.1 connections kept alive per thread and (scheme, host, port)."""

    def __init__(self):
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._tls = ssl.create_default_context()

    def get(self, url: str, headers: dict[str, str], timeout: float, max_bytes: int, check=None) -> Reply:
        """GET url within timeout seconds in all; check(status, headers) may raise before the body is read.

        Raises TimeoutError, TooLarge, OSError (ConnectionError included), http.client.HTTPException
        or what check raises; the connection is then dropped, never reused half-read.
        """
        deadline = time.monotonic() + timeout
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port)
        target = quote(parts.path or "/", safe=_PATH_SAFE) + (f"?{quote(parts.query, safe=_PATH_SAFE)}" if parts.query else "")
        for retry_fresh in (False, True):
            conn, reused = self._connection(origin, fresh=retry_fresh)
            try:
                return self._exchange(conn, target, headers, deadline, max_bytes, check, url)
            except ConnectionError:
                self._drop(origin)
                if reused and not retry_fresh:
                    continue  # the server had closed the idle kept-alive connection: once more on a new one
                raise
            except BaseException:
                self._drop(origin)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close every connection this client opened (call once no request is running)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    def close_mine(self) -> None:
        """Close the connections of the calling thread."""
        pool = self._local.__dict__.pop("pool", {})
        with self._lock:
            self._opened = [conn for conn in self._opened if conn not in pool.values()]
        for conn in pool.values():
            conn.close()

    def _connection(self, origin: tuple, fresh: bool) -> tuple[http.client.HTTPConnection, bool]:
        pool = self._local.__dict__.setdefault("pool", {})
        conn = None if fresh else pool.get(origin)
        if conn is not None:
            return conn, True
        scheme, host, port = origin
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, context=self._tls)
        else:
            conn = http.client.HTTPConnection(host, port)
        pool[origin] = conn
        with self._lock:
            self._opened.append(conn)
        return conn, False

    def _drop(self, origin: tuple) -> None:
        conn = self._local.__dict__.get("pool", {}).pop(origin, None)
        if conn is not None:
            conn.close()

    def _exchange(self, conn, target, headers, deadline, max_bytes, check, url) -> Reply:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        conn.timeout = left
        if conn.sock is None:
            conn.connect()
        conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
        conn.response_class = partial(_DeadlineResponse, deadline=deadline)
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        try:
            if check is not None:
                check(response.status, response.headers)
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise TooLarge(int(length))
            body = bytearray()
            while chunk := response.read(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise TooLarge(None)
            return Reply(response.status, response.headers, bytes(body), url)
        finally:
            response.close()
