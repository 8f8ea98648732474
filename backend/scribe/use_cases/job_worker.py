"""JobWorker: runs the jobs a broker delivers (``scribe worker``), each through ``JobRunner.run``,
the same use case the in-process runner calls.

A broker may deliver a job twice (a worker died before acknowledging it; the visibility timeout
ran out). Each run takes the job's lease first, renewed while it runs: a second delivery of a job
that someone runs is dropped, one whose worker died (its lease expired) runs again, and a job
that has ended is never run again, so one result is stored. ``rescue`` re-sends jobs whose
worker died, so they need not wait for the broker's visibility timeout.

On SIGTERM (``shutdown``), running jobs may finish within the grace; those still running then
are handed back (queued again, the attempt not counted), their leases released and their
messages sent again, so another worker takes them at once; ``on_handed_back`` then ends the
process (its engine threads are not waited for).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from scribe.domain.jobs import JobStatus
from scribe.ports.job_leases import JobLeases
from scribe.ports.job_queue import JobQueue
from scribe.ports.job_store import JobStore
from scribe.ports.workers import WorkerInfo, WorkerRegistry

from .job_runner import JobRunner
from .jobs import utc_now
from .shutdown import GracefulShutdown

log = logging.getLogger(__name__)


def worker_name(engines: Sequence[str]) -> str:
    """``scribe-whisper@host:pid``: unique per process, readable in logs and health."""
    return f"scribe-{'+'.join(engines)}@{socket.gethostname()}:{os.getpid()}"


class JobWorker:
    """One worker process: its name, engines and slots; runs delivered jobs at most once at a
    time each."""

    def __init__(
        self,
        store: JobStore,
        runner: JobRunner,
        leases: JobLeases,
        queue: JobQueue,
        registry: WorkerRegistry,
        info: WorkerInfo,
        *,
        lease_seconds: float,
        shutdown_grace_seconds: float = 8.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._runner = runner
        self._leases = leases
        self._queue = queue
        self._registry = registry
        self.info = info
        self._lease_seconds = lease_seconds
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._holders: dict[str, str] = {}  # running job -> the lease holder running it
        self.shutdown = GracefulShutdown(
            runner,
            shutdown_grace_seconds,
            keep_waiting_clients=True,  # their clients wait on an API node: run them elsewhere
            on_drained=self._drained,
        )
        # Called after jobs were handed back at the end of the grace (the CLI exits there).
        self.on_handed_back: Callable[[], None] | None = None

    def execute(self, job_id: str) -> str:
        """Run the job if it still needs running; what happened, in a word or two."""
        job = self._store.get(job_id)
        if job is None or job.status.terminal:
            return "already ended" if job is not None else "deleted"
        if self.shutdown.started:
            self._queue.put(job_id, force=True)  # delivered while stopping: to another worker
            return "sent again (this worker is stopping)"
        holder = f"{self.info.name}/{threading.get_ident()}"
        if not self._leases.acquire(job_id, holder):
            return "running elsewhere"
        self._holders[job_id] = holder
        done = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(job_id, holder, done), daemon=True)
        keeper.start()
        try:
            final = self._runner.run(job_id, resume_interrupted=True)
            return "not run (it changed meanwhile)" if final is None else final.status.value
        finally:
            done.set()
            keeper.join()
            self._holders.pop(job_id, None)
            self._leases.release(job_id, holder)

    def _keep_lease(self, job_id: str, holder: str, done: threading.Event) -> None:
        while not done.wait(self._lease_seconds / 3):
            try:
                if not self._leases.renew(job_id, holder):
                    log.warning("job %s: its lease was lost (Redis restarted?); retaking", job_id)
                    self._leases.acquire(job_id, holder)
            except Exception:
                log.exception("job %s: renewing its lease failed (trying again)", job_id)

    def rescue(self) -> int:
        """Send again the jobs left in progress by a dead worker (no lease for longer than a
        lease lasts); how many."""
        count = 0
        cutoff = self._clock() - timedelta(seconds=2 * self._lease_seconds)
        for job in self._store.with_status([JobStatus.IN_PROGRESS]):
            if job.started_at is not None and job.started_at > cutoff:
                continue  # just started: its lease may not be visible yet
            if self._leases.held(job.id):
                continue
            log.info("job %s: its worker is gone; sending it again", job.id)
            self._queue.put(job.id, force=True)
            count += 1
        return count

    def hand_back(self, job_ids: Sequence[str]) -> None:
        """Release the leases of jobs the runner handed back and send them again."""
        for job_id in job_ids:
            holder = self._holders.get(job_id)
            try:
                if holder is not None:
                    self._leases.release(job_id, holder)
                self._queue.put(job_id, force=True)
                log.info("job %s: handed back; sent again for another worker", job_id)
            except Exception:
                log.exception("job %s: could not send it again (the rescue will)", job_id)

    def _drained(self, handed: list[str]) -> None:
        self.hand_back(handed)
        if handed and self.on_handed_back is not None:
            self.on_handed_back()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Announce this worker, start the runner's monitor (cancellations, retention) and the
        rescue of orphaned jobs."""
        self._runner.start()
        self._stop.clear()
        self._registry.announce(self.info)
        self._thread = threading.Thread(target=self._beat, name="worker-heartbeat", daemon=True)
        self._thread.start()
        log.info(
            "worker %s serves %s with %d slot(s)",
            self.info.name,
            ", ".join(self.info.engines),
            self.info.concurrency,
        )

    def _beat(self) -> None:
        last_rescue = time.monotonic()
        while not self._stop.wait(self._lease_seconds / 3):
            try:
                self._registry.announce(self.info)
                if time.monotonic() - last_rescue >= self._lease_seconds:
                    last_rescue = time.monotonic()
                    self.rescue()
            except Exception:
                log.exception("worker heartbeat failed (trying again)")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._runner.stop()
        try:
            self._registry.withdraw(self.info.name)
        except Exception:
            log.warning("could not withdraw worker %s from the registry", self.info.name)
