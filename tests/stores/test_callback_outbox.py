"""The callback outbox on SQLite and PostgreSQL: written with the job's end in one transaction
(once), its state on the job, leases that keep concurrent claimers apart, and outcomes recorded
only by the lease's holder."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from scribe.adapters.db import Database
from scribe.adapters.db.callback_outbox import SqlCallbackOutbox
from scribe.adapters.db.job_store import SqlJobStore
from scribe.domain.callbacks import CallbackStatus
from scribe.domain.errors import StorageUnavailable
from scribe.domain.jobs import Job, JobStatus, JobUsage
from scribe.domain.options import Task

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
URL = "https://example.com/hook"
LEASE = 60.0


def job(n: int, callback_url: str | None = URL) -> Job:
    return Job(f"job_{n:04d}", "key_a", Task.TRANSCRIBE, "m", {}, T0, callback_url=callback_url)


def describe(j: Job) -> dict[str, object]:
    assert j.callback is not None  # the payload shows the callback pending
    return {"id": j.id, "status": j.status.value, "callback": j.callback.status.value}


def ended(store: SqlJobStore, n: int, callback_url: str | None = URL) -> Job:
    queued = job(n, callback_url)
    store.add(queued)
    running = queued.start(T0)
    assert store.save(running, expect=JobStatus.QUEUED)
    done = running.complete(T0 + timedelta(seconds=n), JobUsage(1, 1))
    assert store.save(done, expect=JobStatus.IN_PROGRESS)
    return done


def count(database: Database) -> int:
    with database.session() as session:
        return int(session.execute(text("SELECT count(*) FROM job_callbacks")).scalar_one())


def test_ending_a_job_queues_its_callback_once_with_its_payload(database: Database) -> None:
    store, outbox = SqlJobStore(database, describe=describe), SqlCallbackOutbox(database)
    queued = job(3)
    store.add(queued)
    assert store.get(queued.id).callback is None  # type: ignore[union-attr]
    done = ended(store, 1)
    assert store.save(done) and not store.save(done, expect=JobStatus.IN_PROGRESS)
    assert count(database) == 1  # a second save of the ended job adds none
    ended(store, 2, callback_url=None)
    assert count(database) == 1  # no callback_url: no callback
    shown = store.get(done.id)
    assert shown is not None and shown.callback is not None
    assert (shown.callback.url, shown.callback.status) == (URL, CallbackStatus.PENDING)
    [due] = outbox.claim("a", T0 + timedelta(seconds=5), lease_seconds=LEASE, limit=10)
    assert due.job_id == done.id and due.event_type == "audio.job.completed"
    assert due.payload == {"id": done.id, "status": "completed", "callback": "pending"}
    assert due.created_at == done.finished_at and due.attempts == 1
    assert due.webhook_id.startswith("msg_")
    page, _ = store.page(None, limit=10)
    assert [(j.id, j.callback.attempts if j.callback else None) for j in page] == [
        ("job_0003", None),
        ("job_0002", None),
        ("job_0001", 1),
    ]


def test_a_failed_compare_and_set_queues_nothing(database: Database) -> None:
    store = SqlJobStore(database, describe=describe)
    queued = job(1)
    store.add(queued)
    # The job was cancelled meanwhile by another process: the runner's "completed" loses.
    assert store.save(queued.cancel(T0), expect=JobStatus.QUEUED)
    late = queued.start(T0).complete(T0, JobUsage(1, 1))
    assert not store.save(late, expect=JobStatus.IN_PROGRESS)
    outbox = SqlCallbackOutbox(database)
    [due] = outbox.claim("a", T0, lease_seconds=LEASE, limit=10)
    assert due.event_type == "audio.job.cancelled"


def test_the_job_store_writes_the_callback_in_the_jobs_transaction(database: Database) -> None:
    store = SqlJobStore(database, describe=describe)
    queued = job(1)
    store.add(queued)
    with database.session() as session:  # the outbox cannot take the row: the insert fails
        session.execute(text("ALTER TABLE job_callbacks RENAME TO job_callbacks_away"))
    try:
        # SQLite reports the missing table as an operational error, PostgreSQL as a programming one
        with pytest.raises((StorageUnavailable, ProgrammingError)):
            store.save(queued.cancel(T0), expect=JobStatus.QUEUED)
    finally:
        with database.session() as session:
            session.execute(text("ALTER TABLE job_callbacks_away RENAME TO job_callbacks"))
    # Rolled back together: the job did not end without its callback.
    assert store.get(queued.id).status is JobStatus.QUEUED  # type: ignore[union-attr]
    assert count(database) == 0


def test_a_job_that_cannot_be_described_still_ends_with_its_callback(database: Database) -> None:
    store = SqlJobStore(database, describe=lambda j: {"bad": object()})  # not JSON: a bug
    outbox = SqlCallbackOutbox(database)
    queued = job(1)
    store.add(queued)
    assert store.save(queued.cancel(T0), expect=JobStatus.QUEUED)
    assert store.get(queued.id).status is JobStatus.CANCELLED  # type: ignore[union-attr]
    [due] = outbox.claim("a", T0 + timedelta(seconds=1), lease_seconds=LEASE, limit=10)
    assert due.payload == {"id": queued.id, "status": "cancelled"}


def test_leases_outcomes_and_retries(database: Database) -> None:
    store, outbox = SqlJobStore(database, describe=describe), SqlCallbackOutbox(database)
    first, second = ended(store, 1), ended(store, 2)
    now = T0 + timedelta(seconds=10)
    claimed = outbox.claim("a", now, lease_seconds=LEASE, limit=10)
    assert [c.job_id for c in claimed] == [first.id, second.id]
    assert outbox.claim("b", now + timedelta(seconds=59), lease_seconds=LEASE, limit=10) == []
    assert not outbox.delivered(claimed[0].webhook_id, "b", now)  # b holds nothing
    assert outbox.delivered(claimed[0].webhook_id, "a", now)
    assert not outbox.delivered(claimed[0].webhook_id, "a", now)  # once
    later = now + timedelta(seconds=61)  # a's lease on the second ran out
    [again] = outbox.claim("b", later, lease_seconds=LEASE, limit=10)
    assert again.webhook_id == claimed[1].webhook_id and again.attempts == 2
    assert not outbox.retry(again.webhook_id, "a", "late", later)  # a lost it
    assert outbox.retry(again.webhook_id, "b", "HTTP 503", later + timedelta(seconds=5))
    assert outbox.claim("c", later + timedelta(seconds=4), lease_seconds=LEASE, limit=10) == []
    [third] = outbox.claim("c", later + timedelta(seconds=5), lease_seconds=LEASE, limit=10)
    assert outbox.give_up(third.webhook_id, "c", "HTTP 503" * 100)
    shown = store.get(second.id)
    assert shown is not None and shown.callback is not None
    assert shown.callback.status is CallbackStatus.FAILED and shown.callback.attempts == 3
    assert shown.callback.last_error is not None and len(shown.callback.last_error) == 500
    delivered = store.get(first.id)
    assert delivered is not None and delivered.callback is not None
    assert delivered.callback.status is CallbackStatus.DELIVERED
    assert delivered.callback.delivered_at == now
    assert outbox.claim("d", later + timedelta(days=1), lease_seconds=LEASE, limit=10) == []


def test_deleting_a_job_drops_its_callback(database: Database) -> None:
    store, outbox = SqlJobStore(database, describe=describe), SqlCallbackOutbox(database)
    done = ended(store, 1)
    assert store.delete(done.id)
    assert count(database) == 0
    assert outbox.claim("a", T0 + timedelta(hours=1), lease_seconds=LEASE, limit=10) == []


def test_concurrent_claimers_never_share_a_callback(database: Database) -> None:
    store = SqlJobStore(database, describe=describe)
    for n in range(60):
        ended(store, n)
    now = T0 + timedelta(minutes=5)
    got: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def claimer(name: str) -> None:
        outbox = SqlCallbackOutbox(database)
        start.wait()
        mine: list[str] = []
        while batch := outbox.claim(name, now, lease_seconds=LEASE, limit=5):
            mine += [c.webhook_id for c in batch]
        got[name] = mine

    threads = [threading.Thread(target=claimer, args=(f"p{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = [w for ids in got.values() for w in ids]
    assert len(got) == 4 and len(everything) == 60 and len(set(everything)) == 60


def test_jobs_ended_before_the_migration_have_no_callback(database_url: str) -> None:
    from alembic import command

    db = Database(database_url)
    with db._connect() as connection:
        command.upgrade(db._alembic_config(connection), "0003")
        connection.commit()
    old = SqlJobStore(db, describe=describe)
    with db._connect() as connection:
        connection.execute(
            text(
                "INSERT INTO jobs (id, owner, status, task, model, background, request, "
                "callback_url, created_at, finished_at, progress_stage, progress_fraction, "
                "attempts, cancel_requested) VALUES ('job_old', NULL, 'completed', 'transcribe', "
                "NULL, true, '{}', 'https://example.com/hook', '2026-01-01 00:00:00', "
                "'2026-01-01 00:01:00', 'done', 1.0, 1, false)"
            )
        )
        connection.commit()
    db.upgrade()
    kept = old.get("job_old")
    assert kept is not None and kept.callback_url == URL and kept.callback is None
    assert SqlCallbackOutbox(db).claim("a", T0, lease_seconds=LEASE, limit=10) == []
    ended(old, 1)
    with db._connect() as connection:  # and it can be undone
        command.downgrade(db._alembic_config(connection), "0003")
        connection.commit()
    assert db.current() == "0003"
    db.dispose()
