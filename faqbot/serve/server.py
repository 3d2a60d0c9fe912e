"""Production serving: gunicorn workers around the Flask app (never Flask's development server).

Worker model: gunicorn's sync workers, one request at a time per process. A question is pure CPU
work of about a millisecond, so a process gains nothing from threads: with gthread (4 threads per
worker) the threads only took turns on the GIL, which stretched every request in a busy worker
(p99 274 ms at 600 requests/s on 2 cores), and a worker that had accepted more keep-alive
connections than its sibling stayed busier. Sync workers answer in arrival order and share the
listening socket fairly (benchmarks/load.py). They close the connection after each response and a
slow client holds a whole worker, which is why they belong behind a reverse proxy (nginx buffers
slow clients and keeps its own connections alive): see docs/deploy.md.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from ..config import Settings

QUESTION_LOG_INTERVAL = 1.0  # seconds between a worker's question-log writes (see faqbot.ops.qlog)
# Rows a worker keeps while the log cannot be written (PostgreSQL down): ~200 bytes each; the oldest go first.
QUESTION_LOG_BUFFER = 10_000


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def _one_blas_thread(worker) -> None:
    """A BLAS thread pool per worker on top of N worker processes oversubscribes the cores
    (measured: semantic /api/ask fell to 1 request/s under load)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _start_worker(app):
    """gunicorn's post_worker_init hook: one BLAS thread, and the question log's writer running from
    the start (it also deletes rows past the retention period, hourly, on a server nobody asks)."""
    def post_worker_init(worker) -> None:
        _one_blas_thread(worker)
        log = app.extensions.get("faqbot.log")
        if log is not None:
            log.start_writer()
    return post_worker_init


def _write_question_log(app):
    """gunicorn's worker_exit hook: write the worker's buffered questions before it goes."""
    def worker_exit(server, worker) -> None:
        log = app.extensions.get("faqbot.log")
        if log is not None:
            log.flush_quietly()  # the database may be down: warn, never fail the worker's exit
    return worker_exit


def gunicorn_options(settings: Settings, app) -> dict:
    """The gunicorn settings `faqbot serve` runs with."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "sync",
        "backlog": 2048,
        "graceful_timeout": 20,
        "timeout": 30,
        "accesslog": None,
        "loglevel": "warning",
        "post_worker_init": _start_worker(app),
        "worker_exit": _write_question_log(app),
    }


def run_server(settings: Settings) -> None:
    """Serve the API on settings.host:port with settings.workers processes until SIGTERM/SIGINT.

    On SIGTERM gunicorn stops accepting connections and lets in-flight requests finish.
    """
    from .web import create_app

    app = create_app({"index_dir": settings.index_dir})
    log = app.extensions.get("faqbot.log")
    if log is not None:
        log.start_buffering(QUESTION_LOG_INTERVAL, max_buffer=QUESTION_LOG_BUFFER)  # each worker writes once a second
    print(f"faqbot serving {settings.index_dir} on http://{settings.host}:{settings.port} "
          f"({settings.workers} workers); Ctrl+C to stop", flush=True)
    _Gunicorn(app, gunicorn_options(settings, app)).run()
