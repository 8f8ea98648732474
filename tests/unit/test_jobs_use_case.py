"""The job use cases and their runner, through the real composition root with recording fakes:
submit, run, events, cancel, the bounded queue, recovery after a restart, retention, callbacks,
who sees which job."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scribe.domain.caller import Caller, Scope
from scribe.domain.errors import Conflict, InvalidAudio, InvalidRequest, NotFound, QueueFull
from scribe.domain.jobs import Job, JobError, JobStatus, JobUsage
from scribe.domain.limits import RatePolicy
from scribe.domain.options import Task
from scribe.domain.response_format import ResponseFormat
from scribe.use_cases.job_requests import request_to_dict
from scribe.use_cases.jobs import audio_key, error_from, result_key
from scribe.use_cases.options import TranscriptionRequest
from tests.fakes import (
    FakeAsr,
    FakeBlobStore,
    FakeJobStore,
    FakeRateLimiter,
    FakeUsageMeter,
    RecordingWebhooks,
    fake_services,
    wav_bytes,
)

ADA = Caller("key_ada", "ada", Scope.TRANSCRIBE)
BOB = Caller("key_bob", "bob", Scope.TRANSCRIBE)
ADMIN = Caller("key_admin", "admin", Scope.ADMIN)
REQUEST = TranscriptionRequest(model="fake-asr", response_format=ResponseFormat.VERBOSE_JSON)


def slow_asr(seconds: float, segments: int = 40) -> FakeAsr:
    """An engine that takes ``seconds`` in all, in ``segments`` steps (a cancel lands between)."""
    step = 4.0 / segments
    script = [(i * step, (i + 1) * step, f"word{i}") for i in range(segments)]
    return FakeAsr(script=script, delay=seconds)


@pytest.fixture
def make() -> Iterator[Any]:
    started: list[Any] = []

    def build(asr: FakeAsr | None = None, *, start: bool = True, **kw: Any) -> Any:
        services: Any = fake_services(asr, **kw)
        services.warm_up.run()
        if start:
            services.runner.start()
        started.append(services)
        return services

    yield build
    for services in started:
        services.runner.stop(timeout=5)


def wait_for(services: Any, job_id: str, status: JobStatus, timeout: float = 10) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = services.jobs.get(None, job_id)
        if job.status is status:
            return job  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError(f"{job_id} is {job.status}, not {status}")


def submit(services: Any, caller: Caller | None = ADA, seconds: float = 4, **kw: Any) -> Job:
    request = kw.pop("request", REQUEST)
    return services.jobs.submit(caller, request, io.BytesIO(wav_bytes(seconds)), **kw).job  # type: ignore[no-any-return]


def test_a_submitted_job_runs_and_its_result_renders_in_any_format(make: Any) -> None:
    usage = FakeUsageMeter()
    services = make(usage_meter=usage)
    job = submit(services)
    assert job.status is JobStatus.QUEUED and job.owner == "key_ada" and job.model == "fake-asr"
    done = wait_for(services, job.id, JobStatus.COMPLETED)
    assert done.attempts == 1 and done.usage is not None and done.usage.audio_seconds == 4.0
    assert done.started_at is not None and done.finished_at is not None
    _, transcript, options = services.jobs.result(ADA, job.id)
    assert transcript.text == "Hello there, how are you? I am fine, thank you."
    assert transcript.speakers  # the fake diarizer ran (the server's default)
    assert options.model == "fake-asr"
    # The background job's audio is on the key's usage (its request counted the request itself).
    deadline = time.monotonic() + 2
    while not usage.entries and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [(e.key_id, e.requests, e.audio_seconds) for e in usage.entries] == [("key_ada", 0, 4.0)]


def test_a_request_the_server_cannot_honour_stores_nothing(make: Any) -> None:
    store, blobs = FakeJobStore(), FakeBlobStore()
    services = make(job_store=store, blob_store=blobs)
    with pytest.raises(InvalidRequest):
        submit(services, request=TranscriptionRequest(model="no-such-model"))
    assert store.jobs == {} and blobs.blobs == {}


def test_audio_that_is_not_audio_fails_the_job_with_the_decoders_error(make: Any) -> None:
    services = make()
    job = services.jobs.submit(ADA, REQUEST, io.BytesIO(b"not audio at all")).job
    failed = wait_for(services, job.id, JobStatus.FAILED)
    assert failed.error is not None and failed.error.kind == "InvalidAudio"
    assert isinstance(error_from(failed.error), InvalidAudio)
    with pytest.raises(Conflict) as error:
        services.jobs.result(ADA, job.id)
    assert error.value.code == "job_not_completed"


def test_a_full_queue_refuses_with_retry_after_and_keeps_nothing(make: Any) -> None:
    blobs = FakeBlobStore()
    services = make(slow_asr(3), blob_store=blobs, job_queue_size=1, max_concurrent_jobs=1)
    running = submit(services)
    wait_for(services, running.id, JobStatus.IN_PROGRESS)
    waiting = submit(services)  # the one place in the queue
    before = dict(blobs.blobs)
    with pytest.raises(QueueFull) as error:
        submit(services)
    assert error.value.retry_after is not None and error.value.retry_after >= 1
    assert blobs.blobs.keys() == before.keys()
    services.jobs.cancel(ADA, running.id)
    services.jobs.cancel(ADA, waiting.id)


def test_cancel_stops_a_running_job_within_seconds(make: Any) -> None:
    services = make(slow_asr(30))
    job = submit(services)
    wait_for(services, job.id, JobStatus.IN_PROGRESS)
    time.sleep(0.3)
    started = time.monotonic()
    cancelled = services.jobs.cancel(ADA, job.id)
    assert cancelled.status is JobStatus.CANCELLED
    assert time.monotonic() - started < 2
    assert services.jobs.cancel(ADA, job.id).status is JobStatus.CANCELLED  # idempotent


def test_a_cancel_from_another_process_reaches_the_running_job(make: Any) -> None:
    services = make(slow_asr(30))
    job = submit(services)
    running = wait_for(services, job.id, JobStatus.IN_PROGRESS)
    # What `scribe jobs cancel` does from its own process: only the record changes.
    services.storage.jobs.save(running.request_cancel(), expect=JobStatus.IN_PROGRESS)
    wait_for(services, job.id, JobStatus.CANCELLED, timeout=4)


def test_a_job_ended_by_another_process_stops_running_here(make: Any) -> None:
    services = make(slow_asr(30))
    job = submit(services)
    running = wait_for(services, job.id, JobStatus.IN_PROGRESS)
    # What an API node does when its grace ends while the job's client waits there.
    ended = running.fail(
        datetime.now(UTC), JobError("ShuttingDown", "The server is shutting down.")
    )
    assert services.storage.jobs.save(ended, expect=JobStatus.IN_PROGRESS)
    deadline = time.monotonic() + 4
    while services.runner.cancellations.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not services.runner.cancellations.running()  # the worker stopped, 26 s early
    assert services.jobs.get(None, job.id).status is JobStatus.FAILED  # and wrote nothing


def test_a_job_run_without_its_request_is_charged_to_its_owners_hourly_budget(
    make: Any,
) -> None:
    # Submitted by one process, run by another (a worker, or this server after a restart):
    # the request that was admitted is not there to be charged when the audio is decoded.
    store, blobs, limiter = FakeJobStore(), FakeBlobStore(), FakeRateLimiter()
    submitter = make(job_store=store, blob_store=blobs, start=False)
    job = submit(submitter, background=True)
    runner = make(
        job_store=store,
        blob_store=blobs,
        rate_limiter=limiter,
        rate_limit_audio_minutes_per_hour=10,
        start=False,
    )
    assert runner.runner.run(job.id).status is JobStatus.COMPLETED  # type: ignore[union-attr]
    assert limiter.audio == {"key_ada": 4.0}


def test_a_job_run_in_its_requests_context_is_charged_once(make: Any) -> None:
    limiter = FakeRateLimiter()
    services = make(rate_limiter=limiter, rate_limit_audio_minutes_per_hour=10)
    ada = replace(ADA, limits=RatePolicy(audio_seconds_per_hour=600))
    admission = services.metering.admit(ada, consumes_audio=True)
    with services.metering.running(admission):
        job = submit(services, ada)
    wait_for(services, job.id, JobStatus.COMPLETED)
    assert limiter.audio == {"key_ada": 4.0} and admission.audio_seconds == 4.0


def test_a_queued_job_is_cancelled_at_once_and_never_runs(make: Any) -> None:
    asr = slow_asr(2)
    services = make(asr, max_concurrent_jobs=1)
    first = submit(services)
    second = submit(services)
    assert services.jobs.cancel(ADA, second.id, wait=0).status is JobStatus.CANCELLED
    wait_for(services, first.id, JobStatus.COMPLETED)
    time.sleep(0.2)
    assert len(asr.calls) == 1
    with pytest.raises(Conflict):
        services.jobs.cancel(ADA, first.id)  # completed


def test_events_are_in_order_and_end_with_the_outcome(make: Any) -> None:
    services = make()
    job = submit(services)
    wait_for(services, job.id, JobStatus.COMPLETED)
    _, events = services.jobs.follow(ADA, job.id, 0, 1)
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    types = [e.type for e in events]
    assert types[0] == "job.in_progress" and types[-1] == "job.completed"
    assert "segment.decoded" in types and "segment.attributed" in types
    fractions = [e.data["fraction"] for e in events if e.type == "job.progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # Resuming after an id gives only what came after it.
    _, rest = services.jobs.follow(ADA, job.id, ids[2], 1)
    assert [e.id for e in rest] == ids[3:]


def test_keys_see_only_their_own_jobs(make: Any) -> None:
    services = make(start=False)
    mine, theirs = submit(services, ADA), submit(services, BOB)
    with pytest.raises(NotFound):
        services.jobs.get(BOB, mine.id)
    for action in (services.jobs.cancel, services.jobs.delete, services.jobs.result):
        with pytest.raises(NotFound):
            action(ADA, theirs.id)
    assert [j.id for j in services.jobs.page(ADA)[0]] == [mine.id]
    assert {j.id for j in services.jobs.page(ADMIN)[0]} == {mine.id, theirs.id}
    with pytest.raises(NotFound):
        services.jobs.page(ADA, after=theirs.id)  # not a cursor of this key
    with pytest.raises(InvalidRequest):
        services.jobs.page(ADA, limit=0)


def test_delete_removes_the_record_audio_and_result(make: Any) -> None:
    blobs = FakeBlobStore()
    services = make(blob_store=blobs)
    job = submit(services)
    wait_for(services, job.id, JobStatus.COMPLETED)
    assert {audio_key(job.id), result_key(job.id)} <= blobs.blobs.keys()
    services.jobs.delete(ADA, job.id)
    assert not [k for k in blobs.blobs if k.startswith(job.id)]
    with pytest.raises(NotFound):
        services.jobs.get(ADA, job.id)


def test_recovery_queues_again_what_a_dead_process_left(make: Any) -> None:
    store, blobs = FakeJobStore(), FakeBlobStore()
    services = make(job_store=store, blob_store=blobs, start=False, job_max_attempts=2)
    old = datetime.now(UTC) - timedelta(minutes=5)

    def left(n: int, **kw: Any) -> Job:
        job = Job(
            f"job_old{n}",
            "key_ada",
            Task.TRANSCRIBE,
            "fake-asr",
            request_to_dict(REQUEST),
            old,
            **kw,
        )
        store.add(job)
        blobs.put_bytes(audio_key(job.id), wav_bytes(4))
        return job

    queued = left(1)
    interrupted = left(2).start(old)
    store.save(interrupted)
    crashing = left(3, attempts=1).start(old)  # its second run killed the process too
    store.save(crashing)
    waiting_client = left(4, background=False)
    services.runner.start()
    assert wait_for(services, queued.id, JobStatus.COMPLETED).attempts == 1
    assert wait_for(services, interrupted.id, JobStatus.COMPLETED).attempts == 2
    failed = store.jobs[crashing.id]
    assert failed.status is JobStatus.FAILED and failed.error is not None
    assert failed.error.code == "too_many_attempts"
    gone = store.jobs[waiting_client.id]
    assert gone.status is JobStatus.FAILED and gone.error and gone.error.code == "server_restarted"


def test_retention_deletes_old_finished_jobs_with_their_files(make: Any) -> None:
    store, blobs = FakeJobStore(), FakeBlobStore()
    services = make(job_store=store, blob_store=blobs, start=False, job_retention_hours=1)
    now = datetime.now(UTC)
    for ended, status in [
        (now - timedelta(hours=2), "old"),
        (now - timedelta(minutes=10), "recent"),
        (None, "queued"),
    ]:
        job = Job(f"job_{status}", "k", Task.TRANSCRIBE, "fake-asr", {}, now - timedelta(hours=3))
        if ended is not None:
            job = job.start(ended).complete(ended, JobUsage(1, 1))
        store.add(job)
        blobs.put_bytes(result_key(job.id), b"{}")
    assert services.runner.sweep() == 1
    assert set(store.jobs) == {"job_recent", "job_queued"}
    assert set(blobs.blobs) == {result_key("job_recent"), result_key("job_queued")}


def test_callbacks_are_checked_at_submit_and_sent_when_the_job_ends(make: Any) -> None:
    hooks = RecordingWebhooks()
    services = make(webhooks=hooks)
    with pytest.raises(InvalidRequest) as error:
        submit(services, callback_url="http://127.0.0.1/hook")
    assert error.value.param == "callback_url"
    job = submit(services, callback_url="https://example.com/hook")
    wait_for(services, job.id, JobStatus.COMPLETED)
    assert hooks.done.wait(5)
    url, event_type, data = hooks.delivered[0]
    assert (url, event_type) == ("https://example.com/hook", "audio.job.completed")
    assert data["id"] == job.id and data["object"] == "audio.job" and data["status"] == "completed"


def test_a_job_cancelled_while_queued_gets_its_callback(make: Any) -> None:
    hooks = RecordingWebhooks()
    services = make(start=False, webhooks=hooks)  # nothing runs: the job stays queued
    job = submit(services, callback_url="https://example.com/hook")
    services.jobs.cancel(ADA, job.id)
    assert services.runner.callbacks.deliver_due() == 1
    [(url, event_type, data)] = hooks.delivered
    assert (url, event_type) == ("https://example.com/hook", "audio.job.cancelled")
    assert data["status"] == "cancelled"
    shown = services.jobs.get(ADA, job.id).callback
    assert shown.status.value == "delivered" and shown.attempts == 1


def test_the_runner_never_runs_more_jobs_at_once_than_its_slots(make: Any) -> None:
    asr = slow_asr(0.5, segments=5)
    services = make(asr, max_concurrent_jobs=2, job_queue_size=10)
    jobs = [submit(services) for _ in range(6)]
    for job in jobs:
        wait_for(services, job.id, JobStatus.COMPLETED)
    assert asr.in_flight.most == 2
