"""Waiting for a job for an HTTP request: stopped when the client goes away.

``run_cancellable`` runs the work (waiting for a job) in a worker thread and cancels it (through
a ``CancelToken``) once the client disconnects. ``JobStream`` follows a job's events as
OpenAI's server-sent transcription events. Requests are validated before the job is queued, and
the stream waits a moment for its first event before answering 200: a failure right at the start
(an option the engine itself refused, say) is answered with its HTTP status, not as a 200
carrying an error event. While no event is due, comment lines keep the connection (and the
client's read timeout) alive.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import Cancelled, ScribeError
from scribe.domain.jobs import JobStatus
from scribe.domain.options import TranscriptionOptions
from scribe.domain.response_format import ResponseFormat
from scribe.domain.transcript_codec import segment_from_dict
from scribe.ports.job_events import JobEvent
from scribe.use_cases.jobs import Jobs, error_from

from . import formats
from .errors import error_payload

log = logging.getLogger(__name__)

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
DISCONNECT_POLL_SECONDS = 0.25
# How long a stream waits for its first event before answering 200 (errors found by then keep
# their HTTP status), and how often it sends a comment line while no event is due.
COMMIT_AFTER_SECONDS = 2.0
KEEPALIVE_SECONDS = 10.0
KEEPALIVE = ": keep-alive\n\n"
CLIENT_GONE = "The client closed the connection."

T = TypeVar("T")


async def run_cancellable(
    request: Request,
    work: Callable[[CancelToken], T],
    token: CancelToken | None = None,
    poll_seconds: float = DISCONNECT_POLL_SECONDS,
) -> T:
    """Run ``work(token)`` in a worker thread; cancel ``token`` if the client disconnects.

    The work stops at its next safe point and raises ``Cancelled``, which this re-raises.
    """
    token = token or CancelToken()

    async def watch() -> None:
        while not token.cancelled:
            if await request.is_disconnected():
                log.info("client disconnected: cancelling its transcription")
                token.cancel(CLIENT_GONE)
                return
            await anyio.sleep(poll_seconds)

    failure: BaseException | None = None
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(watch)
        try:
            # anyio runs the function in the request's context (its request id).
            result = await anyio.to_thread.run_sync(work, token)
        except BaseException as exc:  # raised below, outside the group (no ExceptionGroup)
            failure = exc
        finally:
            tasks.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result


class JobStream:
    """A synchronous request's job, followed as OpenAI's streamed transcription events.

    Deltas come as segments are decoded; for ``diarized_json`` they come once each segment has
    its speaker, each delta followed by its ``transcript.text.segment`` event (same id). The
    last event is ``transcript.text.done`` (or an ``error`` event). ``start`` waits for the
    first event (raising the job's error if it failed before sending anything); ``events`` then
    yields every event. Leaving ``events`` early (the client went away) cancels the job.
    """

    def __init__(
        self,
        jobs: Jobs,
        job_id: str,
        options: TranscriptionOptions,
        response_format: ResponseFormat,
    ) -> None:
        self._jobs = jobs
        self._job_id = job_id
        self._options = options
        self._speaker_segments = response_format.names_speakers and options.diarize
        self._first_delta = True
        self._last_id = 0
        self._pending: list[str] = []
        self._backlog: list[JobEvent] = []
        self._ended = False
        self._request: Request | None = None

    async def _poll(self, timeout: float) -> list[JobEvent]:
        _, events = await run_in_threadpool(
            self._jobs.follow, None, self._job_id, self._last_id, timeout
        )
        if events:
            self._last_id = events[-1].id
        return events

    def _delta(self, segment_data: dict[str, object]) -> str:
        segment = segment_from_dict(segment_data)  # type: ignore[arg-type]
        event = formats.delta_event(segment, self._first_delta, self._options)
        self._first_delta = False
        return event

    async def _translate(self, event: JobEvent) -> list[str]:
        """The SSE lines for one job event; raises the job's error or Cancelled at its end
        while nothing has been sent yet (``strict``)."""
        data = event.data
        if event.type == "segment.decoded" and not self._speaker_segments:
            segment = data["segment"]
            return [self._delta(segment)] if str(segment["text"]).strip() else []
        if event.type == "segment.attributed" and self._speaker_segments:
            segment = data["segment"]
            if not str(segment["text"]).strip():
                return []
            return [self._delta(segment), formats.segment_event(segment_from_dict(segment))]
        if not event.terminal:
            return []
        self._ended = True
        job = await run_in_threadpool(self._jobs.get, None, self._job_id)
        if job.status is JobStatus.COMPLETED:
            _, transcript, _ = await run_in_threadpool(self._jobs.result, None, self._job_id)
            return [formats.done_event(transcript, self._options)]
        if job.status is JobStatus.FAILED and job.error is not None:
            raise error_from(job.error)
        raise Cancelled(CLIENT_GONE, code="cancelled")

    async def start(self, request: Request, commit_after: float = COMMIT_AFTER_SECONDS) -> None:
        """Return once the first event is ready, or after ``commit_after`` seconds. Raises the
        job's error if it failed before that, and ``Cancelled`` if the client left."""
        self._request = request
        deadline = time.monotonic() + commit_after
        while not self._pending and not self._ended:
            for event in await self._poll(DISCONNECT_POLL_SECONDS):
                if self._pending:  # something to send: later events (errors too) follow it
                    self._backlog.append(event)
                else:
                    self._pending.extend(await self._translate(event))
            if self._pending or self._ended or time.monotonic() >= deadline:
                return
            if await request.is_disconnected():
                await self._cancel()
                raise Cancelled(CLIENT_GONE, code="cancelled")

    async def _cancel(self) -> None:
        await run_in_threadpool(
            lambda: self._jobs.cancel(None, self._job_id, wait=0, reason=CLIENT_GONE)
        )

    async def events(self, keepalive: float = KEEPALIVE_SECONDS) -> AsyncIterator[str]:
        try:
            for item in self._pending:
                yield item
            self._pending = []
            quiet_since = time.monotonic()
            while not self._ended or self._backlog:
                if self._backlog:
                    events, self._backlog = self._backlog, []
                else:
                    events = await self._poll(min(1.0, keepalive))
                for event in events:
                    try:
                        lines = await self._translate(event)
                    except Cancelled:
                        return
                    except ScribeError as exc:
                        yield formats.sse({"type": "error", "error": error_payload(exc)})
                        return
                    for line in lines:
                        yield line
                    quiet_since = time.monotonic()
                if self._request is not None and await self._request.is_disconnected():
                    # Checked here, not left to a failed send: Starlette notices a gone client
                    # only when it next writes, and this stream may be quiet for a while.
                    log.info("client disconnected: cancelling its job")
                    return
                if time.monotonic() - quiet_since >= keepalive:
                    yield KEEPALIVE
                    quiet_since = time.monotonic()
        finally:
            if not self._ended:
                with anyio.CancelScope(shield=True):
                    await self._cancel()
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._jobs.discard, self._job_id)
