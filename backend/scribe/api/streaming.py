"""Running a transcription for an HTTP request: stopped when the client goes away.

``run_cancellable`` runs the work in a worker thread and cancels it (through a ``CancelToken``)
once the client disconnects. ``TranscriptionStream`` does the same for server-sent events: a
worker thread runs the use case and the event loop sends each event as it comes. Requests are
validated before the stream starts, and the stream waits a moment for its first event before
answering 200: a failure right at the start (an option the engine itself refused, say) is
answered with its HTTP status, not as a 200 carrying an error event. While no event is due,
comment lines keep the connection (and the client's read timeout) alive.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio
from starlette.requests import Request

from scribe.domain.audio import Audio
from scribe.domain.cancellation import CancelToken
from scribe.domain.errors import Cancelled, ScribeError
from scribe.domain.options import TranscriptionOptions
from scribe.domain.response_format import ResponseFormat
from scribe.domain.transcript import Segment
from scribe.use_cases.transcribe import TranscribeAudio

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


class _StreamSink:
    """The use case's ProgressSink: turns segments into events, queued for the event loop.

    Deltas come as segments are decoded; for ``diarized_json`` they come once each segment has
    its speaker, each delta followed by its ``transcript.text.segment`` event (same id).
    """

    def __init__(
        self,
        put: Callable[[str | ScribeError | None], None],
        options: TranscriptionOptions,
        response_format: ResponseFormat,
    ) -> None:
        self._put = put
        self._options = options
        self._speaker_segments = response_format.names_speakers and options.diarize
        self._first = True

    def _delta(self, segment: Segment) -> None:
        self._put(formats.delta_event(segment, self._first, self._options))
        self._first = False

    def on_segment(self, segment: Segment) -> None:
        if not self._speaker_segments and segment.text.strip():
            self._delta(segment)

    def on_attributed(self, segment: Segment) -> None:
        if self._speaker_segments and segment.text.strip():
            self._delta(segment)
            self._put(formats.segment_event(segment))

    def on_progress(self, fraction: float, stage: str) -> None:
        pass


class TranscriptionStream:
    """The server-sent events of one transcription.

    ``start`` begins the work and waits for its first event (raising the error if the work failed
    before sending anything); ``events`` then yields every event, the first included. Leaving
    ``events`` early (the client went away) cancels the work.
    """

    def __init__(
        self,
        transcribe: TranscribeAudio,
        audio: Audio,
        options: TranscriptionOptions,
        response_format: ResponseFormat,
    ) -> None:
        self._transcribe = transcribe
        self._audio = audio
        self._options = options
        self._format = response_format
        self._token = CancelToken()
        self._queue: asyncio.Queue[str | ScribeError | None] = asyncio.Queue()
        self._first: str | None = None

    def _work(self, put: Callable[[str | ScribeError | None], None]) -> None:
        sink = _StreamSink(put, self._options, self._format)
        try:
            transcript = self._transcribe.transcribe(self._audio, self._options, sink, self._token)
            put(formats.done_event(transcript, self._options))
        except Cancelled:
            pass
        except ScribeError as exc:
            put(exc)
        except Exception:
            log.exception("streamed transcription failed")
            put(ScribeError("The server failed unexpectedly; see its log."))
        finally:
            put(None)

    async def start(self, request: Request, commit_after: float = COMMIT_AFTER_SECONDS) -> None:
        """Start the work; return once its first event is ready, or after ``commit_after``
        seconds. Raises the work's error if it failed before that, and ``Cancelled`` if the
        client left."""
        loop = asyncio.get_running_loop()

        def put(item: str | ScribeError | None) -> None:
            loop.call_soon_threadsafe(self._queue.put_nowait, item)

        context = contextvars.copy_context()  # the worker logs with this request's id
        worker = threading.Thread(
            target=context.run, args=(self._work, put), name="stream-transcribe", daemon=True
        )
        worker.start()
        deadline = loop.time() + commit_after
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), DISCONNECT_POLL_SECONDS)
            except TimeoutError:
                if loop.time() >= deadline:
                    return  # still working: answer 200 now, events follow
                if await request.is_disconnected():
                    self._token.cancel(CLIENT_GONE)
                    raise Cancelled(CLIENT_GONE, code="cancelled") from None
                continue
            if isinstance(item, ScribeError):
                raise item
            if item is None:  # cancelled before anything was sent
                raise Cancelled(self._token.reason, code="cancelled")
            self._first = item
            return

    async def events(self, keepalive: float = KEEPALIVE_SECONDS) -> AsyncIterator[str]:
        try:
            if self._first is not None:
                yield self._first
            while True:
                try:
                    item = await asyncio.wait_for(self._queue.get(), keepalive)
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                if item is None:
                    return
                if isinstance(item, ScribeError):
                    yield formats.sse({"type": "error", "error": error_payload(item)})
                else:
                    yield item
        finally:
            self._token.cancel(CLIENT_GONE)
