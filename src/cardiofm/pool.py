"""Process pools whose workers never outlive the process that started them.

``concurrent.futures`` workers that lose their parent to SIGKILL stay alive, blocked on their queue,
for as long as the machine runs. Every pool cardiofm starts comes from :func:`worker_pool`: each worker
watches its parent's pid and exits as soon as it changes, and leaving the ``with`` block on an error
or an interrupt terminates the workers instead of waiting for queued jobs.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

POLL_S = 0.2


def _watch_parent(parent: int) -> None:
    def loop() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_S)
        os._exit(1)  # the parent is gone: nobody will collect our results

    threading.Thread(target=loop, name="cardiofm-parent-watch", daemon=True).start()


def _init(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    _watch_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def _terminate(pool: ProcessPoolExecutor) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5)


@contextmanager
def worker_pool(workers: int, initializer: Callable[..., None] | None = None,
                initargs: tuple[Any, ...] = ()) -> Iterator[ProcessPoolExecutor]:
    """A ``ProcessPoolExecutor`` (fork where available) of ``workers`` processes tied to this process."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init,
                               initargs=(os.getpid(), initializer, initargs))
    try:
        yield pool
    except BaseException:
        _terminate(pool)
        raise
    else:
        pool.shutdown(wait=True)
