"""The database: migrations from empty, models and migrations agree, a newer schema is refused,
SQLite set up for a threaded server. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from scribe.adapters.db import Database
from scribe.adapters.db.models import Base
from scribe.domain.errors import ConfigurationError


def test_upgrade_brings_an_empty_database_to_the_head(database_url: str) -> None:
    db = Database(database_url)
    assert db.current() is None
    db.upgrade()
    assert db.current() == db.head() == "0006"
    db.upgrade()  # idempotent
    assert db.current() == "0006"
    db.dispose()


def test_the_models_match_the_migrations(database: Database) -> None:
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_a_newer_schema_is_refused_with_a_clear_message(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(ConfigurationError) as error:
        database.upgrade()
    assert error.value.code == "database_schema_newer"
    assert "9999_from_the_future" in error.value.message and "Upgrade Scribe" in error.value.message


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/sub/dir/scribe.db")
    db.upgrade()  # makes the folder
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_an_unreachable_database_is_a_clear_error_without_its_password() -> None:
    db = Database("postgresql+psycopg://scribe:s3cret@127.0.0.1:1/scribe")
    with pytest.raises(ConfigurationError) as error:
        db.upgrade()
    assert error.value.code == "database_unavailable"
    assert "s3cret" not in error.value.message and "***" in error.value.message


def test_a_malformed_url_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="SCRIBE_DATABASE_URL"):
        Database("not a url")
