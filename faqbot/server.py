"""Production serving: gunicorn workers around the Flask app (never Flask's development server)."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from .config import Settings


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
    """Each worker runs its requests on its own threads; a BLAS thread pool per worker on top of
    that oversubscribes the cores (measured: semantic /api/ask fell to 1 request/s under load)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def run_server(settings: Settings) -> None:
    """Serve the API on settings.host:port with settings.workers processes until SIGTERM/SIGINT.

    On SIGTERM gunicorn stops accepting connections and lets in-flight requests finish.
    """
    from .web import create_app

    app = create_app({"index_dir": settings.index_dir})
    print(f"faqbot serving {settings.index_dir} on http://{settings.host}:{settings.port} "
          f"({settings.workers} workers); Ctrl+C to stop", flush=True)
    _Gunicorn(app, {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": 4,
        "graceful_timeout": 20,
        "timeout": 30,
        "accesslog": None,
        "loglevel": "warning",
        "post_worker_init": _one_blas_thread,
    }).run()
