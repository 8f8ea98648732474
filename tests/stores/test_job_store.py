"""The job store on SQLite and PostgreSQL: round trip, compare-and-set, pages, retention."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command

from scribe.adapters.db import Database
from scribe.adapters.db.job_store import SqlJobStore
from scribe.domain.jobs import Job, JobError, JobProgress, JobStatus, JobUsage
from scribe.domain.options import Task

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def job(n: int, owner: str | None = "key_a", **changes: object) -> Job:
    base = Job(
        id=f"job_{n:04d}",
        owner=owner,
        task=Task.TRANSCRIBE,
        model="whisper-base",
        request={"model": "whisper-1", "known_speakers": [], "text_rules": ["x"]},
        created_at=T0 + timedelta(seconds=n),
    )
    return replace(base, **changes)


@pytest.fixture
def store(database: Database) -> Iterator[SqlJobStore]:
    yield SqlJobStore(database)


def test_a_job_comes_back_as_it_was_stored(store: SqlJobStore) -> None:
    full = job(
        1,
        status=JobStatus.FAILED,
        callback_url="https://example.com/hook",
        started_at=T0,
        finished_at=T0 + timedelta(minutes=1),
        progress=JobProgress("transcribing", 0.5),
        error=JobError("InvalidAudio", "Not audio", "invalid_audio", "file"),
        usage=JobUsage(12.5, 3.25),
        attempts=2,
        cancel_requested=True,
        background=False,
        filename="Réunion du lundi 😀.m4a",
    )
    store.add(full)
    assert store.get(full.id) == full
    assert store.get("job_missing") is None


def test_save_with_an_expected_status_is_compare_and_set(store: SqlJobStore) -> None:
    queued = job(1)
    store.add(queued)
    running = queued.start(T0)
    assert store.save(running, expect=JobStatus.QUEUED)
    # A cancel that read the job while it was queued loses the race.
    assert not store.save(queued.cancel(T0), expect=JobStatus.QUEUED)
    assert store.get(queued.id) == running
    assert not store.save(job(99), expect=None)  # no such job


def test_a_save_from_an_older_copy_keeps_a_requested_cancel(store: SqlJobStore) -> None:
    running = job(1).start(T0)
    store.add(running)
    # `scribe jobs cancel` in another process asks; the runner then saves progress from the
    # copy it held before: the request must survive for the runner's monitor to see it.
    assert store.save(running.request_cancel(), expect=JobStatus.IN_PROGRESS)
    progressed = replace(running, progress=JobProgress("transcribing", 0.4))
    assert store.save(progressed, expect=JobStatus.IN_PROGRESS)
    stored = store.get(running.id)
    assert stored is not None and stored.cancel_requested
    assert stored.progress == JobProgress("transcribing", 0.4)


def test_pages_are_newest_first_per_owner_with_a_cursor(store: SqlJobStore) -> None:
    for n in range(5):
        store.add(job(n))
    store.add(job(10, owner="key_b"))
    first, more = store.page("key_a", limit=2)
    assert [j.id for j in first] == ["job_0004", "job_0003"] and more
    second, more = store.page("key_a", limit=2, after=first[-1].id)
    assert [j.id for j in second] == ["job_0002", "job_0001"] and more
    last, more = store.page("key_a", limit=2, after=second[-1].id)
    assert [j.id for j in last] == ["job_0000"] and not more
    everyone, _ = store.page(None, limit=10)
    assert everyone[0].id == "job_0010" and len(everyone) == 6
    assert store.page("key_b", limit=5, after="job_0004") == ([], False)  # not its cursor


def test_pages_can_hold_only_some_statuses(store: SqlJobStore) -> None:
    store.add(job(1))
    store.add(job(2).start(T0))
    store.add(job(3).cancel(T0))
    store.add(job(4))
    store.add(job(5, owner="key_b"))
    queued, more = store.page("key_a", limit=1, statuses=[JobStatus.QUEUED])
    assert [j.id for j in queued] == ["job_0004"] and more
    rest, more = store.page("key_a", limit=1, after="job_0004", statuses=[JobStatus.QUEUED])
    assert [j.id for j in rest] == ["job_0001"] and not more
    both, _ = store.page(None, limit=10, statuses=[JobStatus.IN_PROGRESS, JobStatus.CANCELLED])
    assert [j.id for j in both] == ["job_0003", "job_0002"]
    assert store.page(None, limit=10, statuses=[JobStatus.FAILED]) == ([], False)


def test_recovery_and_retention_queries(store: SqlJobStore) -> None:
    store.add(job(1))
    store.add(job(2).start(T0))
    store.add(job(3).start(T0).complete(T0 + timedelta(hours=1), JobUsage(1, 1)))
    store.add(job(4).cancel(T0 + timedelta(hours=3)))
    found = store.with_status([JobStatus.QUEUED, JobStatus.IN_PROGRESS])
    assert [j.id for j in found] == ["job_0001", "job_0002"]
    old = store.finished_before(T0 + timedelta(hours=2))
    assert [j.id for j in old] == ["job_0003"]
    assert store.delete("job_0003") and not store.delete("job_0003")


def test_the_jobs_migration_keeps_existing_keys(database_url: str) -> None:
    db = Database(database_url)
    with db._connect() as connection:
        command.upgrade(db._alembic_config(connection), "0001")
        from sqlalchemy import text

        connection.execute(
            text(
                "INSERT INTO api_keys (id, name, prefix, secret_hash, scope, created_at) "
                "VALUES ('k1', 'laptop', 'sk-x', 'h', 'transcribe', '2026-01-01 00:00:00')"
            )
        )
        connection.commit()
    db.upgrade()
    assert db.current() == db.head()
    from scribe.adapters.db.key_store import SqlKeyStore

    assert [k.name for k in SqlKeyStore(db).all()] == ["laptop"]
    db.dispose()


def test_jobs_are_counted_by_status_in_one_query(store: SqlJobStore) -> None:
    assert store.count_by_status() == {}
    for n in range(3):
        store.add(job(n))
    store.save(job(1).start(T0), expect=JobStatus.QUEUED)
    store.add(job(5, status=JobStatus.COMPLETED))
    assert store.count_by_status() == {
        JobStatus.QUEUED: 2,
        JobStatus.IN_PROGRESS: 1,
        JobStatus.COMPLETED: 1,
    }


def test_the_filename_migration_keeps_existing_jobs(database_url: str) -> None:
    db = Database(database_url)
    with db._connect() as connection:
        command.upgrade(db._alembic_config(connection), "0002")
    db.dispose()
    # A job stored by the schema before 0003 (the store of that time wrote no filename).
    old = Database(database_url)
    with old._connect() as connection:
        from sqlalchemy import text

        connection.execute(
            text(
                "INSERT INTO jobs (id, owner, status, task, model, background, request, "
                "created_at, progress_stage, progress_fraction, attempts, cancel_requested) "
                "VALUES ('job_old', NULL, 'queued', 'transcribe', NULL, true, '{}', "
                "'2026-01-01 00:00:00', 'queued', 0.0, 0, false)"
            )
        )
        connection.commit()
    old.upgrade()
    assert old.current() == old.head()
    kept = SqlJobStore(old).get("job_old")
    assert kept is not None and kept.filename is None and kept.status is JobStatus.QUEUED
    SqlJobStore(old).add(job(1, filename="x" * 255))
    stored = SqlJobStore(old).get("job_0001")
    assert stored is not None and stored.filename == "x" * 255
    with old._connect() as connection:  # and it can be undone
        command.downgrade(old._alembic_config(connection), "0002")
    assert old.current() == "0002"
    old.dispose()
