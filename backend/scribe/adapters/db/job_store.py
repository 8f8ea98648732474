"""``JobStore`` on the database. A save that ends a job with a ``callback_url`` also writes its
callback to the outbox (``job_callbacks``), in the same transaction: the end of a job and the
promise to tell its receiver are stored together or not at all."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scribe.domain.callbacks import (
    CallbackStatus,
    JobCallback,
    callback_event_type,
    new_webhook_id,
)
from scribe.domain.jobs import Job, JobError, JobProgress, JobStatus, JobUsage
from scribe.domain.options import Task

from .database import Database
from .models import JobCallbackRow, JobRow

log = logging.getLogger(__name__)

Describe = Callable[[Job], Mapping[str, Any]]


def _minimal(job: Job) -> Mapping[str, Any]:
    return {"id": job.id, "status": job.status.value}


class SqlJobStore:
    """``describe`` makes a callback's payload from the ended job (the composition root passes
    the API's job object)."""

    def __init__(self, database: Database, *, describe: Describe | None = None) -> None:
        self._db = database
        self._describe = describe or _minimal

    def add(self, job: Job) -> None:
        with self._db.session() as session:
            session.add(JobRow(id=job.id, **_columns(job)))

    def get(self, job_id: str) -> Job | None:
        with self._db.session() as session:
            row = session.get(JobRow, job_id)
            return None if row is None else _with_callbacks(session, [_job(row)])[0]

    def save(self, job: Job, *, expect: JobStatus | None = None) -> bool:
        columns = _columns(job)
        # Sticky: a progress save from the runner's older copy must not undo a cancel that
        # `scribe jobs cancel` (another process) wrote in between.
        if not job.cancel_requested:
            columns["cancel_requested"] = JobRow.cancel_requested
        statement = update(JobRow).where(JobRow.id == job.id).values(**columns)
        if expect is not None:
            statement = statement.where(JobRow.status == expect.value)
        with self._db.session() as session:
            result = session.execute(statement)
            saved = bool(result.rowcount)  # type: ignore[attr-defined]
            if saved and job.status.terminal and job.callback_url:
                self._enqueue_callback(session, job, job.callback_url)
            return saved

    def _enqueue_callback(self, session: Session, job: Job, url: str) -> None:
        """The job's callback into the outbox, once (a second save of an ended job adds none)."""
        now = job.finished_at or job.created_at
        shown = replace(job, callback=JobCallback(url, CallbackStatus.PENDING))
        values = {
            "webhook_id": new_webhook_id(),
            "job_id": job.id,
            "url": url,
            "event_type": callback_event_type(job.status.value),
            "payload": self._payload(shown),
            "status": CallbackStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        dialect = postgresql if self._db.dialect == "postgresql" else sqlite
        statement = dialect.insert(JobCallbackRow).values(**values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["job_id"]))

    def _payload(self, job: Job) -> str:
        """The callback's body: the job as the API shows it, or, should that fail (a bug), the
        job's id and status, so that a job always ends and its receiver still hears of it."""
        try:
            return json.dumps(dict(self._describe(job)), separators=(",", ":"))
        except Exception:
            log.exception(
                "job %s: could not describe it for its callback; sending id and status", job.id
            )
            return json.dumps(dict(_minimal(job)), separators=(",", ":"))

    def page(
        self,
        owner: str | None,
        *,
        limit: int,
        after: str | None = None,
        statuses: Sequence[JobStatus] = (),
    ) -> tuple[list[Job], bool]:
        query = select(JobRow)
        if owner is not None:
            query = query.where(JobRow.owner == owner)
        if statuses:
            query = query.where(JobRow.status.in_([s.value for s in statuses]))
        with self._db.session() as session:
            if after is not None:
                cursor = session.get(JobRow, after)
                if cursor is None or (owner is not None and cursor.owner != owner):
                    return [], False
                query = query.where(
                    or_(
                        JobRow.created_at < cursor.created_at,
                        and_(JobRow.created_at == cursor.created_at, JobRow.id < cursor.id),
                    )
                )
            query = query.order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit + 1)
            rows = list(session.scalars(query))
            jobs = _with_callbacks(session, [_job(r) for r in rows[:limit]])
            return jobs, len(rows) > limit

    def count_by_status(self) -> dict[JobStatus, int]:
        with self._db.session() as session:
            rows = session.execute(
                select(JobRow.status, func.count()).group_by(JobRow.status)
            ).all()
        return {JobStatus(status): int(count) for status, count in rows}

    def with_status(self, statuses: Sequence[JobStatus]) -> list[Job]:
        with self._db.session() as session:
            rows = session.scalars(
                select(JobRow)
                .where(JobRow.status.in_([s.value for s in statuses]))
                .order_by(JobRow.created_at, JobRow.id)
            )
            return [_job(r) for r in rows]

    def finished_before(self, moment: datetime, limit: int = 100) -> list[Job]:
        with self._db.session() as session:
            rows = session.scalars(
                select(JobRow)
                .where(JobRow.finished_at.is_not(None), JobRow.finished_at < moment)
                .order_by(JobRow.finished_at)
                .limit(limit)
            )
            return [_job(r) for r in rows]

    def delete(self, job_id: str) -> bool:
        with self._db.session() as session:
            session.execute(delete(JobCallbackRow).where(JobCallbackRow.job_id == job_id))
            result = session.execute(delete(JobRow).where(JobRow.id == job_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]


def _columns(job: Job) -> dict[str, object]:
    return {
        "owner": job.owner,
        "status": job.status.value,
        "task": job.task.value,
        "model": job.model,
        "background": job.background,
        "request": json.dumps(dict(job.request)),
        "callback_url": job.callback_url,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "progress_stage": job.progress.stage,
        "progress_fraction": job.progress.fraction,
        "error": None if job.error is None else json.dumps(asdict(job.error)),
        "usage": None if job.usage is None else json.dumps(asdict(job.usage)),
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "filename": job.filename,
    }


def _with_callbacks(session: Session, jobs: list[Job]) -> list[Job]:
    """The jobs with their callbacks' state (one query)."""
    ids = [j.id for j in jobs if j.callback_url]
    if not ids:
        return jobs
    rows = session.scalars(select(JobCallbackRow).where(JobCallbackRow.job_id.in_(ids)))
    found = {row.job_id: callback_state(row) for row in rows}
    return [replace(j, callback=found[j.id]) if j.id in found else j for j in jobs]


def callback_state(row: JobCallbackRow) -> JobCallback:
    return JobCallback(
        url=row.url,
        status=CallbackStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        owner=row.owner,
        task=Task(row.task),
        model=row.model,
        request=json.loads(row.request),
        created_at=row.created_at,
        status=JobStatus(row.status),
        background=row.background,
        callback_url=row.callback_url,
        started_at=row.started_at,
        finished_at=row.finished_at,
        progress=JobProgress(row.progress_stage, row.progress_fraction),
        error=None if row.error is None else JobError(**json.loads(row.error)),
        usage=None if row.usage is None else JobUsage(**json.loads(row.usage)),
        attempts=row.attempts,
        cancel_requested=row.cancel_requested,
        filename=row.filename,
    )
