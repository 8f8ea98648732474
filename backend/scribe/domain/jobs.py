"""Jobs: one transcription request, durable, with its status, progress and outcome.

Every request is a job (a synchronous one is a job its request waits for). A job moves through
``queued -> in_progress -> completed | failed | cancelled``; an interrupted ``in_progress`` job
(the process died) goes back to ``queued``. ``Job`` is immutable: each step returns a new one,
and an illegal step raises ``IllegalTransition``.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from .callbacks import JobCallback
from .errors import Conflict, ScribeError
from .options import Task

JOB_ID_PREFIX = "job_"
MAX_FILENAME = 255


def new_job_id() -> str:
    """``job_`` and 24 random characters (144 bits), like OpenAI's resource ids."""
    return JOB_ID_PREFIX + secrets.token_urlsafe(18).replace("-", "a").replace("_", "b")


# Bidirectional overrides and isolates: they make a name display as another ("txt.exe").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS


def clean_filename(raw: str | bytes | None) -> str | None:
    """The upload's file name as a job keeps it: the base name only (a browser or client may send
    a path, with either slash), control characters dropped, bytes that are not UTF-8 replaced,
    at most ``MAX_FILENAME`` characters; None when nothing is left."""
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:  # a str may carry undecodable bytes as surrogates (``os.fsdecode``): replace them too
        raw_bytes = text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        raw_bytes = text.encode("utf-8", errors="replace")
    text = raw_bytes.decode("utf-8", errors="replace")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if not _is_control(ch))
    text = text.strip()
    if text in ("", ".", ".."):
        return None
    return text[:MAX_FILENAME]


class JobStatus(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


_LEGAL: Mapping[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.IN_PROGRESS, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.IN_PROGRESS: frozenset(
        {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


class IllegalTransition(Conflict):
    """A job was asked to move to a status it cannot reach from its own (e.g. cancel a
    completed job)."""


@dataclass(frozen=True)
class JobProgress:
    """Where a running job is: a stage name (``queued``, ``decoding``, ``transcribing``,
    ``attributing``, ``done``) and the overall fraction done in [0, 1]."""

    stage: str = "queued"
    fraction: float = 0.0


@dataclass(frozen=True)
class JobError:
    """Why a job failed: the domain error's class name (``kind``, which the API maps to an HTTP
    error type) with its message, code and parameter."""

    kind: str
    message: str
    code: str | None = None
    param: str | None = None

    @classmethod
    def of(cls, error: ScribeError) -> JobError:
        return cls(type(error).__name__, error.message, error.code, error.param)


@dataclass(frozen=True)
class JobUsage:
    """What a finished job used: seconds of audio, and seconds spent running it."""

    audio_seconds: float
    processing_seconds: float


@dataclass(frozen=True)
class Job:
    """One transcription or translation request and its state.

    ``request`` is the client's request, serialised (see ``use_cases.job_requests``), so that
    the job can run in another process or after a restart. ``background`` jobs were submitted to
    ``/v1/audio/jobs``; the others are synchronous requests whose client waits (they are not
    re-run after a restart: their client is gone). ``attempts`` counts the runs started.
    ``filename`` is the upload's name (see ``clean_filename``), for people telling jobs apart.
    """

    id: str
    owner: str | None
    task: Task
    model: str | None
    request: Mapping[str, Any]
    created_at: datetime
    status: JobStatus = JobStatus.QUEUED
    background: bool = True
    callback_url: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: JobProgress = field(default_factory=JobProgress)
    error: JobError | None = None
    usage: JobUsage | None = None
    attempts: int = 0
    cancel_requested: bool = False
    filename: str | None = None
    # Where its callback stands (read from the outbox by the store; None without one).
    callback: JobCallback | None = None

    def _to(self, status: JobStatus, **changes: Any) -> Job:
        if status not in _LEGAL[self.status]:
            raise IllegalTransition(
                f"Job {self.id} is {self.status.value}; it cannot become {status.value}.",
                code="invalid_job_state",
            )
        return replace(self, status=status, **changes)

    def start(self, at: datetime) -> Job:
        """Taken by a worker: one more attempt."""
        return self._to(
            JobStatus.IN_PROGRESS,
            started_at=at,
            attempts=self.attempts + 1,
            progress=JobProgress("decoding", 0.0),
        )

    def advance(self, progress: JobProgress) -> Job:
        if self.status is not JobStatus.IN_PROGRESS:
            raise IllegalTransition(
                f"Job {self.id} is {self.status.value}; only a running job makes progress.",
                code="invalid_job_state",
            )
        return replace(self, progress=progress)

    def complete(self, at: datetime, usage: JobUsage) -> Job:
        return self._to(
            JobStatus.COMPLETED, finished_at=at, usage=usage, progress=JobProgress("done", 1.0)
        )

    def fail(self, at: datetime, error: JobError, usage: JobUsage | None = None) -> Job:
        return self._to(JobStatus.FAILED, finished_at=at, error=error, usage=usage)

    def cancel(self, at: datetime) -> Job:
        return self._to(JobStatus.CANCELLED, finished_at=at, cancel_requested=True)

    def request_cancel(self) -> Job:
        """Ask a running job to stop (its worker sees the flag and stops it)."""
        if self.status.terminal:
            raise IllegalTransition(
                f"Job {self.id} is already {self.status.value}.", code="invalid_job_state"
            )
        return replace(self, cancel_requested=True)

    def requeue(self) -> Job:
        """An interrupted run (the process died): back in the queue, progress reset."""
        return self._to(JobStatus.QUEUED, started_at=None, progress=JobProgress())

    def hand_back(self) -> Job:
        """A run stopped by a graceful shutdown: back in the queue, and the attempt not counted
        (the job did not fail; the process was asked to stop)."""
        return replace(self.requeue(), attempts=max(0, self.attempts - 1))

    @property
    def response_format(self) -> str:
        return str(self.request.get("response_format", "json"))
