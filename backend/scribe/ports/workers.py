from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class WorkerInfo:
    """A running worker process: its name, the engines (queues) it serves, its job slots."""

    name: str
    engines: tuple[str, ...]
    concurrency: int


class WorkerRegistry(Protocol):
    """Workers announce themselves now and then; an announcement expires with its worker."""

    def announce(self, worker: WorkerInfo) -> None: ...

    def withdraw(self, name: str) -> None: ...

    def workers(self) -> Sequence[WorkerInfo]:
        """The workers whose announcement has not expired."""
        ...
