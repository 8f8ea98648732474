from __future__ import annotations

from typing import Protocol


class JobLeases(Protocol):
    """Who runs a job right now, across processes (workers on several machines).

    A lease expires unless renewed: a worker that dies (``kill -9``, a lost machine) stops
    renewing, and its job may then be taken over by another worker.
    """

    def acquire(self, job_id: str, holder: str) -> bool:
        """Take the job's lease for ``holder``; False if another holder has it."""
        ...

    def renew(self, job_id: str, holder: str) -> bool:
        """Extend the lease; False if ``holder`` no longer has it."""
        ...

    def release(self, job_id: str, holder: str) -> None:
        """Give the lease up (only if ``holder`` still has it)."""
        ...

    def held(self, job_id: str) -> bool:
        """Whether someone holds the job's lease now."""
        ...
