"""CancelToken: how whoever waits for a piece of work tells it to stop.

The requester (a request whose client went away, a job's cancel call) calls ``cancel``; the work
checks the token at its safe points (``raise_if_cancelled``) and stops there with ``Cancelled``.
Thread-safe: the two sides usually run on different threads.
"""

from __future__ import annotations

import threading

from .errors import Cancelled


class CancelToken:
    """A one-way flag with a reason: once cancelled, always cancelled."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reason = "The work was cancelled."

    def cancel(self, reason: str | None = None) -> None:
        """Ask the work to stop (idempotent: the first reason is kept)."""
        if not self._event.is_set():
            if reason:
                self._reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def reason(self) -> str:
        return self._reason

    def raise_if_cancelled(self) -> None:
        """Raise ``Cancelled`` if someone has cancelled; the work calls this at its safe points."""
        if self._event.is_set():
            raise Cancelled(self._reason, code="cancelled")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` seconds pass; whether it was cancelled."""
        return self._event.wait(timeout)
