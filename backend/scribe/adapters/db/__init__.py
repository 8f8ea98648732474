"""The service's one database (SQLAlchemy 2, Alembic migrations): SQLite by default, PostgreSQL
when ``SCRIBE_DATABASE_URL`` names one. Keys and usage now; jobs build on the same engine."""

from .database import Database, default_url

__all__ = ["Database", "default_url"]
