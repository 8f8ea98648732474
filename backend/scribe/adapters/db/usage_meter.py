"""``UsageMeter`` on the database: one row per key and UTC day, added to atomically."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from scribe.domain.caller import ANONYMOUS_KEY_ID
from scribe.domain.usage import UsageDay, UsageEntry

from .database import Database
from .models import ApiKeyRow, UsageRow


class SqlUsageMeter:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._insert: Any = postgresql.insert if database.dialect == "postgresql" else sqlite.insert

    def record(self, entry: UsageEntry) -> None:
        values = {
            "key_id": entry.key_id,
            "day": entry.day,
            "requests": entry.requests,
            "audio_seconds": entry.audio_seconds,
            "processing_seconds": entry.processing_seconds,
            "failures": entry.failures,
        }
        statement = self._insert(UsageRow).values(**values)
        table = UsageRow.__table__.c
        statement = statement.on_conflict_do_update(
            index_elements=[table.key_id, table.day],
            set_={
                name: table[name] + statement.excluded[name]
                for name in ("requests", "audio_seconds", "processing_seconds", "failures")
            },
        )
        with self._db.session() as session:
            session.execute(statement)

    def days(self, *, since: date | None = None, key_id: str | None = None) -> list[UsageDay]:
        query = (
            select(UsageRow, ApiKeyRow.name)
            .outerjoin(ApiKeyRow, ApiKeyRow.id == UsageRow.key_id)
            .order_by(UsageRow.day, UsageRow.key_id)
        )
        if since is not None:
            query = query.where(UsageRow.day >= since)
        if key_id is not None:
            query = query.where(UsageRow.key_id == key_id)
        with self._db.session() as session:
            return [
                UsageDay(
                    key_id=row.key_id,
                    key_name=name or (ANONYMOUS_KEY_ID if row.key_id == ANONYMOUS_KEY_ID else "?"),
                    day=row.day,
                    requests=row.requests,
                    audio_seconds=row.audio_seconds,
                    processing_seconds=row.processing_seconds,
                    failures=row.failures,
                )
                for row, name in session.execute(query)
            ]
