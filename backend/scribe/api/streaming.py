"""Server-sent events of a transcription: a worker thread runs the use case, the event loop sends.

The bridge forwards each decoded segment from the worker thread to the response as it comes, and
stops the work (by raising Cancelled from the engine's callback) once the client has gone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator

from scribe.domain.audio import Audio
from scribe.domain.errors import Cancelled, ScribeError
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import Segment
from scribe.use_cases.transcribe import TranscribeAudio

from . import formats
from .errors import error_payload

log = logging.getLogger(__name__)

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class _StreamSink:
    """The use case's ProgressSink: queues events for the event loop, from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        self._loop = loop
        self._queue = queue
        self._first = True
        self.cancelled = threading.Event()

    def put(self, event: str | None) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    def on_segment(self, segment: Segment) -> None:
        if self.cancelled.is_set():
            raise Cancelled("The client closed the stream.")
        if segment.text.strip():
            self.put(formats.delta_event(segment, self._first))
            self._first = False

    def on_progress(self, fraction: float, stage: str) -> None:
        pass


async def transcription_events(
    transcribe: TranscribeAudio, audio: Audio, options: TranscriptionOptions
) -> AsyncIterator[str]:
    """Deltas as segments are decoded, then speaker segments (when diarizing), then done; an
    ``error`` event if the work fails."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    sink = _StreamSink(loop, queue)

    def work() -> None:
        try:
            transcript = transcribe.transcribe(audio, options, sink)
            if options.diarize:
                for segment in transcript.segments:
                    sink.put(formats.segment_event(segment))
            sink.put(formats.done_event(transcript))
        except Cancelled:
            pass
        except ScribeError as exc:
            sink.put(formats.sse({"type": "error", "error": error_payload(exc)}))
        except Exception:
            log.exception("streamed transcription failed")
            failure = ScribeError("The server failed unexpectedly; see its log.")
            sink.put(formats.sse({"type": "error", "error": error_payload(failure)}))
        finally:
            sink.put(None)

    worker = threading.Thread(target=work, name="stream-transcribe", daemon=True)
    worker.start()
    try:
        while (event := await queue.get()) is not None:
            yield event
    finally:
        sink.cancelled.set()
