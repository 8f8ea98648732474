"""Jobs as the API shows them (``JobOut``): GET answers, list pages, events and callbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scribe.domain.jobs import Job, JobError
from scribe.use_cases.jobs import error_from

from .errors import status_of
from .schemas import ErrorBody, JobCallbackOut, JobOut, JobProgressOut, JobUsageOut


def _unix(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def error_body(error: JobError) -> ErrorBody:
    exc = error_from(error)
    _, type_ = status_of(exc)
    return ErrorBody(message=error.message, type=type_, param=error.param, code=error.code)


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        status=job.status.value,
        task=job.task.value,
        model=job.model,
        response_format=job.response_format,
        created_at=int(job.created_at.timestamp()),
        started_at=_unix(job.started_at),
        finished_at=_unix(job.finished_at),
        progress=JobProgressOut(stage=job.progress.stage, fraction=job.progress.fraction),
        error=None if job.error is None else error_body(job.error),
        usage=None
        if job.usage is None
        else JobUsageOut(
            seconds=round(job.usage.audio_seconds, 3),
            processing_seconds=round(job.usage.processing_seconds, 3),
        ),
        callback_url=job.callback_url,
        attempts=job.attempts,
        filename=job.filename,
        callback=None
        if job.callback is None
        else JobCallbackOut(
            url=job.callback.url,
            status=job.callback.status.value,
            attempts=job.callback.attempts,
            last_error=job.callback.last_error,
            delivered_at=_unix(job.callback.delivered_at),
        ),
    )


def job_object(job: Job) -> dict[str, Any]:
    """The job as GET /v1/audio/jobs/{id} returns it, as plain data."""
    return job_out(job).model_dump(mode="json")
