"""What a log line is about besides its message: the request and the job it belongs to.

``api/request_context`` sets ``REQUEST_ID`` for each HTTP request; the job runner sets
``JOB_ID`` while it runs a job. Threads started with ``contextvars.copy_context()`` (anyio's
worker threads, a job's diarization thread) inherit both, so every line logged on the way
carries them (see ``logging_setup``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("scribe_request_id", default=None)
JOB_ID: ContextVar[str | None] = ContextVar("scribe_job_id", default=None)


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Log lines inside carry ``job_id``."""
    token = JOB_ID.set(job_id)
    try:
        yield
    finally:
        JOB_ID.reset(token)
