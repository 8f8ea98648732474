"""``CallbackOutbox`` on the database (the ``job_callbacks`` table the job store writes).

A claim is a conditional UPDATE (pending, due, lease free or ended): two processes cannot both
win one row. On PostgreSQL the candidates are first selected ``FOR UPDATE SKIP LOCKED``, so that
concurrent claimers take different rows instead of queueing on the same ones."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from scribe.domain.callbacks import CallbackStatus, DueCallback

from .database import Database
from .models import JobCallbackRow

_MAX_ERROR = 500


class SqlCallbackOutbox:
    def __init__(self, database: Database) -> None:
        self._db = database

    @staticmethod
    def _claimable(now: datetime) -> ColumnElement[bool]:
        return and_(
            JobCallbackRow.status == CallbackStatus.PENDING.value,
            JobCallbackRow.next_attempt_at <= now,
            or_(JobCallbackRow.claimed_until.is_(None), JobCallbackRow.claimed_until < now),
        )

    def claim(
        self, holder: str, now: datetime, *, lease_seconds: float, limit: int
    ) -> list[DueCallback]:
        until = now + timedelta(seconds=lease_seconds)
        with self._db.session() as session:
            query = (
                select(JobCallbackRow.webhook_id)
                .where(self._claimable(now))
                .order_by(JobCallbackRow.next_attempt_at)
                .limit(limit)
            )
            if self._db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(session.scalars(query))
            if not ids:
                return []
            session.execute(
                update(JobCallbackRow)
                .where(JobCallbackRow.webhook_id.in_(ids), self._claimable(now))
                .values(
                    claimed_by=holder,
                    claimed_until=until,
                    attempts=JobCallbackRow.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            rows = session.scalars(
                select(JobCallbackRow)
                .where(
                    JobCallbackRow.webhook_id.in_(ids),
                    JobCallbackRow.claimed_by == holder,
                    JobCallbackRow.claimed_until == until,
                )
                .order_by(JobCallbackRow.next_attempt_at)
                .execution_options(populate_existing=True)
            )
            return [
                DueCallback(
                    webhook_id=row.webhook_id,
                    job_id=row.job_id,
                    url=row.url,
                    event_type=row.event_type,
                    payload=json.loads(row.payload),
                    created_at=row.created_at,
                    attempts=row.attempts,
                )
                for row in rows
            ]

    def _finish(self, webhook_id: str, holder: str, **values: object) -> bool:
        with self._db.session() as session:
            result = session.execute(
                update(JobCallbackRow)
                .where(
                    JobCallbackRow.webhook_id == webhook_id,
                    JobCallbackRow.claimed_by == holder,
                    JobCallbackRow.status == CallbackStatus.PENDING.value,
                )
                .values(claimed_by=None, claimed_until=None, **values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def delivered(self, webhook_id: str, holder: str, now: datetime) -> bool:
        return self._finish(
            webhook_id, holder, status=CallbackStatus.DELIVERED.value, delivered_at=now
        )

    def retry(self, webhook_id: str, holder: str, error: str, at: datetime) -> bool:
        return self._finish(webhook_id, holder, next_attempt_at=at, last_error=error[:_MAX_ERROR])

    def give_up(self, webhook_id: str, holder: str, error: str) -> bool:
        return self._finish(
            webhook_id,
            holder,
            status=CallbackStatus.FAILED.value,
            last_error=error[:_MAX_ERROR],
        )
