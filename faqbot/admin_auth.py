"""Who may use the admin surface: the token, a limit on wrong guesses, revocable sign-in sessions, Origin checks.

One AdminAuth per app (None while no admin_token is set), shared by the admin API (faqbot.reindex)
and the report page (faqbot.report_page). Its state lives in `admin.sqlite` beside the index, so
every gunicorn worker sees the same failures and sessions:

- failures: FAILURES_PER_MINUTE wrong tokens per client a minute, then 429 until the minute ends
  (even for the right token, so guessing cannot continue); a missing token is not a failure;
- sessions: the sign-in form starts a random session id kept in an HttpOnly, SameSite=Strict cookie
  (Secure when the request came over https, which behind a proxy needs trust_proxy and
  X-Forwarded-Proto); the file holds only an HMAC of the id keyed with the token, so changing the
  token ends every session, and signing out deletes the session on the server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path

from flask import current_app, request

from .limits import RateLimiter

FAILURES_PER_MINUTE = 5
SESSION_SECONDS = 12 * 3600
COOKIE = "faqbot_admin"
_SCHEMA = "CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, expires INTEGER NOT NULL)"


class AdminAuth:
    """The admin token check, the failure limit and the session store for one app."""

    def __init__(self, path: str | Path, token: str, now=time.time):
        self.token = token
        self._now = now
        self.failures = RateLimiter(path, FAILURES_PER_MINUTE, now=now)
        self.failures.connection().execute(_SCHEMA)

    def blocked(self, client: str) -> float | None:
        """Seconds until the client may try again after too many wrong tokens, or None."""
        return self.failures.retry_after(client)

    def check_token(self, given: str, client: str) -> bool:
        """Compare in constant time; a wrong (or blank) token counts as one failure for the client."""
        ok = bool(given.strip()) and hmac.compare_digest(given.strip().encode("utf-8"), self.token.encode("utf-8"))
        if not ok:
            self.failures.hit(client)
        return ok

    def _key(self, session: str) -> str:
        return hmac.new(self.token.encode("utf-8"), session.encode("utf-8"), hashlib.sha256).hexdigest()

    def start_session(self) -> str:
        """A new session id for the cookie (expired sessions are deleted on the way)."""
        session, now = secrets.token_urlsafe(32), int(self._now())
        db = self.failures.connection()
        db.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
        db.execute("INSERT INTO sessions (key, expires) VALUES (?, ?)", (self._key(session), now + SESSION_SECONDS))
        return session

    def session_valid(self, session: str) -> bool:
        """True while the session was started with this token, has not expired and was not ended."""
        row = self.failures.connection().execute(
            "SELECT expires FROM sessions WHERE key = ?", (self._key(session),)).fetchone()
        return row is not None and row[0] > self._now()

    def end_session(self, session: str) -> None:
        """Sign out: the session id stops working everywhere at once."""
        self.failures.connection().execute("DELETE FROM sessions WHERE key = ?", (self._key(session),))


def install(app, settings) -> None:
    """Put the app's AdminAuth (or None: admin off) in app.extensions["faqbot.admin"]."""
    auth = None
    if settings.admin_token:
        auth = AdminAuth(Path(settings.index_dir).resolve().parent / "admin.sqlite", settings.admin_token)
    app.extensions["faqbot.admin"] = auth


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
