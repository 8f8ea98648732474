from __future__ import annotations

from typing import Protocol


class JobQueue(Protocol):
    """Job ids waiting for a worker, first in first out, bounded."""

    @property
    def capacity(self) -> int: ...

    def put(self, job_id: str, *, force: bool = False) -> None:
        """Add a job; raises ``QueueFull`` when the queue holds ``capacity`` jobs (unless
        ``force``: recovery after a restart re-queues whatever was waiting)."""
        ...

    def get(self, timeout: float) -> str | None:
        """The next job id, waiting up to ``timeout`` seconds; None if none came."""
        ...

    def size(self) -> int:
        """Jobs waiting now."""
        ...


class WaitingJobs(Protocol):
    """Which jobs a broker holds a message for that no worker has taken yet. Kept beside the
    broker's messages (a broker that loses its messages, say Redis restarted without AOF, loses
    these too), so a queued job with none waiting has lost its message."""

    def waiting(self, job_id: str) -> bool: ...
