"""The reconciliation sweep's rule (which jobs lost their broker message) and the sweep itself,
with recording fakes: what it sends again, what it leaves alone, and the lock that keeps one API
node sweeping at a time."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scribe.domain.jobs import Job, JobUsage
from scribe.domain.options import Task
from scribe.use_cases.job_reconciler import JobReconciler, lost, sweep_interval
from scribe.use_cases.job_runner import JobRunner
from tests.fakes import FakeJobStore, fake_services
from tests.unit.test_job_worker import FakeLeases

T0 = datetime(2026, 5, 6, 7, 8, tzinfo=UTC)
AFTER = timedelta(seconds=60)


def job(name: str, age: float = 600) -> Job:
    return Job(
        f"job_{name}", None, Task.TRANSCRIBE, "whisper-base", {}, T0 - timedelta(seconds=age)
    )


class RecordingQueue:
    """The JobQueue and WaitingJobs ports: what was sent, and which messages wait."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bool]] = []
        self.waits: set[str] = set()

    @property
    def capacity(self) -> int:
        return 10

    def put(self, job_id: str, *, force: bool = False) -> None:
        self.sent.append((job_id, force))
        self.waits.add(job_id)

    def get(self, timeout: float) -> str | None:
        return None

    def size(self) -> int:
        return len(self.waits)

    def waiting(self, job_id: str) -> bool:
        return job_id in self.waits


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("queued, no message, old", True),
        ("queued, no message, just made", False),
        ("queued, message waiting", False),
        ("running, lease held", False),
        ("running, no lease, seen orphaned before", True),
        ("running, no lease, first seen", False),
        ("running, no lease, just started", False),
        ("running, no lease, message waiting", False),
        ("completed", False),
        ("cancelled", False),
    ],
)
def test_the_rule(case: str, expected: bool) -> None:
    queued = job("q")
    running = queued.start(T0 - timedelta(seconds=300))
    facts: dict[str, tuple[Job, bool, bool, bool]] = {
        # job, waiting, leased, orphaned before
        "queued, no message, old": (queued, False, False, False),
        "queued, no message, just made": (job("new", age=5), False, False, False),
        "queued, message waiting": (queued, True, False, False),
        "running, lease held": (running, False, True, True),
        "running, no lease, seen orphaned before": (running, False, False, True),
        "running, no lease, first seen": (running, False, False, False),
        "running, no lease, just started": (queued.start(T0), False, False, True),
        "running, no lease, message waiting": (running, True, False, True),
        "completed": (running.complete(T0, JobUsage(1, 1)), False, False, True),
        "cancelled": (queued.cancel(T0), False, False, True),
    }
    subject, waiting, leased, before = facts[case]
    assert (
        lost(subject, T0, AFTER, waiting=waiting, leased=leased, orphaned_before=before) is expected
    )


def sweeper(
    store: FakeJobStore, queue: RecordingQueue, leases: FakeLeases, lock: FakeLeases | None = None
) -> JobReconciler:
    return JobReconciler(
        store, queue, queue, leases, requeue_after=60, lock=lock, holder="api-1", clock=lambda: T0
    )


def test_a_sweep_sends_again_only_the_jobs_that_lost_their_message() -> None:
    store, queue, leases = FakeJobStore(), RecordingQueue(), FakeLeases()
    lost_job, fresh, waiting = job("lost"), job("fresh", age=10), job("waiting")
    running, orphan = job("running").start(T0), job("orphan").start(T0 - AFTER * 2)
    done = job("done").start(T0).complete(T0, JobUsage(1, 1))
    for each in (lost_job, fresh, waiting, running, orphan, done):
        store.add(each)
    queue.waits.add(waiting.id)
    leases.acquire(running.id, "worker-1")
    reconciler = sweeper(store, queue, leases)

    assert reconciler.sweep() == 1
    assert queue.sent == [(lost_job.id, True)]  # forced: a full queue must not refuse it
    # The orphan is sent on the second sweep that finds it without a lease (a lease is gone for
    # a moment when Redis restarts, until its worker takes it again).
    assert reconciler.sweep() == 1
    assert queue.sent[-1] == (orphan.id, True)
    # Both now have a message waiting: nothing more is sent, however often it sweeps.
    assert reconciler.sweep() == 0 and len(queue.sent) == 2


def test_an_orphan_whose_worker_took_its_lease_back_is_left_alone() -> None:
    store, queue, leases = FakeJobStore(), RecordingQueue(), FakeLeases()
    orphan = job("orphan").start(T0 - AFTER * 2)
    store.add(orphan)
    reconciler = sweeper(store, queue, leases)
    assert reconciler.sweep() == 0
    leases.acquire(orphan.id, "worker-1")  # Redis came back; the worker retook its lease
    assert reconciler.sweep() == 0
    leases.release(orphan.id, "worker-1")
    assert reconciler.sweep() == 0  # orphaned again, but not on the sweep before
    assert reconciler.sweep() == 1


def test_a_job_shut_down_back_into_the_store_is_sent_again() -> None:
    # A worker stopping for a shutdown puts its job back to queued after its message was taken:
    # it was made long ago, and no message waits for it.
    store, queue, leases = FakeJobStore(), RecordingQueue(), FakeLeases()
    back = replace(job("back", age=3600).start(T0 - AFTER).requeue(), attempts=1)
    store.add(back)
    assert sweeper(store, queue, leases).sweep() == 1 and queue.sent == [(back.id, True)]


def test_one_node_sweeps_at_a_time() -> None:
    store, queue, leases, lock = FakeJobStore(), RecordingQueue(), FakeLeases(), FakeLeases()
    store.add(job("lost"))
    first = sweeper(store, queue, leases, lock)
    second = JobReconciler(
        store, queue, queue, leases, requeue_after=60, lock=lock, holder="api-2", clock=lambda: T0
    )
    assert second.sweep() == 1  # it took the lock
    queue.waits.clear()  # (the message was lost again)
    assert first.sweep() == 0 and len(queue.sent) == 1  # the lock has not lapsed
    lock.holders.clear()  # it lapses
    assert first.sweep() == 1


def test_the_sweep_interval_is_half_the_requeue_time() -> None:
    assert sweep_interval(60) == 30 and sweep_interval(0.5) == 1.0


def test_an_api_nodes_runner_sweeps_now_and_then() -> None:
    # The runner of an API node (consume=False: workers run the jobs) calls the sweep from its
    # monitor; a sweep that fails is tried again.
    calls: list[int] = []
    swept = threading.Event()

    def sweep() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Redis is down")
        swept.set()
        return 0

    services: Any = fake_services()
    runner = JobRunner(
        services.storage.jobs,
        services.runner.queue,
        services.storage.blobs,
        services.runner.events,
        services.options,
        services.transcribe,
        consume=False,
        reconcile=sweep,
        reconcile_seconds=0.1,
    )
    runner.start()
    try:
        assert swept.wait(30), "the runner never swept again"
    finally:
        runner.stop()
    assert len(calls) >= 2
