from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from scribe.domain.jobs import Job, JobStatus


class JobStore(Protocol):
    """Durable job records (the database of keys and usage: SQLite, or PostgreSQL)."""

    def add(self, job: Job) -> None:
        """Store a new job."""
        ...

    def get(self, job_id: str) -> Job | None:
        """The job, with its callback's state (``Job.callback``)."""
        ...

    def save(self, job: Job, *, expect: JobStatus | None = None) -> bool:
        """Replace the stored job with ``job``. With ``expect``, only if the stored one still
        has that status (compare-and-set: a cancel and a finishing worker cannot both win);
        False when it did not (or the job is gone). ``cancel_requested`` is sticky: a save never
        clears a cancel another process asked for while this one held an older copy.

        A save that ends a job (completed, failed, cancelled) with a ``callback_url`` also puts
        its callback in the outbox (``CallbackOutbox``), atomically with the job's new status,
        and once per job."""
        ...

    def page(
        self,
        owner: str | None,
        *,
        limit: int,
        after: str | None = None,
        statuses: Sequence[JobStatus] = (),
    ) -> tuple[list[Job], bool]:
        """Jobs newest first (``owner`` None: everyone's; ``statuses`` given: only those in
        one of them), starting after the job ``after``, with their callbacks' state; and
        whether more follow."""
        ...

    def count_by_status(self) -> dict[JobStatus, int]:
        """How many jobs the store holds in each status (statuses without jobs may be left
        out); read at every metrics scrape, so one cheap query."""
        ...

    def with_status(self, statuses: Sequence[JobStatus]) -> list[Job]:
        """Every job in one of these statuses, oldest first (recovery at startup)."""
        ...

    def finished_before(self, moment: datetime, limit: int = 100) -> list[Job]:
        """Finished jobs whose ``finished_at`` is before ``moment`` (retention)."""
        ...

    def delete(self, job_id: str) -> bool:
        """Delete the job and its callback (sent or not)."""
        ...
