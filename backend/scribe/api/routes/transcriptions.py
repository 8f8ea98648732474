"""POST /v1/audio/transcriptions and /v1/audio/translations, OpenAI-compatible, with speakers and
transcript insights."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from scribe.bootstrap import Services
from scribe.domain.errors import Cancelled, InvalidRequest
from scribe.domain.jobs import JobStatus
from scribe.domain.options import Task, VadChunking
from scribe.domain.response_format import ResponseFormat
from scribe.use_cases.jobs import error_from
from scribe.use_cases.options import ReferenceClip, TranscriptionRequest

from .. import formats
from ..deps import ServicesDep
from ..requests import chunking_strategy, reference_clips, with_plain_spelling
from ..schemas import (
    ErrorResponse,
    TranscriptionDiarizedJson,
    TranscriptionJson,
    TranscriptionVerboseJson,
)
from ..streaming import STREAM_HEADERS, JobStream, run_cancellable

log = logging.getLogger(__name__)
router = APIRouter(tags=["audio"])

_TRANSCRIPTIONS = """
Transcribe an audio or video file (WAV, MP3, FLAC, M4A/AAC, OGG/Opus, WebM, MP4, ...).

Compatible with OpenAI's endpoint of the same name; the `openai` SDKs work unchanged. With
OpenAI's model ids (`whisper-1`, `gpt-4o-transcribe`, ...) speakers are attributed only when the
request asks (`diarize=true`, `response_format=diarized_json`, known speakers, or
`gpt-4o-transcribe-diarize`); with this server's own ids the server's default applies.
Beyond OpenAI's fields: `diarize`, `num_speakers`, `min_speakers`, `max_speakers`,
`detect_paragraphs`, `detect_entities`, `detect_sentiment` and `text_rules[]`. List fields may be
sent as `name[]` (as the SDKs do) or `name`.
"""

_TRANSLATIONS = """
Translate speech in any language Whisper knows into English text (Whisper's translate task).

Compatible with OpenAI's endpoint of the same name. Only engines that can translate serve it (the
Whisper engines); naming another answers 400 with the engines that can. Accepts this server's own
fields too (`language` as a hint of the spoken language, speakers, insights, text rules).
"""

_RESPONSES: dict[int | str, dict[str, Any]] = {
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
    503: {
        "model": ErrorResponse,
        "description": "Models still loading or unavailable, or the queue is full",
    },
}


@dataclass(frozen=True)
class CommonFields:
    """The fields both endpoints take."""

    file: UploadFile | None
    model: str | None
    prompt: str | None
    response_format: ResponseFormat
    temperature: float
    language: str | None
    diarize: bool | None
    num_speakers: int | None
    min_speakers: int | None
    max_speakers: int | None
    detect_paragraphs: bool
    detect_entities: bool
    detect_sentiment: bool
    text_rules: tuple[str, ...]


async def common_fields(
    request: Request,
    file: Annotated[UploadFile | None, File(description="The audio or video file.")] = None,
    model: Annotated[
        str | None,
        Form(description="A model id from GET /v1/models (OpenAI's ids work too)."),
    ] = None,
    prompt: Annotated[
        str | None, Form(description="Text to guide spelling and style (Whisper engines).")
    ] = None,
    response_format: Annotated[ResponseFormat, Form()] = ResponseFormat.JSON,
    temperature: Annotated[
        float, Form(description="Sampling temperature, 0 to 1 (Whisper engines).")
    ] = 0.0,
    language: Annotated[
        str | None,
        Form(description="The spoken language: ISO-639-1 (`en`), BCP-47 (`en-US`) or a name."),
    ] = None,
    diarize: Annotated[
        bool | None,
        Form(description="Attribute speakers (default: see the endpoint's description)."),
    ] = None,
    num_speakers: Annotated[int | None, Form(description="Exact number of speakers.")] = None,
    min_speakers: Annotated[int | None, Form()] = None,
    max_speakers: Annotated[int | None, Form()] = None,
    detect_paragraphs: Annotated[bool, Form()] = False,
    detect_entities: Annotated[bool, Form()] = False,
    detect_sentiment: Annotated[bool, Form()] = False,
    text_rules: Annotated[
        list[str] | None,
        Form(alias="text_rules[]", description="Names of text rule sets to apply."),
    ] = None,
) -> CommonFields:
    form = await request.form()
    return CommonFields(
        file=file,
        model=model,
        prompt=prompt,
        response_format=response_format,
        temperature=temperature,
        language=language,
        diarize=diarize,
        num_speakers=num_speakers,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
        detect_paragraphs=detect_paragraphs,
        detect_entities=detect_entities,
        detect_sentiment=detect_sentiment,
        text_rules=with_plain_spelling(text_rules, form, "text_rules"),
    )


CommonDep = Annotated[CommonFields, Depends(common_fields)]


def upload_of(common: CommonFields) -> UploadFile:
    file = common.file
    if file is None or not hasattr(file, "file"):
        raise InvalidRequest(
            "Missing required parameter 'file': send the audio as a multipart file field.",
            param="file",
            code="missing_file",
        )
    return file


@dataclass(frozen=True)
class TranscriptionExtras:
    """The fields /v1/audio/transcriptions takes beyond the common ones (jobs take them too)."""

    timestamp_granularities: tuple[str, ...]
    include: tuple[str, ...]
    chunking_strategy: VadChunking | None
    keywords: tuple[str, ...]
    languages: tuple[str, ...]
    known_speakers: tuple[ReferenceClip, ...]

    def fields(self) -> dict[str, Any]:
        return {
            "timestamp_granularities": self.timestamp_granularities,
            "include": self.include,
            "chunking_strategy": self.chunking_strategy,
            "keywords": self.keywords,
            "languages": self.languages,
            "known_speakers": self.known_speakers,
        }


async def transcription_extras(
    request: Request,
    timestamp_granularities: Annotated[
        list[str] | None,
        Form(alias="timestamp_granularities[]", description="`word` and/or `segment`."),
    ] = None,
    include: Annotated[
        list[str] | None,
        Form(alias="include[]", description="`logprobs`: word log probabilities (json only)."),
    ] = None,
    chunking_strategy_: Annotated[
        str | None,
        Form(
            alias="chunking_strategy",
            description="`auto`, or a `server_vad` object (`chunking_strategy[type]=server_vad`, "
            "`[threshold]`, `[prefix_padding_ms]`, `[silence_duration_ms]`): cut the audio at "
            "pauses found by voice-activity detection (Whisper engines).",
        ),
    ] = None,
    keywords: Annotated[
        list[str] | None,
        Form(alias="keywords[]", description="Words or phrases to favour (Whisper engines)."),
    ] = None,
    languages: Annotated[
        list[str] | None,
        Form(alias="languages[]", description="Languages the audio may be in: detect among them."),
    ] = None,
    known_speaker_names: Annotated[
        list[str] | None,
        Form(alias="known_speaker_names[]", description="Names of up to 4 known speakers."),
    ] = None,
    known_speaker_references: Annotated[
        list[str] | None,
        Form(
            alias="known_speaker_references[]",
            description="2-10 s voice clip per name, as data URLs (`data:audio/wav;base64,...`).",
        ),
    ] = None,
) -> TranscriptionExtras:
    form = await request.form()
    names = with_plain_spelling(known_speaker_names, form, "known_speaker_names")
    references = with_plain_spelling(known_speaker_references, form, "known_speaker_references")
    return TranscriptionExtras(
        timestamp_granularities=with_plain_spelling(
            timestamp_granularities, form, "timestamp_granularities"
        ),
        include=with_plain_spelling(include, form, "include"),
        chunking_strategy=chunking_strategy(form),
        keywords=with_plain_spelling(keywords, form, "keywords"),
        languages=with_plain_spelling(languages, form, "languages"),
        known_speakers=reference_clips(list(names), list(references)),
    )


ExtrasDep = Annotated[TranscriptionExtras, Depends(transcription_extras)]


@router.post(
    "/v1/audio/transcriptions",
    summary="Transcribe audio, with speakers",
    description=_TRANSCRIPTIONS,
    responses=_RESPONSES,
)
async def create_transcription(
    request: Request,
    services: ServicesDep,
    common: CommonDep,
    extras: ExtrasDep,
    stream: Annotated[bool, Form(description="Stream server-sent events.")] = False,
) -> Response:
    upload = upload_of(common)
    transcription = request_of(common, Task.TRANSCRIBE, **extras.fields())
    return await _respond(request, services, transcription, upload, stream=stream)


@router.post(
    "/v1/audio/translations",
    summary="Translate speech into English text",
    description=_TRANSLATIONS,
    responses=_RESPONSES,
)
async def create_translation(
    request: Request, services: ServicesDep, common: CommonDep
) -> Response:
    upload = upload_of(common)
    return await _respond(
        request, services, request_of(common, Task.TRANSLATE), upload, stream=False
    )


def request_of(common: CommonFields, task: Task, **fields: Any) -> TranscriptionRequest:
    return TranscriptionRequest(
        model=common.model,
        task=task,
        language=common.language,
        prompt=common.prompt,
        temperature=common.temperature,
        response_format=common.response_format,
        diarize=common.diarize,
        num_speakers=common.num_speakers,
        min_speakers=common.min_speakers,
        max_speakers=common.max_speakers,
        detect_paragraphs=common.detect_paragraphs,
        detect_entities=common.detect_entities,
        detect_sentiment=common.detect_sentiment,
        text_rules=common.text_rules,
        **fields,
    )


async def _respond(
    request: Request,
    services: Services,
    transcription: TranscriptionRequest,
    upload: UploadFile,
    *,
    stream: bool,
) -> Response:
    """Submit the request as a job and wait for it (or stream its events): one queue bounds
    every transcription. Every check runs before the upload is queued: a bad model or rule set
    is a 400 at once; a full queue a 503 with Retry-After."""
    services.warm_up.require_ready()
    caller = getattr(request.state, "caller", None)
    await run_in_threadpool(services.runner.start)  # (started at startup; apps without lifespan)
    submission = await run_in_threadpool(
        services.jobs.submit,
        caller,
        transcription,
        upload.file,
        background=False,
        filename=upload.filename,
    )
    job_id, options = submission.job.id, submission.options
    response_format = transcription.response_format
    if stream:
        events = JobStream(services.jobs, job_id, options, response_format)
        try:
            await events.start(request)  # an error before the first event keeps its HTTP status
        except BaseException:
            await run_in_threadpool(services.jobs.discard, job_id)
            raise
        return StreamingResponse(
            events.events(), media_type="text/event-stream", headers=STREAM_HEADERS
        )
    try:
        job = await run_cancellable(request, lambda token: services.jobs.wait(job_id, token))
        if job.status is JobStatus.FAILED and job.error is not None:
            raise error_from(job.error)
        if job.status is not JobStatus.COMPLETED:
            raise Cancelled("The job was cancelled.", code="cancelled")
        _, transcript, _ = await run_in_threadpool(services.jobs.result, None, job_id)
    finally:
        await run_in_threadpool(services.jobs.discard, job_id)
    log.info(
        "%s %.1f s of audio with %s in %.1f s (%s, speakers: %s)",
        options.task.value,
        transcript.duration,
        options.model,
        job.usage.processing_seconds if job.usage else 0.0,
        response_format.value,
        "yes" if options.diarize else "no",
    )
    body = formats.render(transcript, response_format, options)
    return Response(body, media_type=formats.MEDIA_TYPES[response_format])
