"""``KeyStore`` on the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from scribe.domain.caller import Scope
from scribe.domain.keys import ApiKey
from scribe.domain.limits import KeyLimits

from .database import Database
from .models import ApiKeyRow


class SqlKeyStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, key: ApiKey) -> None:
        with self._db.session() as session:
            session.add(
                ApiKeyRow(
                    id=key.key_id,
                    name=key.name,
                    prefix=key.prefix,
                    secret_hash=key.secret_hash,
                    scope=key.scope.value,
                    created_at=key.created_at,
                    last_used_at=key.last_used_at,
                    revoked_at=key.revoked_at,
                    requests_per_minute=key.limits.requests_per_minute,
                    audio_seconds_per_hour=key.limits.audio_seconds_per_hour,
                    concurrent_requests=key.limits.concurrent_requests,
                )
            )

    def get(self, key_id: str) -> ApiKey | None:
        with self._db.session() as session:
            row = session.get(ApiKeyRow, key_id)
            return None if row is None else _key(row)

    def with_prefix(self, prefix: str) -> list[ApiKey]:
        with self._db.session() as session:
            rows = session.scalars(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
            return [_key(row) for row in rows]

    def all(self) -> list[ApiKey]:
        with self._db.session() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))
            return [_key(row) for row in rows]

    def any(self) -> bool:
        with self._db.session() as session:
            return session.scalar(select(ApiKeyRow.id).limit(1)) is not None

    def revoke(self, key_id: str, at: datetime) -> bool:
        with self._db.session() as session:
            result = session.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def touch(self, key_id: str, at: datetime) -> None:
        with self._db.session() as session:
            session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_at=at))


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        key_id=row.id,
        name=row.name,
        prefix=row.prefix,
        secret_hash=row.secret_hash,
        scope=Scope(row.scope),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        limits=KeyLimits(
            requests_per_minute=row.requests_per_minute,
            audio_seconds_per_hour=row.audio_seconds_per_hour,
            concurrent_requests=row.concurrent_requests,
        ),
    )
