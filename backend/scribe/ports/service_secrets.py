from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class KeptSecret:
    """A secret as kept: its value, and after a rotation the value before it, still valid until
    ``previous_until``."""

    value: str
    created_at: datetime
    previous: str | None = None
    previous_until: datetime | None = None


class ServiceSecrets(Protocol):
    """Secrets the service makes for itself, kept where every process of it reads them (its
    database), so that all of them use the same one."""

    def get_or_create(self, name: str, make: Callable[[], str]) -> str:
        """The secret kept under ``name``; when there is none yet, ``make()``'s is kept first.
        Processes asking at once all get the one value kept (``make`` may run in several; only
        one result is kept)."""
        ...

    def kept(self, name: str) -> KeptSecret | None:
        """The secret kept under ``name`` with its previous value, if any; None if there is none."""
        ...

    def rotate(self, name: str, value: str, previous_until: datetime, now: datetime) -> KeptSecret:
        """Keep ``value`` under ``name``; the value it replaces becomes the previous one, valid
        until ``previous_until`` (one that was previous before is dropped). In one statement:
        two processes never see half a rotation. Without a secret yet, ``value`` is kept alone."""
        ...
