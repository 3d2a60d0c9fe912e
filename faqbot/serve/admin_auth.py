"""Who may use the admin surface: the token, a limit on wrong guesses, revocable sign-in sessions, Origin checks.

One AdminAuth per app (None while no admin_token is set), shared by the admin API (faqbot.serve.reindex)
and the report page (faqbot.serve.report_page). Its state lives in the question-log database
(faqbot.ops.storage: the SQLite file beside the index, or the PostgreSQL database replicas share), so
every worker of every replica sees the same failures and sessions:

- failures: FAILURES_PER_MINUTE wrong tokens per client a minute, then 429 until the minute ends
  (even for the right token, so guessing cannot continue); a missing token is not a failure;
- sessions: the sign-in form starts a random session id kept in an HttpOnly, SameSite=Strict cookie
  (Secure when the request came over https, which behind a proxy needs trust_proxy and
  X-Forwarded-Proto); the database holds only HMACs keyed with the token (of the session id, of
  the client address), so changing the token ends every session, and signing out deletes the
  session on the server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from contextlib import contextmanager

from flask import current_app, request

from ..errors import FaqbotError
from . import limits
from .limits import WINDOW_SECONDS
from ..ops.storage import Database

FAILURES_PER_MINUTE = 5
SESSION_SECONDS = 12 * 3600
COOKIE = "faqbot_admin"
_COUNT_FAILURE = """
INSERT INTO admin_failures (client, minute, count) VALUES (?, ?, 1)
ON CONFLICT (client) DO UPDATE SET
    count = CASE WHEN admin_failures.minute = excluded.minute THEN admin_failures.count + 1 ELSE 1 END,
    minute = excluded.minute
"""


class AdminStoreDown(FaqbotError):
    """The database that holds sessions and failure counts cannot be reached (the app answers 503)."""


class AdminAuth:
    """The admin token check, the failure limit and the session store for one app.

    Fails closed: when its database cannot be reached, every admin request gets 503.
    """

    def __init__(self, target, token: str, now=None):
        self.token = token
        self.db = Database(target)
        self._now = now

    def _time(self) -> float:
        return (self._now or limits.clock)()

    @contextmanager
    def _store(self):
        try:
            yield self.db
        except self.db.errors:
            raise AdminStoreDown("The admin database (the question log) cannot be reached; try again later.") from None

    def _hmac(self, text: str) -> str:
        return hmac.new(self.token.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()

    def blocked(self, client: str) -> float | None:
        """Seconds until the client may try again after too many wrong tokens, or None."""
        now = self._time()
        window = int(now // WINDOW_SECONDS)
        with self._store() as db:
            rows = db.execute("SELECT count FROM admin_failures WHERE client = ? AND minute = ?",
                              (self._hmac(f"client:{client}"), window))
        if not rows or rows[0][0] < FAILURES_PER_MINUTE:
            return None
        return max(1.0, (window + 1) * WINDOW_SECONDS - now)

    def check_token(self, given: str, client: str) -> bool:
        """Compare in constant time; a wrong (or blank) token counts as one failure for the client."""
        ok = bool(given.strip()) and hmac.compare_digest(given.strip().encode("utf-8"), self.token.encode("utf-8"))
        if not ok:
            window = int(self._time() // WINDOW_SECONDS)
            with self._store() as db, db.transaction() as tx:
                tx.execute(_COUNT_FAILURE, (self._hmac(f"client:{client}"), window))
                tx.execute("DELETE FROM admin_failures WHERE minute < ?", (window - 1,))
        return ok

    def start_session(self) -> str:
        """A new session id for the cookie (expired sessions are deleted on the way)."""
        session, now = secrets.token_urlsafe(32), self._time()
        with self._store() as db, db.transaction() as tx:
            tx.execute("DELETE FROM admin_sessions WHERE expires <= ?", (now,))
            tx.execute("INSERT INTO admin_sessions (key, expires) VALUES (?, ?)",
                       (self._hmac(f"session:{session}"), now + SESSION_SECONDS))
        return session

    def session_valid(self, session: str) -> bool:
        """True while the session was started with this token, has not expired and was not ended."""
        with self._store() as db:
            rows = db.execute("SELECT expires FROM admin_sessions WHERE key = ?", (self._hmac(f"session:{session}"),))
        return bool(rows) and rows[0][0] > self._time()

    def end_session(self, session: str) -> None:
        """Sign out: the session id stops working everywhere at once."""
        with self._store() as db:
            db.execute("DELETE FROM admin_sessions WHERE key = ?", (self._hmac(f"session:{session}"),))


def install(app, settings) -> None:
    """Put the app's AdminAuth (or None: admin off) in app.extensions["faqbot.admin"]."""
    app.extensions["faqbot.admin"] = AdminAuth(settings.question_log_path, settings.admin_token) \
        if settings.admin_token else None


def bearer_token(header: str) -> str:
    """The token of an `Authorization: Bearer <token>` header; "" for a missing header or another scheme.

    The one reading of the header for the admin API (faqbot.serve.reindex) and the report page."""
    scheme, _, given = header.partition(" ")
    return given if scheme.lower() == "bearer" else ""


def current() -> AdminAuth | None:
    """The running app's AdminAuth, or None when the admin surface is off."""
    return current_app.extensions.get("faqbot.admin")


def same_origin() -> bool:
    """False for a request a browser sent from another site (Origin or Sec-Fetch-Site say so).

    Clients that send neither (curl, scripts) are not browsers carrying a victim's cookie.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.rstrip("/") == request.host_url.rstrip("/")
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")
