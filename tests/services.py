"""Throwaway PostgreSQL and Redis servers for the tests (``scribe.devtools.services``): in CI
(CI=true) a missing server fails the tests that need it; elsewhere they are skipped with the
reason, and the SQLite and in-memory runs of the same tests still run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from scribe.devtools import services
from scribe.devtools.services import free_port

__all__ = ["free_port", "postgres_server", "redis_server"]


def _missing(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh PostgreSQL cluster; yields the URL of its ``postgres`` database."""
    with services.postgres_server(on_missing=_missing) as url:
        yield url


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A fresh Redis with no persistence; yields its URL."""
    with services.redis_server(on_missing=_missing) as url:
        yield url
