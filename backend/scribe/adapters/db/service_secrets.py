"""``ServiceSecrets`` on the database (the ``service_secrets`` table).

Get-or-create is race-free: an insert that does nothing when the name is taken (PostgreSQL
``ON CONFLICT DO NOTHING``, which waits for a concurrent insert of the same name to commit;
SQLite ``INSERT OR IGNORE``, under its one writer lock), then a read of what is kept. Two
processes starting at once both read the row that was inserted first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Executable, insert, select, update
from sqlalchemy.exc import IntegrityError

from scribe.ports.service_secrets import KeptSecret

from .database import Database
from .models import ServiceSecretRow


class SqlServiceSecrets:
    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, name: str) -> str | None:
        with self._db.session() as session:
            return session.scalar(
                select(ServiceSecretRow.value).where(ServiceSecretRow.name == name)
            )

    def kept(self, name: str) -> KeptSecret | None:
        with self._db.session() as session:
            row = session.get(ServiceSecretRow, name)
            if row is None:
                return None
            return KeptSecret(row.value, row.created_at, row.previous_value, row.previous_until)

    def rotate(self, name: str, value: str, previous_until: datetime, now: datetime) -> KeptSecret:
        # SET's right-hand sides read the row as it was: the old value moves in the same statement.
        rotation = (
            update(ServiceSecretRow)
            .where(ServiceSecretRow.name == name)
            .values(
                previous_value=ServiceSecretRow.value,
                previous_until=previous_until,
                value=value,
                created_at=now,
            )
        )
        with self._db.session() as session:
            rotated = session.execute(rotation).rowcount  # type: ignore[attr-defined]
        if not rotated:
            self.get_or_create(name, lambda: value)
        kept = self.kept(name)
        assert kept is not None
        return kept

    def get_or_create(self, name: str, make: Callable[[], str]) -> str:
        kept = self.get(name)
        if kept is not None:
            return kept
        row = {"name": name, "value": make(), "created_at": datetime.now(UTC)}
        if self._db.dialect not in ("postgresql", "sqlite"):
            # Another database: a plain insert; losing the race is a unique violation.
            try:
                with self._db.session() as session:
                    session.execute(insert(ServiceSecretRow).values(row))
            except IntegrityError:
                pass
            kept = self.get(name)
        else:
            with self._db.session() as session:
                session.execute(self._insert_if_absent(row))
                kept = session.scalar(
                    select(ServiceSecretRow.value).where(ServiceSecretRow.name == name)
                )
        assert kept is not None
        return kept

    def _insert_if_absent(self, row: dict[str, object]) -> Executable:
        if self._db.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(ServiceSecretRow).values(row).on_conflict_do_nothing()
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(ServiceSecretRow).values(row).on_conflict_do_nothing()
