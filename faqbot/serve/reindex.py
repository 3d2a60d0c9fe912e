"""Re-indexing the configured sources in the background: the job starter and its admin API (faqbot.index.refresh builds).

    POST /api/reindex          {"full": bool}? -> 202 {"job", "state": "running", ...}; 409 while one runs
    GET  /api/reindex/status   -> the last job: state (running / done / failed), counts, errors

Both need `Authorization: Bearer <admin_token>` (401 without it, 403 with a wrong one) and answer
404 when no admin_token is configured. The build runs in its own process (`python -m faqbot.serve.jobs`,
so restarting a gunicorn worker does not stop it); its status and the one-at-a-time lease live in
the question-log database (faqbot.serve.jobs), so every worker of every replica reports the same job and
two replicas never build at once. `faqbot index` in a terminal takes the index folder's flock
(`<index_dir>/reindex.lock`), which the job takes too. A worker that reports a finished job reloads
its index at once; the others notice the new manifest within LiveIndex.check_interval.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, g, jsonify, request

from . import admin_auth
from ..config import Settings
from ..errors import ApiError
from .limits import client_address
from ..index.lock import is_locked
from .jobs import JobStore, now_iso, settings_json

VERSION_HEADER = "X-Faqbot-Index-Version"
JOBS_DOWN = "The job database (the question log) cannot be reached; try again later."
log = logging.getLogger("faqbot")

admin = Blueprint("admin", __name__)


class ReindexJobs:
    """Starts re-indexes of the configured sources in their own process, one at a time across all
    replicas (faqbot.serve.jobs: a lease in the question-log database), and reports on them."""

    def __init__(self, settings: Settings, live=None):
        self.settings = settings
        self.live = live
        self.dir = Path(settings.index_dir)
        self.store = JobStore(settings.question_log_path)

    def start(self, full: bool = False) -> dict | None:
        """Start a job and return its status, or None when a re-index is already running anywhere."""
        if is_locked(self.dir):  # `faqbot index` in a terminal on this machine
            return None
        job = {"job": uuid.uuid4().hex[:12], "state": "running", "full": full, "started_at": now_iso(),
               "finished_at": None, "progress": None, "counts": None, "errors": [], "version": None}
        if not self.store.claim(job["job"]):
            return None
        try:
            self.store.save(job)
            self.store.prune()
            process = subprocess.Popen(
                [sys.executable, "-m", "faqbot.serve.jobs"], stdin=subprocess.PIPE, start_new_session=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_package_root(),
                                                                               os.environ.get("PYTHONPATH")]))})
        except BaseException:
            self.store.release(job["job"])
            raise
        process.stdin.write(json.dumps({"settings": settings_json(self.settings), "status": job}).encode())
        process.stdin.close()
        threading.Thread(target=self._reap, args=(process, job["job"]), name="faqbot-reindex-wait",
                         daemon=True).start()
        return dict(job)

    def _reap(self, process: subprocess.Popen, job: str) -> None:
        """Wait for the job process (no zombie); if it died without a word, say so and free the lease."""
        code = process.wait()
        try:
            status = self.store.latest()
            if status is not None and status["job"] == job and status["state"] == "running":
                status.update(state="failed", finished_at=now_iso(),
                              errors=[f"the re-index process exited with status {code}"])
                self.store.save(status)
            self.store.release(job)
        except self.store.db.errors as err:
            log.warning("faqbot: cannot record the end of re-index %s: %s", job, err)

    def status(self) -> dict | None:
        """The last job's status (None when no job has run); a job whose process died reads as failed."""
        job = self.store.latest()
        if job is not None and job.get("state") == "done" and self.live is not None:
            current = self.live.current()
            if current is None or current.version != job.get("version"):
                self.live.reload()  # serve the new version from this request on, not within check_interval
        return job


def _package_root() -> str:
    """The folder holding the faqbot package, so the job process imports this same faqbot."""
    return str(Path(__file__).resolve().parents[2])


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
        raise ApiError(f"Too many wrong admin tokens from your address. Try again in {seconds} seconds.", 429,
                       {"Retry-After": str(seconds)})
    given = admin_auth.bearer_token(request.headers.get("Authorization", ""))
    if not given.strip():
        raise ApiError("This needs an admin token: send 'Authorization: Bearer <token>'.", 401,
                       {"WWW-Authenticate": 'Bearer realm="faqbot admin"'})
    if not auth.check_token(given, client):
        raise ApiError("The admin token is not valid.", 403)
    return None


@admin.post("/api/reindex")
def api_reindex():
    """Start re-indexing the configured sources in the background: {"full": bool}? -> 202 with the job."""
    full = False
    if request.get_data(cache=True):
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("full", False), bool):
            raise ApiError("The body must be empty or a JSON object like {\"full\": true}.")
        full = data.get("full", False)
    try:
        job = _jobs().start(full)
    except _jobs().store.db.errors as err:
        log.warning("faqbot: cannot start a re-index: %s", err)
        raise ApiError(JOBS_DOWN, 503) from None
    if job is None:
        raise ApiError("A re-index is already running; see GET /api/reindex/status.", 409)
    return jsonify(job), 202, {"Location": "/api/reindex/status"}


@admin.get("/api/reindex/status")
def api_reindex_status():
    """The last re-index job: state (running / done / failed), counts and errors."""
    try:
        job = _jobs().status()
    except _jobs().store.db.errors as err:
        log.warning("faqbot: cannot read the re-index status: %s", err)
        raise ApiError(JOBS_DOWN, 503) from None
    return jsonify(job if job is not None else {"job": None, "state": "none"})


def _version_header(response):
    version = g.get("faqbot_index_version")
    if version:
        response.headers[VERSION_HEADER] = version
    return response


def install(app: Flask, settings: Settings) -> None:
    """Add the admin API and the index-version response header to the app."""
    app.extensions["faqbot.reindex"] = ReindexJobs(settings, app.extensions.get("faqbot.live"))
    app.register_blueprint(admin)
    app.after_request(_version_header)
