"""/v1/audio/jobs: transcription jobs for long recordings (submit, status, result, events,
cancel, delete), in the shape of OpenAI's job resources."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from scribe.bootstrap import Services
from scribe.domain.caller import Caller
from scribe.domain.errors import InvalidRequest, ScribeError
from scribe.domain.jobs import Job, JobStatus
from scribe.domain.options import Task
from scribe.domain.response_format import ResponseFormat
from scribe.domain.transcript_codec import segment_from_dict
from scribe.ports.job_events import JobEvent

from .. import formats
from ..auth import CallerDep
from ..deps import ServicesDep
from ..errors import error_payload
from ..job_objects import error_body, job_object
from ..schemas import ErrorResponse, JobDeleted, JobList, JobOut
from ..streaming import KEEPALIVE, KEEPALIVE_SECONDS, STREAM_HEADERS
from .transcriptions import CommonDep, ExtrasDep, request_of, upload_of

router = APIRouter(tags=["jobs"])

_SUBMIT = """
Queue a transcription (or translation) of an audio or video file and answer at once with the
job (202). Takes every field of `/v1/audio/transcriptions` (except `stream`), plus `task`
(`transcribe` or `translate`) and `callback_url` (called when the job ends, signed as the
Standard Webhooks spec says). Follow it with `GET /v1/audio/jobs/{id}` or its `events`; fetch
the result in any format from `.../result`. The request is checked before it is queued (400); a
full queue answers 503 with `Retry-After`.
"""

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such job (or another key's)"},
}

JOB_RESULT_MEDIA: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {},
            "text/plain": {},
            "text/vtt": {},
            "application/x-subrip": {},
        },
        "description": "The transcript in the requested format.",
    },
    409: {"model": ErrorResponse, "description": "The job has not completed (yet)"},
    **_ERRORS,
}


@router.post(
    "/v1/audio/jobs",
    status_code=202,
    summary="Submit a transcription job",
    description=_SUBMIT,
    response_model=JobOut,
    responses={
        400: {"model": ErrorResponse, "description": "Invalid parameter"},
        503: {"model": ErrorResponse, "description": "The queue is full, or models failed"},
    },
)
async def create_job(
    services: ServicesDep,
    caller: CallerDep,
    common: CommonDep,
    extras: ExtrasDep,
    task: Annotated[Task, Form(description="`transcribe`, or `translate` into English.")] = (
        Task.TRANSCRIBE
    ),
    callback_url: Annotated[
        str | None,
        Form(description="An https URL called (POST) when the job ends."),
    ] = None,
) -> JSONResponse:
    if services.warm_up.error is not None:
        raise services.warm_up.error  # models that failed to load will not run it later either
    upload = upload_of(common)
    request = request_of(common, task, **extras.fields())
    await run_in_threadpool(services.runner.start)  # (started at startup; apps without lifespan)
    url = callback_url.strip() if callback_url and callback_url.strip() else None
    submission = await run_in_threadpool(
        services.jobs.submit,
        caller,
        request,
        upload.file,
        background=True,
        callback_url=url,
        filename=upload.filename,
    )
    return JSONResponse(job_object(submission.job), status_code=202)


@router.get("/v1/audio/jobs", summary="List your jobs, newest first", response_model=JobList)
async def list_jobs(
    services: ServicesDep,
    caller: CallerDep,
    limit: Annotated[int, Query(description="Jobs per page, 1 to 100.")] = 20,
    after: Annotated[str | None, Query(description="The last job id of the page before.")] = None,
    status: Annotated[
        list[str] | None,
        Query(
            description="Only jobs in this status: `queued`, `in_progress` (or `running`), "
            "`completed`, `failed`, `cancelled`. Repeat it (or separate with commas) for "
            "several."
        ),
    ] = None,
) -> JobList:
    jobs, more = await run_in_threadpool(
        services.jobs.page, caller, limit=limit, after=after, statuses=status or ()
    )
    data = [JobOut.model_validate(job_object(job)) for job in jobs]
    return JobList(
        data=data,
        first_id=jobs[0].id if jobs else None,
        last_id=jobs[-1].id if jobs else None,
        has_more=more,
    )


@router.get("/v1/audio/jobs/{job_id}", summary="A job", response_model=JobOut, responses=_ERRORS)
async def get_job(services: ServicesDep, caller: CallerDep, job_id: str) -> JSONResponse:
    job = await run_in_threadpool(services.jobs.get, caller, job_id)
    return JSONResponse(job_object(job))


@router.get(
    "/v1/audio/jobs/{job_id}/result",
    summary="A completed job's transcript, in any format",
    responses=JOB_RESULT_MEDIA,
)
async def get_job_result(
    services: ServicesDep,
    caller: CallerDep,
    job_id: str,
    response_format: Annotated[
        ResponseFormat | None,
        Query(description="Any response format; default: the one the job was submitted with."),
    ] = None,
) -> Response:
    job, transcript, options = await run_in_threadpool(services.jobs.result, caller, job_id)
    chosen = response_format or ResponseFormat(job.response_format)
    body = formats.render(transcript, chosen, options)
    return Response(body, media_type=formats.MEDIA_TYPES[chosen])


@router.post(
    "/v1/audio/jobs/{job_id}/cancel",
    summary="Cancel a queued or running job",
    response_model=JobOut,
    responses={**_ERRORS, 409: {"model": ErrorResponse, "description": "The job has ended"}},
)
async def cancel_job(services: ServicesDep, caller: CallerDep, job_id: str) -> JSONResponse:
    job = await run_in_threadpool(services.jobs.cancel, caller, job_id)
    return JSONResponse(job_object(job))


@router.delete(
    "/v1/audio/jobs/{job_id}",
    summary="Delete a job with its audio and result",
    response_model=JobDeleted,
    responses=_ERRORS,
)
async def delete_job(services: ServicesDep, caller: CallerDep, job_id: str) -> JobDeleted:
    await run_in_threadpool(services.jobs.delete, caller, job_id)
    return JobDeleted(id=job_id)


@router.get(
    "/v1/audio/jobs/{job_id}/events",
    summary="A job's progress and partial segments as server-sent events",
    description="Events in order, each with an `id`; reconnect with `Last-Event-ID` to resume. "
    "`job.in_progress`, `job.progress` (`stage`, `fraction`), `transcript.text.segment` (each "
    "finished segment, with its speaker), and last `job.completed` (with the job and its "
    "`result` in the job's format), `job.failed` (with `error`) or `job.cancelled`.",
    responses={200: {"content": {"text/event-stream": {}}}, **_ERRORS},
)
async def job_events(
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    job_id: str,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    last = _event_id(last_event_id)
    await run_in_threadpool(services.jobs.get, caller, job_id)  # 404 before the stream starts
    return StreamingResponse(
        _follow(request, services, caller, job_id, last),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )


def _event_id(value: str | None) -> int:
    if value is None or not value.strip():
        return 0
    try:
        number = int(value.strip())
    except ValueError:
        number = -1
    if number < 0:
        raise InvalidRequest(
            "Last-Event-ID must be an event id this stream sent (a whole number).",
            param="Last-Event-ID",
        )
    return number


async def _follow(
    request: Request, services: Services, caller: Caller, job_id: str, last: int
) -> AsyncIterator[str]:
    quiet = 0.0
    while True:
        try:
            job, events = await run_in_threadpool(services.jobs.follow, caller, job_id, last, 1.0)
        except ScribeError as exc:  # deleted meanwhile
            yield formats.sse({"type": "error", "error": error_payload(exc)})
            return
        for event in events:
            last = event.id
            try:
                payload = await _payload(services, caller, job, event)
            except ScribeError as exc:
                yield formats.sse({"type": "error", "error": error_payload(exc)})
                return
            if payload is not None:
                yield f"id: {event.id}\ndata: {json.dumps(payload)}\n\n"
            if event.terminal:
                return
        quiet = 0.0 if events else quiet + 1.0
        if quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield KEEPALIVE
        if await request.is_disconnected():
            return


async def _payload(
    services: Services, caller: Caller, job: Job, event: JobEvent
) -> dict[str, Any] | None:
    base: dict[str, Any] = {"type": event.type, "job_id": job.id}
    data = event.data
    match event.type:
        case "job.in_progress":
            return {**base, "attempt": data.get("attempt")}
        case "job.progress":
            return {**base, "stage": data.get("stage"), "fraction": data.get("fraction")}
        case "segment.decoded" | "segment.attributed":
            if not data.get("final"):
                return None  # decoded before its speaker is known: the attributed one follows
            segment = formats.diarized_segment(segment_from_dict(data["segment"]))
            return {**base, **segment.model_dump(), "type": "transcript.text.segment"}
    if not event.terminal:
        return None
    job = await run_in_threadpool(services.jobs.get, caller, job.id)
    payload = {**base, "job": job_object(job)}
    if job.status is JobStatus.COMPLETED:
        payload["result"] = await _result(services, caller, job)
    elif job.error is not None:
        payload["error"] = error_body(job.error).model_dump()
    return payload


async def _result(services: Services, caller: Caller, job: Job) -> Any:
    _, transcript, options = await run_in_threadpool(services.jobs.result, caller, job.id)
    chosen = ResponseFormat(job.response_format)
    body = formats.render(transcript, chosen, options)
    return json.loads(body) if formats.MEDIA_TYPES[chosen] == "application/json" else body
