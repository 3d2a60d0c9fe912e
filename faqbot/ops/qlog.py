"""The question log: what readers asked, whether it was answered, and their feedback.

Stored through faqbot.ops.storage: a SQLite file by default, or one PostgreSQL database that every
replica shares (`question_log = "postgresql://..."`).

What is kept, per question: the time, the question's text with e-mail addresses and card-like
numbers (13 to 19 digits, spaces or dashes between) masked before it is stored, whether it was
answered, the passage shown with its score and confidence, and the reader's verdict if they gave
one. No IP address, cookie, user agent or other request data is stored. Rows older than the
retention period are deleted when the log is opened and again at least hourly while it is used.

The server buffers questions and feedback (start_buffering): each worker collects them in memory
and a background thread writes them in one transaction every second, instead of one transaction
per request (measured on SQLite: 0.09 ms of a request's CPU, plus waits for the write lock between
worker processes), so no answer waits for the database. While the database cannot be written (PostgreSQL
down or unreachable, a disk full) the rows stay in the buffer and are written when it comes back;
the buffer holds at most `max_buffer` rows per worker, and when it is full the OLDEST rows are
dropped to make room (counted and logged once a minute), so a long outage keeps the latest
questions. The buffer is written on a worker's normal exit; a worker killed outright loses what it
had not written. Feedback that arrives before its question was written is linked to it when that
question is written.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
import time
from pathlib import Path

from .storage import Database, describe

_INSERT_ASKED = "INSERT INTO asked (at, question, answered, passage_id, score, confidence) VALUES (?, ?, ?, ?, ?, ?)"
_ASKED_COLUMNS = ("at", "question", "answered", "passage_id", "score", "confidence")
_FEEDBACK_COLUMNS = ("at", "question", "passage_id", "helpful")
_LATEST_ASKED = "SELECT id FROM asked WHERE question = ? AND passage_id = ? ORDER BY id DESC LIMIT 1"
# Buffered questions from several processes are not written in time order: "latest before the feedback".
_LATEST_ASKED_BEFORE = ("SELECT id FROM asked WHERE question = ? AND passage_id = ? AND at <= ? "
                        "ORDER BY at DESC, id DESC LIMIT 1")


log = logging.getLogger("faqbot")
WARN_EVERY = 60.0  # seconds between repeated warnings about an unwritable log
PRUNE_EVERY = 3600.0  # seconds between deletions of rows past the retention period
# The lookbehinds make each pattern start only where a run starts: linear on any question.
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


_DIGIT = re.compile(r"\d")  # the same digits as _CARD's


def mask_personal(text: str) -> str:
    """The text with e-mail addresses and card-like numbers replaced by [email] and [number]."""
    # Most questions hold neither an "@" nor a digit: the patterns, tried at every position, then
    # cost 5-10 µs a question on the request path for nothing.
    if "@" in text:
        text = _EMAIL.sub("[email]", text)
    return _CARD.sub("[number]", text) if _DIGIT.search(text) else text


class QuestionLog:
    """Append-only log of questions and feedback in a SQLite file or a PostgreSQL database.

    Safe across threads and processes. `path` is the SQLite file or the postgresql:// URL.
    """

    def __init__(self, path: str | Path, retention_days: float = 90, now=time.time):
        self.db = Database(path)
        self.path = self.db.target
        self.retention_days = retention_days
        self._now = now
        self._pending: list[tuple] = []  # questions not yet written (buffered mode)
        self._pending_feedback: list[tuple] = []  # feedback not yet written (buffered mode)
        self._pending_lock = threading.Lock()
        self._interval: float | None = None  # seconds between buffer writes; None = write at once
        self._flusher_pid: int | None = None
        self.dropped = 0  # rows dropped from a full buffer, not yet reported
        self._failing_since: float | None = None
        self._warned_at = 0.0
        self._pruned_at = 0.0
        if self.db.dialect == "sqlite":
            self.prune()  # a broken SQLite file is an error now, as before
        else:
            try:
                self.prune()
            except self.db.errors as err:  # a replica starts while PostgreSQL is down: it buffers
                log.warning("faqbot: cannot reach the question log %s (%s); questions are kept in memory "
                            "until it is back", describe(self.path), _first_line(err))

    def start_buffering(self, interval: float = 1.0, max_pending: int = 1000, max_buffer: int = 10_000) -> None:
        """Collect questions in memory and write them every `interval` seconds (or at max_pending).

        While the log cannot be written the buffer keeps up to max_buffer rows; the oldest go first.
        Safe to call before gunicorn forks: each process starts its own writer thread on its first question.
        """
        self._interval, self._max_pending, self._max_buffer = interval, max_pending, max(max_buffer, max_pending)

    def _row(self, question: str, response: dict) -> tuple:
        best = response["answer"] or (response["results"][0] if response["results"] else None)
        return (self._now(), mask_personal(question), int(response["answer"] is not None),
                best and best["id"], best and best["score"], best and best["confidence"])

    def record_question(self, question: str, response: dict) -> int | None:
        """Log one answered (or unanswered) question; return its row id (None when buffered)."""
        if self._interval is None:
            self._prune_hourly()
            return int(self.db.execute(_INSERT_ASKED + " RETURNING id", self._row(question, response))[0][0])
        self._buffer("asked", self._row(question, response))
        return None

    def start_writer(self) -> None:
        """Start this process's writer thread now (a server worker at start-up), so rows past the
        retention period go hourly even while nobody asks anything. Buffered mode only; idempotent."""
        if self._interval is None:
            return
        with self._pending_lock:
            self._ensure_flusher()

    def _ensure_flusher(self) -> None:
        if self._flusher_pid != os.getpid():  # first use in this process (or a forked copy)
            self._pending, self._pending_feedback = [], []
            self._start_flusher()

    def _buffer(self, kind: str, row: tuple) -> None:
        with self._pending_lock:
            self._ensure_flusher()
            (self._pending if kind == "asked" else self._pending_feedback).append(row)
            waiting = len(self._pending) + len(self._pending_feedback)
            if waiting > self._max_buffer:  # unwritable for long: the oldest questions make room
                del (self._pending or self._pending_feedback)[0]
                self.dropped += 1
            # Write early when many wait, but not while the log is failing: then the writer retries
            # once an interval, never in a tight loop that would take the CPU from the answers.
            full = waiting >= self._max_pending and self._failing_since is None
        if full:
            self._wake.set()

    def _start_flusher(self) -> None:
        self._flusher_pid = os.getpid()
        self._wake = threading.Event()
        threading.Thread(target=self._flush_loop, name="faqbot-qlog", daemon=True).start()
        atexit.register(self.flush_quietly)

    def _flush_loop(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.flush_quietly()
            except Exception:  # noqa: BLE001 - the writer thread must outlive any one failure
                log.exception("faqbot: writing the question log failed")

    def flush_quietly(self) -> None:
        """Write the buffer; on failure keep it (within its bound) and warn, at most once a minute."""
        try:
            written = self.flush()
            self._prune_hourly()
        except self.db.errors as err:
            now = time.monotonic()
            if self._failing_since is None:
                self._failing_since = now
            if now - self._warned_at >= WARN_EVERY:
                self._warned_at = now
                with self._pending_lock:
                    waiting = len(self._pending) + len(self._pending_feedback)
                log.warning("faqbot: cannot write the question log %s (%s); %d rows kept in memory, "
                            "%d dropped so far (buffer full); retrying", describe(self.path), _first_line(err),
                            waiting, self.dropped)
            return
        if self._failing_since is not None and written:  # an empty buffer proves nothing about the log
            log.warning("faqbot: the question log %s is back after %.0f s: wrote %d buffered rows "
                        "(%d dropped while the buffer was full)", describe(self.path),
                        time.monotonic() - self._failing_since, written, self.dropped)
            self._failing_since, self.dropped = None, 0

    def flush(self) -> int:
        """Write the buffered questions and feedback now (one transaction); return how many rows were written."""
        with self._pending_lock:
            rows, self._pending = self._pending, []
            verdicts, self._pending_feedback = self._pending_feedback, []
        if not rows and not verdicts:
            return 0
        try:
            with self.db.transaction() as tx:
                if rows:
                    tx.insert_rows("asked", _ASKED_COLUMNS, rows)
                if verdicts:
                    tx.insert_rows("feedback", _FEEDBACK_COLUMNS, verdicts)
                # Feedback that arrived (in any process) before its question was written: link it now.
                since = min(r[0] for r in rows + verdicts) - 60
                orphans = tx.execute("SELECT id, question, passage_id, helpful, at FROM feedback "
                                     "WHERE asked_id IS NULL AND at >= ? ORDER BY at, id", (since,))
                for feedback_id, question, passage_id, helpful, at in orphans:
                    found = tx.execute(_LATEST_ASKED_BEFORE, (question, passage_id, at))
                    if found:
                        tx.execute("UPDATE feedback SET asked_id = ? WHERE id = ?", (found[0][0], feedback_id))
                        tx.execute("UPDATE asked SET helpful = ? WHERE id = ?", (helpful, found[0][0]))
        except BaseException:
            with self._pending_lock:  # keep them for the next try, within the buffer's bound
                self._pending[:0] = rows
                self._pending_feedback[:0] = verdicts
                excess = len(self._pending) + len(self._pending_feedback) - getattr(self, "_max_buffer", 10 ** 9)
                if excess > 0:
                    drop = min(excess, len(self._pending))
                    del self._pending[:drop]
                    del self._pending_feedback[:excess - drop]
                    self.dropped += excess
            raise
        return len(rows) + len(verdicts)

    def record_feedback(self, question: str, passage_id: str, helpful: bool) -> None:
        """Store a reader's verdict and attach it to the latest matching logged question."""
        question = mask_personal(question)
        if self._interval is not None:
            self._buffer("feedback", (self._now(), question, passage_id, int(helpful)))
            return
        self._prune_hourly()
        with self.db.transaction() as tx:
            row = tx.execute(_LATEST_ASKED, (question, passage_id))
            asked_id = row[0][0] if row else None
            tx.execute("INSERT INTO feedback (at, question, passage_id, helpful, asked_id) VALUES (?, ?, ?, ?, ?)",
                       (self._now(), question, passage_id, int(helpful), asked_id))
            if asked_id is not None:
                tx.execute("UPDATE asked SET helpful = ? WHERE id = ?", (int(helpful), asked_id))

    def _prune_hourly(self) -> None:
        if self._now() - self._pruned_at >= PRUNE_EVERY:
            self.prune()

    def prune(self) -> int:
        """Delete rows older than the retention period; return how many questions went."""
        self._pruned_at = self._now()
        cutoff = self._pruned_at - self.retention_days * 86400
        with self.db.transaction() as tx:
            removed = tx.rowcount("DELETE FROM asked WHERE at < ?", (cutoff,))
            tx.execute("DELETE FROM feedback WHERE at < ?", (cutoff,))
        return removed

    def rows(self, table: str = "asked") -> list[dict]:
        """All rows of a table as dicts (for reports and tests)."""
        if table not in ("asked", "feedback"):
            raise ValueError(table)
        self.flush()
        return self.db.query(f"SELECT * FROM {table} ORDER BY id")


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
