"""Alembic migrations, shipped inside the package (run by `scribe db upgrade` and at startup)."""
