"""The index a running service answers from, swapped whole when a new version is published."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from ..errors import FaqbotError
from ..index.store import Index

log = logging.getLogger("faqbot")


class LiveIndex:
    """Holds the current Index; picks up a newly published manifest without a restart.

    Each request takes one Index object via current() and uses only it, so a swap never mixes
    two versions within a request. A version that fails to load is logged and the last good
    one keeps serving.
    """

    def __init__(self, index_dir: str | Path, check_interval: float = 0.5, on_load=None):
        self.dir = Path(index_dir)
        self.check_interval = check_interval
        self.on_load = on_load  # called with each newly loaded Index before it serves (warm-up)
        self._index: Index | None = None
        self._stamp: tuple | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.last_error: str | None = None

    def _manifest_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.dir / "manifest.json")
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> Index | None:
        """The index to serve this request from (None when there has never been a loadable one)."""
        now = time.monotonic()
        if self._index is not None and now - self._checked_at < self.check_interval:
            return self._index
        with self._lock:
            self._checked_at = now
            stamp = self._manifest_stamp()
            if stamp != self._stamp:
                self.reload(stamp)
            return self._index

    def reload(self, stamp: tuple | None = None) -> None:
        """Load the published version now (callers may also use it after publishing)."""
        stamp = stamp if stamp is not None else self._manifest_stamp()
        try:
            index = Index.load(self.dir)
        except FaqbotError as err:
            if self._index is None or str(err) != self.last_error:
                log.warning("faqbot: %s%s", err, " (still serving the previous index)" if self._index else "")
            self.last_error = str(err)
            if self._manifest_stamp() == stamp:  # else a newer version was published meanwhile: retry it
                self._stamp = stamp
            return
        if self.on_load is not None:
            try:
                self.on_load(index)
            except Exception as err:  # noqa: BLE001 - a failed warm-up must not stop the new version serving
                log.warning("faqbot: warming up index %s failed: %s", index.version, err)
        self._index, self._stamp, self.last_error = index, stamp, None
