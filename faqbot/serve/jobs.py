"""Re-index jobs shared by every replica: their status and the one-build-at-a-time lease, in the
question-log database (faqbot.ops.storage), and the job process itself (`python -m faqbot.serve.jobs`).

The lease is one row (reindex_lease): a job claims it with a conditional UPDATE that only succeeds
while no other job holds it or the holder's lease has expired, so of two replicas asked at once
exactly one starts a build, on SQLite and PostgreSQL alike. The job process renews the lease every
few seconds; if it dies (killed, machine lost), the lease expires after LEASE_SECONDS and the
status reads as failed ("interrupted"), and a new job may start.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import threading
import time

from ..ops.storage import Database

LEASE_SECONDS = 30.0
RENEW_EVERY = 5.0
KEEP_JOBS = 50  # statuses kept (the latest is what the API reports)
INTERRUPTED = "interrupted: the re-index process stopped before it finished"


def now_iso() -> str:
    """The current UTC time as the status shows it."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class JobStore:
    """Job statuses and the build lease in a SQLite file or a PostgreSQL database."""

    def __init__(self, target, now=time.time):
        self.db = Database(target)
        self._now = now

    def claim(self, job: str) -> bool:
        """Take the build lease for job; False when another live job holds it."""
        now = self._now()
        return self.db.rowcount("UPDATE reindex_lease SET job = ?, expires = ? "
                                "WHERE id = 1 AND (job IS NULL OR expires < ?)",
                                (job, now + LEASE_SECONDS, now)) == 1

    def renew(self, job: str) -> bool:
        """Extend job's lease; False when it no longer holds it."""
        return self.db.rowcount("UPDATE reindex_lease SET expires = ? WHERE id = 1 AND job = ?",
                                (self._now() + LEASE_SECONDS, job)) == 1

    def release(self, job: str) -> None:
        """Give the lease back (no-op when job does not hold it)."""
        self.db.execute("UPDATE reindex_lease SET job = NULL, expires = 0 WHERE id = 1 AND job = ?", (job,))

    def holder(self) -> str | None:
        """The job holding a live lease, if any."""
        rows = self.db.execute("SELECT job FROM reindex_lease WHERE id = 1 AND expires >= ?", (self._now(),))
        return rows[0][0] if rows else None

    def save(self, status: dict) -> None:
        """Write a job's status (insert or replace)."""
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO reindex_jobs (job, started, status) VALUES (?, ?, ?) "
                       "ON CONFLICT (job) DO UPDATE SET status = excluded.status",
                       (status["job"], self._now(), json.dumps(status)))

    def prune(self) -> None:
        """Keep the latest KEEP_JOBS statuses."""
        self.db.execute("DELETE FROM reindex_jobs WHERE job NOT IN "
                        "(SELECT job FROM reindex_jobs ORDER BY started DESC LIMIT ?)", (KEEP_JOBS,))

    def latest(self) -> dict | None:
        """The newest job's status; one marked running whose lease is gone reads as failed."""
        rows = self.db.execute("SELECT status FROM reindex_jobs ORDER BY started DESC LIMIT 1")
        if not rows:
            return None
        status = json.loads(rows[0][0])
        if status.get("state") == "running" and self.holder() != status["job"]:
            again = self.db.execute("SELECT status FROM reindex_jobs WHERE job = ?", (status["job"],))
            status = json.loads(again[0][0]) if again else status  # it may have finished just now
            if status.get("state") == "running":
                status.update(state="failed", errors=status.get("errors", []) + [INTERRUPTED])
        return status


def settings_json(settings) -> str:
    """Settings as JSON for the job process (sent on its stdin: the admin token stays out of `ps`)."""
    return json.dumps(dataclasses.asdict(settings))


def settings_from_json(text: str):
    """The Settings settings_json wrote."""
    from ..config import SETTINGS, Settings

    data = json.loads(text)
    kinds = {spec.name: spec.type for spec in SETTINGS}
    return Settings(**{k: tuple(v) if kinds.get(k) == "list" else v for k, v in data.items()})


def run_job(settings, status: dict, store: JobStore) -> dict:
    """Build the index for a job that holds the lease; keep its status current; release the lease."""
    from ..index.lock import IndexBusy
    from ..index.refresh import refresh, report_counts

    job = status["job"]
    stop = threading.Event()
    last_write = [0.0]

    def heartbeat() -> None:
        while not stop.wait(RENEW_EVERY):
            try:
                store.renew(job)
            except store.db.errors:  # the database is away for a moment: the next beat tries again
                pass

    def progress(stage):
        def update(done: int, total: int) -> None:
            status["progress"] = {"stage": stage, "done": done, "total": total}
            if time.monotonic() - last_write[0] > 1.0 or done == total:
                last_write[0] = time.monotonic()
                try:
                    store.save(status)
                except store.db.errors:
                    pass
        return update

    threading.Thread(target=heartbeat, name="faqbot-reindex-lease", daemon=True).start()
    try:
        report = refresh(settings, full=status["full"], progress=progress("reading"),
                         crawl_progress=progress("fetching"), embed_progress=progress("embedding"))
        crawl = report.crawl
        status.update(state="done", counts=report_counts(report), version=report.version,
                      errors=report.errors + ([f"{url}: {why}" for url, why in crawl.failed] if crawl else []))
    except IndexBusy:
        status.update(state="failed", errors=["A re-index of this index folder is already running (faqbot index)."])
    except Exception as err:  # noqa: BLE001 - any failure is reported by the status endpoint
        status.update(state="failed", errors=[str(err) or type(err).__name__])
    finally:
        stop.set()
        status["finished_at"] = now_iso()
        try:
            store.save(status)
        finally:
            store.release(job)
    return status


def main() -> int:
    """The job process: read {"settings", "status"} as JSON on stdin, build, exit 0 (done) or 1 (failed)."""
    import logging

    from ..config import SETTINGS  # noqa: F401 - fail early on a broken install

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    data = json.loads(sys.stdin.read())
    settings = settings_from_json(data["settings"])
    status = run_job(settings, data["status"], JobStore(settings.question_log_path))
    if status["state"] == "failed":
        logging.getLogger("faqbot").warning("faqbot: re-index %s failed: %s", status["job"], "; ".join(status["errors"]))
    return 0 if status["state"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
