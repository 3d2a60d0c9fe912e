"""robots.txt for the crawler: RFC 9309 rules (parsed by protego), read once per site, and the
Crawl-delay between requests to a site.

protego rather than the standard library's parser: it knows the `*` and `$` wildcards and lets the
longest matching rule win, as RFC 9309 says; urllib.robotparser takes the first match and no wildcards.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from protego import Protego


@dataclass(frozen=True)
class RobotsRules:
    """One site's rules for one user agent: parsed, or all allowed (4xx) / all refused (5xx, unreachable)."""

    agent: str
    rules: Protego | None = None
    allow_all: bool = False

    @classmethod
    def from_answer(cls, agent: str, status: int, text: str) -> "RobotsRules":
        """The rules an HTTP answer to GET /robots.txt gives (status 0: no answer)."""
        if status == 200:
            return cls(agent, Protego.parse(text))
        return cls(agent, allow_all=400 <= status < 500)

    def allows(self, url: str) -> bool:
        """Whether the agent may fetch url."""
        return self.rules.can_fetch(url, self.agent) if self.rules is not None else self.allow_all

    def delay(self) -> float:
        """The Crawl-delay asked of the agent, in seconds (0 when none)."""
        found = self.rules.crawl_delay(self.agent) if self.rules is not None else None
        return max(0.0, float(found or 0.0))


class SiteRobots:
    """The rules of every site met, each read once by fetch(site) -> (status, text); and turns.

    No lock is held while fetching: a robots.txt that redirects, or a page redirected to a site
    whose robots.txt is still being read, can never wait on itself (the old crawler deadlocked).
    Threads asking for a site being read meanwhile wait for that one read.
    """

    def __init__(self, agent: str, fetch: Callable[[str], tuple[int, str]], sleep: Callable[[float], None]):
        self.agent, self._fetch, self._sleep = agent, fetch, sleep
        self._rules: dict[str, Future] = {}
        self._lock = threading.Lock()  # guards the dicts only
        self._next_turn: dict[str, float] = {}  # site -> when its Crawl-delay lets the next request go

    def rules_for(self, url: str) -> RobotsRules:
        """The rules of url's site (scheme://host:port), read on first use."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc.lower()}"
        with self._lock:
            pending = self._rules.get(site)
            mine = pending is None
            if mine:
                pending = self._rules[site] = Future()
        if mine:
            try:
                pending.set_result(RobotsRules.from_answer(self.agent, *self._fetch(site)))
            except BaseException as err:  # never leave the other threads waiting
                pending.set_exception(err)
        return pending.result()

    def wait_turn(self, url: str, delay: float) -> None:
        """Sleep until `delay` seconds have passed since the last request given a turn on url's site."""
        if delay <= 0:
            return
        site = urlsplit(url).netloc.lower()
        with self._lock:
            now = time.monotonic()
            turn = max(now, self._next_turn.get(site, now))
            self._next_turn[site] = turn + delay
        if turn > now:
            self._sleep(turn - now)
