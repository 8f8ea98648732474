"""One engine and session factory from one URL, and the schema migrations that go with it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from scribe.domain.errors import ConfigurationError, StorageUnavailable

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_FILE = "scribe.db"
# Serialises concurrent `upgrade`s of one PostgreSQL database (several API nodes starting).
_PG_MIGRATION_LOCK = 0x5C81BE


def default_url(data_dir: Path) -> str:
    """The SQLite file in the data directory."""
    return f"sqlite:///{Path(data_dir).expanduser() / SQLITE_FILE}"


class Database:
    """The engine and session factory for one database URL.

    SQLite is made safe for a threaded server: WAL journal (readers never wait for the writer),
    a busy timeout (writers queue instead of failing), foreign keys on. ``sqlite://`` (memory)
    keeps one shared connection, for tests.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            self.url: URL = make_url(url)
        except ArgumentError:
            raise ConfigurationError(
                "SCRIBE_DATABASE_URL is not a database URL (e.g. "
                "postgresql+psycopg://user:password@host/scribe).",
                code="invalid_database_url",
            ) from None
        try:
            self.engine: Engine = self._create_engine(echo)
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigurationError(
                f"The database driver for {self.safe_url} is not installed ({exc}). For "
                "PostgreSQL use a postgresql+psycopg:// URL (psycopg 3 is installed with Scribe).",
                code="invalid_database_url",
            ) from None
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        """The URL with its password masked, for messages and logs."""
        return self.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _create_engine(self, echo: bool) -> Engine:
        if self.url.get_backend_name() != "sqlite":
            return create_engine(self.url, echo=echo, pool_pre_ping=True)
        memory = self.url.database in (None, "", ":memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if memory:
            kwargs["poolclass"] = StaticPool
        else:
            Path(str(self.url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(self.url, echo=echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back on error.
        An unreachable (or locked-out) database raises StorageUnavailable."""
        try:
            with self.sessions.begin() as session:
                yield session
        except OperationalError as exc:
            log.error("database %s: %s", self.safe_url, _reason(exc))
            raise StorageUnavailable(
                "The service's database is unavailable; try again shortly."
            ) from None

    def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers (readiness)."""
        with self.session() as session:
            session.execute(text("SELECT 1"))

    # --- migrations ---------------------------------------------------------------------

    def _alembic_config(self, connection: Any) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def head(self) -> str:
        """The newest schema revision this version of Scribe knows."""
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(self._alembic_config(None))
        head = script.get_current_head()
        assert head is not None
        return head

    def current(self) -> str | None:
        """The database's schema revision (None for an empty database)."""
        from alembic.runtime.migration import MigrationContext

        with self._connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
        return heads[0] if heads else None

    def upgrade(self) -> None:
        """Bring the schema to this version's head; refuse a database that is newer."""
        from alembic import command

        with self._connect() as connection:
            if self.dialect == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                connection.commit()
            try:
                self._refuse_newer(connection)
                command.upgrade(self._alembic_config(connection), "head")
                connection.commit()
            finally:
                if self.dialect == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK}
                    )
                    connection.commit()
        log.info("database %s at schema %s", self.safe_url, self.head())

    def _refuse_newer(self, connection: Any) -> None:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(self._alembic_config(None))
        known = {rev.revision for rev in script.walk_revisions()}
        for revision in MigrationContext.configure(connection).get_current_heads():
            if revision not in known:
                raise ConfigurationError(
                    f"The database {self.safe_url} has schema revision {revision}, which is newer "
                    f"than this version of Scribe knows (its newest is {self.head()}). Upgrade "
                    "Scribe, or point SCRIBE_DATABASE_URL at another database.",
                    code="database_schema_newer",
                )

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except OperationalError as exc:
            raise ConfigurationError(
                f"Cannot use the database {self.safe_url}: {_reason(exc)}.",
                code="database_unavailable",
            ) from None

    def dispose(self) -> None:
        self.engine.dispose()


def _reason(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0][:300] if str(original).strip() else "unknown"
