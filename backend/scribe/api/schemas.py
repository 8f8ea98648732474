"""OpenAI wire types (and this service's additions). Only the API layer knows these shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Granularity = Literal["word", "segment"]


class Usage(BaseModel):
    type: Literal["duration"] = "duration"
    seconds: float


class InputTokenDetails(BaseModel):
    audio_tokens: int
    text_tokens: int


class TokenUsage(BaseModel):
    """The token-shaped usage OpenAI's streamed ``transcript.text.done`` event carries."""

    type: Literal["tokens"] = "tokens"
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_token_details: InputTokenDetails
    seconds: float  # this service's addition: the audio's duration


class LogprobOut(BaseModel):
    token: str
    bytes: list[int]
    logprob: float


class LanguageOut(BaseModel):
    code: str


class WordOut(BaseModel):
    word: str
    start: float
    end: float
    speaker: str | None = None
    probability: float | None = None


class SegmentOut(BaseModel):
    id: int
    seek: int = 0
    start: float
    end: float
    text: str
    tokens: list[int] = []
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0
    speaker: str | None = None


class SentenceOut(BaseModel):
    start: float
    end: float
    text: str


class ParagraphOut(BaseModel):
    start: float
    end: float
    text: str
    speaker: str | None = None
    sentences: list[SentenceOut]


class EntityOut(BaseModel):
    label: str
    text: str
    start: float
    end: float
    speaker: str | None = None


class SentimentOut(BaseModel):
    label: str
    score: float
    start: float | None = None
    end: float | None = None
    speaker: str | None = None
    text: str | None = None


class SentimentReport(BaseModel):
    overall: SentimentOut
    segments: list[SentimentOut]


class Insights(BaseModel):
    """This service's additions; present only when the request asked for them."""

    paragraphs: list[ParagraphOut] | None = None
    entities: list[EntityOut] | None = None
    sentiment: SentimentReport | None = None


# OpenAI's fields first, this service's additions after them (pydantic orders fields from the
# last base class to the first).


class _Json(BaseModel):
    text: str
    logprobs: list[LogprobOut] | None = None
    languages: list[LanguageOut] | None = None
    usage: Usage


class TranscriptionJson(Insights, _Json):
    pass


class _VerboseJson(BaseModel):
    task: Literal["transcribe", "translate"] = "transcribe"
    language: str  # the name, as OpenAI gives it: ``english``
    duration: float
    text: str
    segments: list[SegmentOut]
    words: list[WordOut] | None = None
    speakers: list[str] | None = None
    usage: Usage


class TranscriptionVerboseJson(Insights, _VerboseJson):
    pass


class DiarizedSegmentOut(BaseModel):
    type: Literal["transcript.text.segment"] = "transcript.text.segment"
    id: str
    start: float
    end: float
    text: str
    speaker: str


class _DiarizedJson(BaseModel):
    task: Literal["transcribe", "translate"] = "transcribe"
    duration: float
    text: str
    segments: list[DiarizedSegmentOut]
    usage: Usage


class TranscriptionDiarizedJson(Insights, _DiarizedJson):
    pass


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "scribe"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class ErrorBody(BaseModel):
    """OpenAI's error object."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class JobProgressOut(BaseModel):
    stage: str
    fraction: float


class JobUsageOut(BaseModel):
    type: Literal["duration"] = "duration"
    seconds: float  # the audio's duration
    processing_seconds: float


class JobCallbackOut(BaseModel):
    """Where a job's callback stands: ``pending`` until a 2xx answer (``delivered``), or
    ``failed`` once the attempts ran out or the receiver refused it for good."""

    url: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int = Field(description="Attempts made so far, the current one included.")
    last_error: str | None = None
    delivered_at: int | None = None


class JobOut(BaseModel):
    """A transcription job (``/v1/audio/jobs``), in the shape of OpenAI's job resources."""

    id: str
    object: Literal["audio.job"] = "audio.job"
    status: Literal["queued", "in_progress", "completed", "failed", "cancelled"]
    task: Literal["transcribe", "translate"]
    model: str | None
    response_format: str
    created_at: int
    started_at: int | None = None
    finished_at: int | None = None
    progress: JobProgressOut
    error: ErrorBody | None = None
    usage: JobUsageOut | None = None
    callback_url: str | None = None
    attempts: int
    filename: str | None = Field(
        default=None,
        description="The uploaded file's name (base name only, control characters dropped, at "
        "most 255 characters); null when the upload had none.",
    )
    callback: JobCallbackOut | None = Field(
        default=None,
        description="The delivery of the job's callback (sent when it ends); null without a "
        "`callback_url`, or before the job ended.",
    )


class JobList(BaseModel):
    object: Literal["list"] = "list"
    data: list[JobOut]
    first_id: str | None
    last_id: str | None
    has_more: bool


class JobDeleted(BaseModel):
    id: str
    object: Literal["audio.job.deleted"] = "audio.job.deleted"
    deleted: bool = True
