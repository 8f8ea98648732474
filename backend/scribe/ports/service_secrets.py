from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class ServiceSecrets(Protocol):
    """Secrets the service makes for itself, kept where every process of it reads them (its
    database), so that all of them use the same one."""

    def get_or_create(self, name: str, make: Callable[[], str]) -> str:
        """The secret kept under ``name``; when there is none yet, ``make()``'s is kept first.
        Processes asking at once all get the one value kept (``make`` may run in several; only
        one result is kept)."""
        ...
