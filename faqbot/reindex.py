"""Re-indexing the configured sources: the shared entry point, the background job and its admin API.

    POST /api/reindex          {"full": bool}? -> 202 {"job", "state": "running", ...}; 409 while one runs
    GET  /api/reindex/status   -> the last job: state (running / done / failed), counts, errors

Both need `Authorization: Bearer <admin_token>` (401 without it, 403 with a wrong one) and answer
404 when no admin_token is configured. The job's state lives in `<index_dir>/reindex-status.json`
and the one-at-a-time rule is an flock on `<index_dir>/reindex.lock`, so every gunicorn worker
(and `faqbot index` in a terminal) sees the same job. The worker that ran the job reloads its
index at once; the others notice the new manifest within LiveIndex.check_interval.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import threading
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, g, jsonify, request

from . import admin_auth
from .config import Settings
from .limits import client_address
from .incremental import BuildLock, RefreshReport, crawl_settings, index_sources, is_locked

STATUS_FILE = "reindex-status.json"
VERSION_HEADER = "X-Faqbot-Index-Version"
_UNSET = object()
log = logging.getLogger("faqbot")

admin = Blueprint("admin", __name__)


def refresh(
    settings: Settings, paths=(), sitemaps=(), url_lists=(), full: bool = False, *, progress=None,
    crawl_progress=None, embed_progress=None, embedder=_UNSET, lock: bool = True,
) -> RefreshReport:
    """Index what is named (paths, sitemaps, URL lists), or else every configured source.

    lock=True takes the index directory's re-index lock (IndexBusy when another run holds it).
    """
    if not (paths or sitemaps or url_lists):
        paths, sitemaps, url_lists = settings.sources, settings.sitemaps, settings.url_lists
    embedder = settings.embedder() if embedder is _UNSET else embedder
    with BuildLock(settings.index_dir) if lock else nullcontext():
        return index_sources(
            list(paths), settings.index_dir, settings.base_url, sitemaps=list(sitemaps), url_lists=list(url_lists),
            crawl=crawl_settings(settings), full=full, progress=progress, crawl_progress=crawl_progress,
            embedder=embedder, embed_progress=embed_progress, url_style=settings.url_style,
        )


def summary_lines(report: RefreshReport) -> list[str]:
    """The lines `faqbot index` prints after its counts: reuse, pages fetched, failures."""
    s = "" if report.read == 1 else "s"
    lines = [f"Read {report.read} new or changed source{s}, reused {report.reused} unchanged, removed {report.removed}."]
    crawl = report.crawl
    if crawl is not None:
        lines.append(f"Pages: {crawl.fetched} fetched, {crawl.unchanged} unchanged, {len(crawl.failed)} failed, "
                     f"{len(crawl.gone)} gone, {len(crawl.skipped)} not allowed.")
        for title, rows in (("Failed (previous passages kept)", crawl.failed), ("Gone", crawl.gone),
                            ("Not allowed", crawl.skipped)):
            if rows:
                lines.append(f"{title}:")
                lines += [f"  {url}: {reason}" for url, reason in rows]
    lines += [f"Warning: {error}" for error in report.errors]
    return lines


def report_counts(report: RefreshReport) -> dict:
    """A run's counts as JSON for the status endpoint."""
    crawl = report.crawl
    return {
        "articles": report.articles, "faq_pairs": report.faq_pairs, "paragraphs": report.paragraphs,
        "read": report.read, "reused": report.reused, "removed": report.removed, "skipped": len(report.skipped),
        "fetched": crawl.fetched if crawl else 0, "unchanged": crawl.unchanged if crawl else 0,
        "failed": len(crawl.failed) if crawl else 0,
    }


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class ReindexJobs:
    """Starts background re-indexes of the configured sources, one at a time, and reports on them."""

    def __init__(self, settings: Settings, live=None, embedder=None):
        self.settings = settings
        self.live = live
        self.embedder = embedder
        self.dir = Path(settings.index_dir)
        self.status_path = self.dir / STATUS_FILE
        self.thread: threading.Thread | None = None

    def start(self, full: bool = False) -> dict | None:
        """Start a job and return its status, or None when a re-index is already running."""
        lock = BuildLock(self.dir)
        if not lock.acquire():
            return None
        job = {"job": uuid.uuid4().hex[:12], "state": "running", "full": full, "started_at": _now(),
               "finished_at": None, "progress": None, "counts": None, "errors": [], "version": None}
        try:
            self._write(job)
            self.thread = threading.Thread(target=self._run, args=(job, lock), name="faqbot-reindex", daemon=True)
            self.thread.start()
        except BaseException:
            lock.release()
            raise
        return dict(job)

    def _run(self, job: dict, lock: BuildLock) -> None:
        last_write = [0.0]

        def progress(stage):
            def update(done: int, total: int) -> None:
                job["progress"] = {"stage": stage, "done": done, "total": total}
                if time.monotonic() - last_write[0] > 1.0 or done == total:
                    last_write[0] = time.monotonic()
                    self._write(job)
            return update

        try:
            report = refresh(self.settings, full=job["full"], embedder=self.embedder, lock=False,
                             progress=progress("reading"), crawl_progress=progress("fetching"),
                             embed_progress=progress("embedding"))
            job.update(state="done", counts=report_counts(report), version=report.version)
            crawl = report.crawl
            job["errors"] = report.errors + ([f"{url}: {why}" for url, why in crawl.failed] if crawl else [])
            if self.live is not None:
                self.live.reload()  # this worker serves the new version from its next request
        except Exception as err:  # noqa: BLE001 - any failure is reported by the status endpoint
            log.warning("faqbot: re-index failed: %s", err)
            job.update(state="failed", errors=[str(err) or type(err).__name__])
        finally:
            job["finished_at"] = _now()
            try:
                self._write(job)
            finally:
                lock.release()

    def status(self) -> dict | None:
        """The last job's status (None when no job has run); a job whose process died reads as failed."""
        job = self._read()
        if job is not None and job.get("state") == "running" and not is_locked(self.dir):
            job = self._read()  # it may have finished just now
            if job is not None and job.get("state") == "running":
                job.update(state="failed", errors=job.get("errors", []) + ["interrupted: the server stopped during the re-index"])
        return job

    def _read(self) -> dict | None:
        try:
            return json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _write(self, job: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.status_path.with_name(f".{STATUS_FILE}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps(job), encoding="utf-8")
        os.replace(tmp, self.status_path)


def _jobs() -> ReindexJobs:
    return current_app.extensions["faqbot.reindex"]


@admin.before_request
def _authorize():
    """404 when the admin API is off, 401 without a bearer token, 403 with a wrong one, 429 after too many."""
    auth = admin_auth.current()
    if auth is None:
        abort(404)
    client = client_address()
    wait = auth.blocked(client)
    if wait is not None:
        seconds = math.ceil(wait)
        return (jsonify({"error": f"Too many wrong admin tokens from your address. Try again in {seconds} seconds."}),
                429, {"Retry-After": str(seconds)})
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return (jsonify({"error": "This needs an admin token: send 'Authorization: Bearer <token>'."}), 401,
                {"WWW-Authenticate": 'Bearer realm="faqbot admin"'})
    if not auth.check_token(given, client):
        return jsonify({"error": "The admin token is not valid."}), 403
    return None


@admin.post("/api/reindex")
def api_reindex():
    """Start re-indexing the configured sources in the background: {"full": bool}? -> 202 with the job."""
    full = False
    if request.get_data(cache=True):
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("full", False), bool):
            return jsonify({"error": "The body must be empty or a JSON object like {\"full\": true}."}), 400
        full = data.get("full", False)
    job = _jobs().start(full)
    if job is None:
        return jsonify({"error": "A re-index is already running; see GET /api/reindex/status."}), 409
    return jsonify(job), 202, {"Location": "/api/reindex/status"}


@admin.get("/api/reindex/status")
def api_reindex_status():
    """The last re-index job: state (running / done / failed), counts and errors."""
    job = _jobs().status()
    return jsonify(job if job is not None else {"job": None, "state": "none"})


def _version_header(response):
    version = g.get("faqbot_index_version")
    if version:
        response.headers[VERSION_HEADER] = version
    return response


def install(app: Flask, settings: Settings) -> None:
    """Add the admin API and the index-version response header to the app."""
    answer_settings = app.extensions.get("faqbot.answer_settings")
    app.extensions["faqbot.reindex"] = ReindexJobs(settings, app.extensions.get("faqbot.live"),
                                                   getattr(answer_settings, "embedder", None))
    app.register_blueprint(admin)
    app.after_request(_version_header)
