"""POST /v1/audio/transcriptions, OpenAI-compatible, with speakers and transcript insights."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from scribe.bootstrap import Services
from scribe.domain.audio import Audio
from scribe.domain.errors import Cancelled, InvalidRequest, ScribeError
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import Segment, Transcript

from .. import formats
from ..deps import get_services
from ..errors import error_payload
from ..requests import known_speakers, transcription_options
from ..schemas import Granularity, ResponseFormat

log = logging.getLogger(__name__)
router = APIRouter(tags=["audio"])

_DESCRIPTION = """
Transcribe an audio or video file (WAV, MP3, FLAC, M4A/AAC, OGG/Opus, WebM, MP4, ...).

Compatible with OpenAI's endpoint of the same name; the `openai` SDKs work unchanged.
Beyond OpenAI's fields: `diarize`, `num_speakers`, `min_speakers`, `max_speakers`,
`detect_paragraphs`, `detect_entities`, `detect_sentiment` and `text_rules[]`.
"""


@router.post(
    "/v1/audio/transcriptions",
    summary="Transcribe audio, with speakers",
    description=_DESCRIPTION,
    responses={
        200: {
            "content": {
                "application/json": {},
                "text/plain": {},
                "text/vtt": {},
                "application/x-subrip": {},
                "text/event-stream": {},
            },
            "description": "The transcript in the requested format (or a stream of events).",
        },
        400: {"description": "Invalid parameter, or the file is not audio"},
        413: {"description": "The file is larger than the server's limit"},
        503: {"description": "Models still loading, or unavailable"},
    },
)
async def create_transcription(
    services: Annotated[Services, Depends(get_services)],
    file: Annotated[UploadFile | None, File(description="The audio or video file.")] = None,
    model: Annotated[str | None, Form(description="Model id from GET /v1/models.")] = None,
    language: Annotated[str | None, Form(description="ISO-639-1 code, e.g. `en`.")] = None,
    prompt: Annotated[str | None, Form(description="Text to guide spelling and style.")] = None,
    response_format: Annotated[ResponseFormat, Form()] = "json",
    temperature: Annotated[float, Form(description="Sampling temperature, 0 to 1.")] = 0.0,
    timestamp_granularities: Annotated[
        list[Granularity] | None,
        Form(alias="timestamp_granularities[]", description="`word` and/or `segment`."),
    ] = None,
    stream: Annotated[bool, Form(description="Stream server-sent events.")] = False,
    diarize: Annotated[
        bool | None, Form(description="Attribute speakers (default: on when a diarizer is set up).")
    ] = None,
    num_speakers: Annotated[int | None, Form(description="Exact number of speakers.")] = None,
    min_speakers: Annotated[int | None, Form()] = None,
    max_speakers: Annotated[int | None, Form()] = None,
    known_speaker_names: Annotated[
        list[str] | None,
        Form(alias="known_speaker_names[]", description="Names of known speakers."),
    ] = None,
    known_speaker_references: Annotated[
        list[str] | None,
        Form(
            alias="known_speaker_references[]",
            description="2-10 s voice clip per name, as data URLs (`data:audio/wav;base64,...`).",
        ),
    ] = None,
    detect_paragraphs: Annotated[bool, Form()] = False,
    detect_entities: Annotated[bool, Form()] = False,
    detect_sentiment: Annotated[bool, Form()] = False,
    text_rules: Annotated[
        list[str] | None,
        Form(alias="text_rules[]", description="Names of text rule sets to apply."),
    ] = None,
) -> Response:
    if file is None or not hasattr(file, "file"):
        raise InvalidRequest(
            "Missing required parameter 'file': send the audio as a multipart file field.",
            param="file",
            code="missing_file",
        )
    services.warm_up.require_ready()
    granularities = set(timestamp_granularities or [])
    if granularities and response_format != "verbose_json":
        raise InvalidRequest(
            "timestamp_granularities[] is only supported with response_format=verbose_json.",
            param="timestamp_granularities",
        )
    if diarize is None:
        diarize = services.diarizer is not None and services.settings.diarize_by_default
    if response_format == "diarized_json" or known_speaker_names:
        diarize = True
    if diarize and services.diarizer is None:
        raise InvalidRequest(
            "Speaker diarization is turned off on this server (SCRIBE_DIARIZER=none).",
            param="diarize",
        )
    options = transcription_options(
        model=model,
        language=language,
        prompt=prompt,
        temperature=temperature,
        # speakers, paragraphs and entities are placed by their words' times
        word_timestamps="word" in granularities or diarize or detect_paragraphs or detect_entities,
        diarize=diarize,
        num_speakers=num_speakers,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
        detect_paragraphs=detect_paragraphs,
        detect_entities=detect_entities,
        detect_sentiment=detect_sentiment,
        text_rules=text_rules,
    )
    services.transcribe.check(options)  # a bad model or rule set is a 400 before any decoding
    known = await run_in_threadpool(
        known_speakers, known_speaker_names, known_speaker_references, services.decoder
    )
    options = replace(options, known_speakers=known)
    audio = await run_in_threadpool(services.transcribe.decode, file.file)
    if stream:
        return StreamingResponse(
            _events(services, audio, options),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    transcript = await run_in_threadpool(services.transcribe.transcribe, audio, options)
    body = formats.render(
        transcript,
        response_format,
        words="word" in granularities,
        segments="segment" in granularities or not granularities,
    )
    return Response(body, media_type=formats.MEDIA_TYPES[response_format])


class _StreamSink:
    """Forwards decoded segments from the worker thread to the event loop; stops the work
    (by raising Cancelled from the engine's callback) once the client has gone."""

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


async def _events(
    services: Services, audio: Audio, options: TranscriptionOptions
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    sink = _StreamSink(loop, queue)

    def work() -> None:
        try:
            transcript: Transcript = services.transcribe.transcribe(audio, options, sink)
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
