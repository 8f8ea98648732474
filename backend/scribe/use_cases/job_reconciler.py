"""JobReconciler: no job is lost in the scaled shape.

A job is saved, then its message is sent to the broker. A message can be lost: the API node
crashed between the two, Redis restarted without AOF, a worker stopped for a shutdown put the job
back in the store after its message was acknowledged. The job would then stay ``queued``
forever. API nodes sweep now and then (one at a time cluster-wide, under a Redis lock): a job
that has waited longer than ``requeue_after`` and has no message in the broker is sent again; so
is a job left ``in_progress`` whose lease has lapsed (its worker is gone) on two sweeps in a row.

Sending again is safe: a worker takes a job's lease before running it, runs only a job that is
still ``queued`` (or, holding its lease, one whose worker died), and drops a job that has ended;
so a job sent twice runs once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from scribe.domain.jobs import Job, JobStatus
from scribe.ports.job_leases import JobLeases
from scribe.ports.job_queue import JobQueue, WaitingJobs
from scribe.ports.job_store import JobStore

from .jobs import utc_now

log = logging.getLogger(__name__)

SWEEP_LOCK = "job-reconcile"


def lost(
    job: Job,
    now: datetime,
    requeue_after: timedelta,
    *,
    waiting: bool,
    leased: bool,
    orphaned_before: bool = True,
) -> bool:
    """Whether ``job`` needs its message sent again.

    A queued job: it has waited ``requeue_after`` (since it was made) and no message for it
    waits in the broker. A job in progress: started ``requeue_after`` ago, nobody holds its
    lease, no message waits, and it was seen so on the sweep before (``orphaned_before``: a
    lease vanishes for a moment when Redis restarts, until its worker takes it again)."""
    if waiting:
        return False
    if job.status is JobStatus.QUEUED:
        return now - job.created_at >= requeue_after
    if job.status is JobStatus.IN_PROGRESS:
        started = job.started_at or job.created_at
        return now - started >= requeue_after and not leased and orphaned_before
    return False


def sweep_interval(requeue_after: float) -> float:
    """How often API nodes try to sweep (a lost job is sent again within about twice
    ``requeue_after``)."""
    return max(1.0, requeue_after / 2)


class JobReconciler:
    """Sends again the jobs whose message the broker lost (see the module's docstring)."""

    def __init__(
        self,
        store: JobStore,
        queue: JobQueue,
        waiting: WaitingJobs,
        leases: JobLeases,
        *,
        requeue_after: float,
        lock: JobLeases | None = None,
        holder: str = "api",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._queue = queue
        self._waiting = waiting
        self._leases = leases
        self._after = timedelta(seconds=requeue_after)
        self._lock = lock
        self._holder = holder
        self._clock = clock
        self._orphans: set[str] = set()  # in progress without a lease at the last sweep

    def sweep(self) -> int:
        """Send the lost jobs again; how many. Nothing when another node swept lately (the
        lock lapses after ``interval``, and is not released: sweeps stay that far apart)."""
        if self._lock is not None and not self._lock.acquire(SWEEP_LOCK, self._holder):
            return 0
        now = self._clock()
        orphans: set[str] = set()
        count = 0
        for job in self._store.with_status([JobStatus.QUEUED, JobStatus.IN_PROGRESS]):
            waiting = self._waiting.waiting(job.id)
            leased = job.status is JobStatus.IN_PROGRESS and self._leases.held(job.id)
            if job.status is JobStatus.IN_PROGRESS and not leased and not waiting:
                orphans.add(job.id)
            if not lost(
                job,
                now,
                self._after,
                waiting=waiting,
                leased=leased,
                orphaned_before=job.id in self._orphans,
            ):
                continue
            log.warning(
                "job %s (%s): no message for it in the broker; sending it again",
                job.id,
                job.status.value,
            )
            self._queue.put(job.id, force=True)
            orphans.discard(job.id)
            count += 1
        self._orphans = orphans
        return count
