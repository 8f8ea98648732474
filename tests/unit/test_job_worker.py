"""JobWorker (what a `scribe worker` does with each delivered job) through the real composition
root with recording fakes: one run per job whatever the broker delivers twice, a dead worker's
job resumed by the next delivery, rescue of orphaned jobs."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from scribe.domain.jobs import JobStatus
from scribe.ports.workers import WorkerInfo
from scribe.use_cases.job_worker import JobWorker
from scribe.use_cases.jobs import result_key, utc_now
from scribe.use_cases.options import TranscriptionRequest
from tests.fakes import FakeBlobStore, FakeJobStore, fake_services, wav_bytes


class FakeLeases:
    def __init__(self) -> None:
        self.holders: dict[str, str] = {}
        self.taken: list[str] = []

    def acquire(self, job_id: str, holder: str) -> bool:
        if job_id in self.holders:
            return False
        self.holders[job_id] = holder
        self.taken.append(job_id)
        return True

    def renew(self, job_id: str, holder: str) -> bool:
        return self.holders.get(job_id) == holder

    def release(self, job_id: str, holder: str) -> None:
        if self.holders.get(job_id) == holder:
            del self.holders[job_id]

    def held(self, job_id: str) -> bool:
        return job_id in self.holders


class FakeRegistry:
    def __init__(self) -> None:
        self.announced: dict[str, WorkerInfo] = {}

    def announce(self, worker: WorkerInfo) -> None:
        self.announced[worker.name] = worker

    def withdraw(self, name: str) -> None:
        self.announced.pop(name, None)

    def workers(self) -> Sequence[WorkerInfo]:
        return list(self.announced.values())


def setup(**settings: Any) -> tuple[Any, JobWorker, FakeLeases, FakeJobStore, FakeBlobStore]:
    store, blobs, leases = FakeJobStore(), FakeBlobStore(), FakeLeases()
    services: Any = fake_services(job_store=store, blob_store=blobs, **settings)
    services.warm_up.run()  # the runner is not started: the test delivers jobs itself
    worker = JobWorker(
        store,
        services.runner,
        leases,
        services.runner.queue,
        FakeRegistry(),
        WorkerInfo("w-test", ("whisper",), 1),
        lease_seconds=30,
    )
    return services, worker, leases, store, blobs


def submit(services: Any) -> str:
    request = TranscriptionRequest(model="fake-asr")
    job_id: str = services.jobs.submit(None, request, io.BytesIO(wav_bytes(2))).job.id
    return job_id


def test_a_job_delivered_twice_runs_once(monkeypatch: Any) -> None:
    services, worker, leases, store, blobs = setup()
    job_id = submit(services)
    writes: list[str] = []
    put_bytes = blobs.put_bytes
    monkeypatch.setattr(blobs, "put_bytes", lambda k, d: (writes.append(k), put_bytes(k, d)))
    assert worker.execute(job_id) == "completed"
    assert worker.execute(job_id) == "already ended"  # the broker's second delivery
    done = store.get(job_id)
    assert done is not None and done.status is JobStatus.COMPLETED and done.attempts == 1
    assert writes == [result_key(job_id)]
    assert leases.holders == {}  # released


def test_a_job_someone_runs_is_left_to_them() -> None:
    services, worker, leases, store, _ = setup()
    job_id = submit(services)
    leases.acquire(job_id, "another-worker/1")
    assert worker.execute(job_id) == "running elsewhere"
    job = store.get(job_id)
    assert job is not None and job.status is JobStatus.QUEUED
    assert leases.holders == {job_id: "another-worker/1"}


def test_a_dead_workers_job_runs_again_counting_the_attempt() -> None:
    services, worker, _, store, _ = setup()
    job_id = submit(services)
    queued = store.get(job_id)
    assert queued is not None
    store.save(queued.start(utc_now()))  # a worker took it, then died: no lease
    assert worker.execute(job_id) == "completed"
    done = store.get(job_id)
    assert done is not None and done.attempts == 2


def test_a_job_that_keeps_killing_its_workers_fails() -> None:
    services, worker, _, store, _ = setup(job_max_attempts=2)
    job_id = submit(services)
    job = store.get(job_id)
    assert job is not None
    job = job.start(utc_now()).requeue().start(utc_now())  # two attempts, both interrupted
    store.save(job)
    assert worker.execute(job_id) == "not run (it changed meanwhile)"
    failed = store.get(job_id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.error is not None and failed.error.code == "too_many_attempts"


def test_rescue_resends_only_orphaned_jobs() -> None:
    services, worker, leases, store, _ = setup()
    sent: list[str] = []
    worker._queue = type("Q", (), {"put": lambda _s, j, force=False: sent.append(j)})()
    long_ago = utc_now() - timedelta(minutes=5)
    orphan, leased, fresh, queued = (submit(services) for _ in range(4))
    for job_id, at in ((orphan, long_ago), (leased, long_ago), (fresh, utc_now())):
        job = store.get(job_id)
        assert job is not None
        store.save(replace(job.start(at), started_at=at))
    leases.acquire(leased, "alive/1")
    assert worker.rescue() == 1
    assert sent == [orphan]
    assert queued not in sent
