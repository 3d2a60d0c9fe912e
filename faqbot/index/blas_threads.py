"""How many BLAS threads the embedding model uses: all cores for big inputs, one for a question on a busy machine."""

from __future__ import annotations

import contextlib
import os
from functools import lru_cache


@lru_cache(maxsize=1)
def _blas():
    """threadpoolctl's controller of the loaded BLAS libraries, found once (a search costs about 1 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


# Above this load average per core, a question is embedded on one BLAS thread (small_input_threads).
BUSY_LOAD_PER_CORE = 2.0


def one_blas_thread():
    """A context in which BLAS runs on the calling thread only (about 10 us to enter and leave)."""
    return _blas().limit(limits=1, user_api="blas")


def small_input_threads(cores: int):
    """The BLAS threads for a small input (a question): all of them on a machine with cores to spare,
    one when it is busy. Semantic ask() at 100k, p50, two threads against one, same process taking
    turns: 14.1 against 19.1 ms at load average 2.8 and 18.7 against 20.0 ms at 3 on 2 cores; 172.5
    against 37.0 ms at load 9, where waiting for the second thread to be scheduled dominates.
    `faqbot serve` workers run on one BLAS thread anyway (serve/server.py).
    """
    if os.getloadavg()[0] < BUSY_LOAD_PER_CORE * cores:
        return contextlib.nullcontext()
    return one_blas_thread()


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
