"""Lowering one thread's CPU priority (Linux ``nice`` applies per thread)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def lower_thread_priority(niceness: int) -> Callable[[], None]:
    """A function that, called on a thread, adds ``niceness`` (capped at 19) to that thread's
    nice value. Linux only (elsewhere ``setpriority`` on a thread id is not per thread); a
    no-op for 0, and where the system refuses (logged)."""

    def lower() -> None:
        if niceness <= 0 or not sys.platform.startswith("linux"):
            return
        thread = threading.get_native_id()
        try:
            current = os.getpriority(os.PRIO_PROCESS, thread)
            os.setpriority(os.PRIO_PROCESS, thread, min(19, current + niceness))
        except OSError as exc:
            log.debug("could not lower thread %s's priority: %s", thread, exc)

    return lower
