"""GracefulShutdown: what a process does between SIGTERM and the SIGKILL that follows it.

``docker stop`` sends SIGTERM, waits (10 s by default), then SIGKILL. ``begin`` (called from the
signal handler) starts the drain in a background thread: the process takes no new job, running
jobs may finish until ``grace - margin`` seconds after the signal, and the job runner then hands
back what still runs (see ``JobRunner.drain``). The margin leaves time to answer the waiting
clients and exit before the grace ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .job_runner import JobRunner

log = logging.getLogger(__name__)

# Time kept, at the end of the grace, to answer the clients and exit (at most a quarter of it).
MARGIN_SECONDS = 2.0


class GracefulShutdown:
    """One process's graceful stop (idempotent: a second SIGTERM changes nothing)."""

    def __init__(
        self,
        runner: JobRunner,
        grace_seconds: float,
        *,
        keep_waiting_clients: bool = False,
        on_drained: Callable[[list[str]], None] | None = None,
        margin_seconds: float = MARGIN_SECONDS,
    ) -> None:
        self._runner = runner
        self.grace_seconds = max(0.0, grace_seconds)
        self._margin = min(margin_seconds, self.grace_seconds / 4)
        self._keep_waiting_clients = keep_waiting_clients
        self._on_drained = on_drained
        self._began: float | None = None
        self._lock = threading.Lock()
        self._drained = threading.Event()
        self.handed_back: list[str] = []

    @property
    def started(self) -> bool:
        return self._began is not None

    @property
    def drained(self) -> bool:
        return self._drained.is_set()

    def begin(self) -> bool:
        """Start the drain in a background thread; False if it had started already."""
        with self._lock:
            if self._began is not None:
                return False
            self._began = time.monotonic()
        log.info(
            "shutting down: no new jobs; running ones may finish within %.1f s",
            self.grace_seconds - self._margin,
        )
        threading.Thread(target=self._drain, name="shutdown", daemon=True).start()
        return True

    def _drain(self) -> None:
        try:
            assert self._began is not None
            deadline = self._began + self.grace_seconds - self._margin
            self.handed_back = self._runner.drain(
                deadline, keep_waiting_clients=self._keep_waiting_clients
            )
            if self._on_drained is not None:
                self._on_drained(self.handed_back)
        except Exception:
            log.exception("the graceful shutdown failed")
        finally:
            self._drained.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the drain has ended (or ``timeout``); whether it has."""
        return self._drained.wait(timeout)

    def seconds_left(self) -> float:
        """Seconds until the grace ends (the whole grace before ``begin``)."""
        if self._began is None:
            return self.grace_seconds
        return max(0.0, self._began + self.grace_seconds - time.monotonic())
