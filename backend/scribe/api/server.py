"""Running the app under uvicorn with a graceful shutdown (``scribe serve``).

On SIGTERM (``docker stop``) or SIGINT, uvicorn stops accepting connections and waits for the
open ones; ``GracefulServer`` also starts the services' ``GracefulShutdown``, which answers the
clients still waiting before the grace ends (a 503, or an error event on a stream), so that
uvicorn's wait ends in time. ``exit_promptly`` then ends the process even if an engine thread is
still inside a batch.
"""

from __future__ import annotations

import concurrent.futures.thread
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger(__name__)


class GracefulServer(uvicorn.Server):
    """uvicorn's server, calling ``on_signal`` (once per signal) when asked to stop."""

    def __init__(self, config: uvicorn.Config, on_signal: Callable[[], Any]) -> None:
        super().__init__(config)
        self._on_signal = on_signal

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        try:
            self._on_signal()
        except Exception:  # the stop itself must still happen
            log.exception("starting the graceful shutdown failed")
        super().handle_exit(sig, frame)


def serve(server: uvicorn.Server) -> None:
    """Run ``server`` until it is stopped. uvicorn raises a caught SIGTERM again once it has
    stopped (so that the process ends by it, with status 143): a SIGTERM it has handled ends
    the process normally instead (status 0), as a graceful stop should."""
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _handled)
    try:
        server.run()
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


def _handled(sig: int, frame: FrameType | None) -> None:
    """SIGTERM after uvicorn's graceful stop, or before it started: nothing more to do."""


def exit_promptly(code: int) -> None:
    """Exit now with ``code`` if a thread that is not a daemon (a diarization still running
    in its pool, say) would keep the interpreter alive past the grace; otherwise return and
    let the interpreter end normally."""
    # concurrent.futures joins its pools' threads at exit even when they are daemons (a pool
    # made in a daemon job thread, such as the diarizer's): those would block the exit too.
    pooled = set(getattr(concurrent.futures.thread, "_threads_queues", {}))
    blocking = [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread() and (not t.daemon or t in pooled) and t.is_alive()
    ]
    if not blocking:
        return
    log.info(
        "exiting without waiting for %s (their work was handed back)",
        ", ".join(t.name for t in blocking),
    )
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
