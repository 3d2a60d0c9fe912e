"""The compiled query kernel: add up a query's postings and pick the k best passages, in machine code.

numba compiles these loops on first use and caches the machine code on disk (`cache=True`), so
only the very first process after an install pays the compile. Importing numba itself takes
about 0.4 s, which a one-shot `faqbot ask` should not pay to save a millisecond: long-running
processes (the server, `faqbot chat`, `faqbot eval`, benchmarks) call `load()` at start-up and
warm the kernel on their index; everything else uses search.py's numpy path, which gives the
same results.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

log = logging.getLogger(__name__)

_lock = threading.Lock()
_kernels = None  # the kernels module once loaded; False if numba is missing or failed


def load() -> bool:
    """Import numba and the kernels (compiled on first use, then cached on disk); False if unavailable."""
    global _kernels
    with _lock:
        if _kernels is None:
            try:
                _kernels = _compile()
            except Exception as err:  # noqa: BLE001 - any numba failure means "use the numpy path"
                log.warning("The compiled search kernel is unavailable (%s); searching with numpy.", err)
                _kernels = False
    return bool(_kernels)


def loaded():
    """The kernels module (faqbot.search._numba_kernels) if load() succeeded, else None (the numpy path is used)."""
    return _kernels or None


def _compile():
    from . import _numba_kernels

    return _numba_kernels


class Buffers(threading.local):
    """Per-thread scratch space sized to the index: scores, touched flags and the touched list (one
    entry longer: kernels.add_positive writes one past the docs it lists)."""

    def __init__(self):
        self.n = -1

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.n != n:
            self.acc, self.seen, self.touched = np.zeros(n), np.zeros(n, np.bool_), np.empty(n + 1, np.int32)
            self.n = n
        return self.acc, self.seen, self.touched
