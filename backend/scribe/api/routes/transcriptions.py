"""POST /v1/audio/transcriptions, OpenAI-compatible, with speakers and transcript insights."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from scribe.domain.errors import InvalidRequest
from scribe.domain.response_format import ResponseFormat
from scribe.use_cases.options import TranscriptionRequest

from .. import formats
from ..deps import ServicesDep
from ..requests import reference_clips
from ..schemas import (
    ErrorResponse,
    Granularity,
    TranscriptionDiarizedJson,
    TranscriptionJson,
    TranscriptionVerboseJson,
)
from ..streaming import STREAM_HEADERS, transcription_events

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
            "model": TranscriptionVerboseJson | TranscriptionDiarizedJson | TranscriptionJson,
            "content": {
                "application/json": {},
                "text/plain": {},
                "text/vtt": {},
                "application/x-subrip": {},
                "text/event-stream": {},
            },
            "description": "The transcript in the requested format (or a stream of events).",
        },
        400: {"model": ErrorResponse, "description": "Invalid parameter, or the file is not audio"},
        413: {"model": ErrorResponse, "description": "The file is larger than the server's limit"},
        503: {"model": ErrorResponse, "description": "Models still loading, or unavailable"},
    },
)
async def create_transcription(
    services: ServicesDep,
    file: Annotated[UploadFile | None, File(description="The audio or video file.")] = None,
    model: Annotated[str | None, Form(description="Model id from GET /v1/models.")] = None,
    language: Annotated[str | None, Form(description="ISO-639-1 code, e.g. `en`.")] = None,
    prompt: Annotated[str | None, Form(description="Text to guide spelling and style.")] = None,
    response_format: Annotated[ResponseFormat, Form()] = ResponseFormat.JSON,
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
    if granularities and response_format is not ResponseFormat.VERBOSE_JSON:
        raise InvalidRequest(
            "timestamp_granularities[] is only supported with response_format=verbose_json.",
            param="timestamp_granularities",
        )
    request = TranscriptionRequest(
        model=model,
        language=language,
        prompt=prompt,
        temperature=temperature,
        response_format=response_format,
        word_timestamps="word" in granularities,
        diarize=diarize,
        num_speakers=num_speakers,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
        known_speakers=reference_clips(known_speaker_names, known_speaker_references),
        detect_paragraphs=detect_paragraphs,
        detect_entities=detect_entities,
        detect_sentiment=detect_sentiment,
        text_rules=tuple(text_rules or ()),
    )
    # Every check runs here, before the upload is decoded: a bad model or rule set is a 400 at once.
    options = await run_in_threadpool(services.options.build, request)
    audio = await run_in_threadpool(services.transcribe.decode, file.file)
    if stream:
        return StreamingResponse(
            transcription_events(services.transcribe, audio, options),
            media_type="text/event-stream",
            headers=STREAM_HEADERS,
        )
    transcript = await run_in_threadpool(services.transcribe.transcribe, audio, options)
    body = formats.render(
        transcript,
        response_format,
        words="word" in granularities,
        segments="segment" in granularities or not granularities,
    )
    return Response(body, media_type=formats.MEDIA_TYPES[response_format])
