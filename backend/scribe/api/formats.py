"""Render a domain Transcript in each response format: json, verbose_json, diarized_json, text,
srt and vtt, plus the server-sent events of a streamed transcription."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from itertools import groupby

from scribe.domain.insights import Sentiment
from scribe.domain.languages import language_name
from scribe.domain.options import Task, TranscriptionOptions
from scribe.domain.response_format import ResponseFormat
from scribe.domain.speakers import letter_label
from scribe.domain.transcript import Segment, Transcript, Word

from .schemas import (
    DiarizedSegmentOut,
    EntityOut,
    InputTokenDetails,
    Insights,
    LanguageOut,
    LogprobOut,
    ParagraphOut,
    SegmentOut,
    SentenceOut,
    SentimentOut,
    SentimentReport,
    TokenUsage,
    TranscriptionDiarizedJson,
    TranscriptionJson,
    TranscriptionVerboseJson,
    Usage,
    WordOut,
)

# Whisper's encoder sees audio as one position per 20 ms: the "audio tokens" of the token-shaped
# usage in a stream's done event.
AUDIO_TOKENS_PER_SECOND = 50
_MIN_LOGPROB = -100.0
_DEFAULT_OPTIONS = TranscriptionOptions()

MEDIA_TYPES: dict[ResponseFormat, str] = {
    ResponseFormat.JSON: "application/json",
    ResponseFormat.VERBOSE_JSON: "application/json",
    ResponseFormat.DIARIZED_JSON: "application/json",
    ResponseFormat.TEXT: "text/plain; charset=utf-8",
    ResponseFormat.SRT: "application/x-subrip; charset=utf-8",
    ResponseFormat.VTT: "text/vtt; charset=utf-8",
}


def render(
    transcript: Transcript,
    response_format: ResponseFormat,
    options: TranscriptionOptions | None = None,
) -> str:
    """The response body in ``response_format``; ``options`` say which optional parts the
    request asked for (word and segment timestamps, logprobs, detected languages)."""
    options = options or _DEFAULT_OPTIONS
    match response_format:
        case ResponseFormat.JSON:
            return to_json(transcript, options).model_dump_json(exclude_none=True)
        case ResponseFormat.VERBOSE_JSON:
            body = to_verbose_json(
                transcript, words=options.word_timestamps, segments=options.segment_timestamps
            )
            return body.model_dump_json(exclude_none=True)
        case ResponseFormat.DIARIZED_JSON:
            return to_diarized_json(transcript).model_dump_json(exclude_none=True)
        case ResponseFormat.TEXT:
            return to_text(transcript)
        case ResponseFormat.SRT:
            return to_srt(transcript)
        case ResponseFormat.VTT:
            return to_vtt(transcript)


def _r(t: float) -> float:
    return round(t, 3)


def _usage(transcript: Transcript) -> Usage:
    return Usage(seconds=round(transcript.duration, 3))


def _sentiment_out(s: Sentiment) -> SentimentOut:
    return SentimentOut(
        label=s.label,
        score=round(s.score, 4),
        start=None if s.start is None else _r(s.start),
        end=None if s.end is None else _r(s.end),
        speaker=s.speaker,
        text=s.text,
    )


def insights(transcript: Transcript) -> Insights:
    """Paragraphs, entities and sentiment, each present only when it was computed."""
    paragraphs = None
    if transcript.paragraphs is not None:
        paragraphs = [
            ParagraphOut(
                start=_r(p.start),
                end=_r(p.end),
                text=p.text,
                speaker=p.speaker,
                sentences=[
                    SentenceOut(start=_r(s.start), end=_r(s.end), text=s.text) for s in p.sentences
                ],
            )
            for p in transcript.paragraphs
        ]
    entities = None
    if transcript.entities is not None:
        entities = [
            EntityOut(
                label=e.label, text=e.text, start=_r(e.start), end=_r(e.end), speaker=e.speaker
            )
            for e in transcript.entities
        ]
    sentiment = None
    if transcript.sentiment is not None:
        sentiment = SentimentReport(
            overall=_sentiment_out(transcript.sentiment),
            segments=[_sentiment_out(s) for s in transcript.segment_sentiments or ()],
        )
    return Insights(paragraphs=paragraphs, entities=entities, sentiment=sentiment)


def logprobs(words: Sequence[Word]) -> list[LogprobOut]:
    """OpenAI's ``logprobs`` from the engine's word probabilities: one entry per word."""
    return [
        LogprobOut(
            token=w.text,
            bytes=list(w.text.encode("utf-8")),
            logprob=round(max(_MIN_LOGPROB, math.log(w.probability)), 4)
            if w.probability > 0
            else _MIN_LOGPROB,
        )
        for w in words
    ]


def languages(transcript: Transcript) -> list[LanguageOut]:
    """The detected language, as OpenAI's ``languages`` (for requests that sent ``languages``)."""
    return [LanguageOut(code=transcript.language)] if transcript.language else []


def to_json(
    transcript: Transcript, options: TranscriptionOptions = _DEFAULT_OPTIONS
) -> TranscriptionJson:
    return TranscriptionJson(
        text=transcript.text,
        logprobs=logprobs(transcript.words) if options.logprobs else None,
        languages=languages(transcript) if options.languages else None,
        usage=_usage(transcript),
        **insights(transcript).model_dump(),
    )


def _language_out(transcript: Transcript) -> str:
    """OpenAI gives names (``english``); a translation's language is always English."""
    if transcript.task is Task.TRANSLATE:
        return "english"
    return language_name(transcript.language)


def to_verbose_json(
    transcript: Transcript, *, words: bool, segments: bool = True
) -> TranscriptionVerboseJson:
    segment_list = [
        SegmentOut(
            id=s.id,
            seek=int(s.start * 100),
            start=_r(s.start),
            end=_r(s.end),
            text=s.text,
            tokens=list(s.tokens),
            temperature=s.temperature,
            avg_logprob=s.avg_logprob,
            compression_ratio=s.compression_ratio,
            no_speech_prob=s.no_speech_prob,
            speaker=s.speaker,
        )
        for s in transcript.segments
    ]
    word_list = None
    if words:
        word_list = [
            WordOut(
                word=w.text.strip(),
                start=_r(w.start),
                end=_r(w.end),
                speaker=w.speaker,
                probability=round(w.probability, 4),
            )
            for w in transcript.words
        ]
    return TranscriptionVerboseJson(
        task=transcript.task.value,
        language=_language_out(transcript),
        duration=_r(transcript.duration),
        text=transcript.text,
        # OpenAI always sends segments unless only word granularity was asked for.
        segments=segment_list if segments or not words else [],
        words=word_list,
        speakers=list(transcript.speakers) or None,
        usage=_usage(transcript),
        **insights(transcript).model_dump(),
    )


def to_diarized_json(transcript: Transcript) -> TranscriptionDiarizedJson:
    return TranscriptionDiarizedJson(
        task=transcript.task.value,
        duration=_r(transcript.duration),
        text=transcript.text,
        segments=[diarized_segment(s) for s in transcript.segments],
        usage=_usage(transcript),
        **insights(transcript).model_dump(),
    )


def segment_id(segment: Segment) -> str:
    return f"seg_{segment.id}"


def diarized_segment(segment: Segment) -> DiarizedSegmentOut:
    """A segment as OpenAI's diarized_json has it: unnamed speakers are ``A``, ``B``, ..."""
    return DiarizedSegmentOut(
        id=segment_id(segment),
        start=_r(segment.start),
        end=_r(segment.end),
        text=segment.text.strip(),
        speaker=letter_label(segment.speaker or "SPEAKER_00"),
    )


def speaker_turns(segments: Sequence[Segment]) -> Iterator[tuple[str | None, list[Segment]]]:
    """Consecutive segments grouped by speaker."""
    for speaker, group in groupby(segments, key=lambda s: s.speaker):
        yield speaker, list(group)


def to_text(transcript: Transcript) -> str:
    """Plain text; with speakers one ``SPEAKER: ...`` line per turn; paragraphs apart by a blank line."""
    if transcript.paragraphs is not None:
        blocks = [
            f"{p.speaker}: {p.text}" if p.speaker else p.text
            for p in transcript.paragraphs
            if p.text
        ]
        return "\n\n".join(blocks) + "\n" if blocks else ""
    if not transcript.speakers:
        return transcript.text + "\n" if transcript.text else ""
    lines = [
        f"{speaker}: {' '.join(s.text.strip() for s in group)}"
        for speaker, group in speaker_turns(transcript.segments)
    ]
    return "\n".join(lines) + "\n"


def _timestamp(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _cues(transcript: Transcript) -> Iterator[tuple[float, float, Segment]]:
    previous_end = 0.0
    for segment in transcript.segments:
        if not segment.text.strip():
            continue
        start = max(segment.start, previous_end)
        end = max(segment.end, start + 0.001)
        previous_end = end
        yield start, end, segment


def to_srt(transcript: Transcript) -> str:
    """SubRip: numbered cues; the speaker, when known, before each cue's text."""
    blocks = []
    for index, (start, end, s) in enumerate(_cues(transcript), start=1):
        text = f"{s.speaker}: {s.text.strip()}" if s.speaker else s.text.strip()
        blocks.append(f"{index}\n{_timestamp(start, ',')} --> {_timestamp(end, ',')}\n{text}\n")
    return "\n".join(blocks)


def to_vtt(transcript: Transcript) -> str:
    """WebVTT, speakers as voice tags (``<v SPEAKER_00>``)."""
    blocks = ["WEBVTT\n"]
    for start, end, s in _cues(transcript):
        text = s.text.strip().replace("-->", "->")
        if s.speaker:
            text = f"<v {s.speaker}>{text}"
        blocks.append(f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}\n{text}\n")
    return "\n".join(blocks)


# --- streaming (server-sent events) ---------------------------------------------------------


def sse(payload: dict[str, object]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def delta_event(
    segment: Segment, first: bool, options: TranscriptionOptions = _DEFAULT_OPTIONS
) -> str:
    """``transcript.text.delta``: a segment's text, with the id of the segment it belongs to."""
    text = segment.text.strip()
    payload: dict[str, object] = {
        "type": "transcript.text.delta",
        "delta": text if first else " " + text,
        "segment_id": segment_id(segment),
    }
    if options.logprobs:
        payload["logprobs"] = [p.model_dump() for p in logprobs(segment.words)]
    return sse(payload)


def segment_event(segment: Segment) -> str:
    """``transcript.text.segment``: a finished speaker segment (diarized_json streams only)."""
    return sse(diarized_segment(segment).model_dump())


def token_usage(transcript: Transcript) -> TokenUsage:
    """Usage in tokens, as the done event carries it: audio at ``AUDIO_TOKENS_PER_SECOND``,
    output as the engine's text tokens (or words, for engines that give no tokens)."""
    audio_tokens = math.ceil(transcript.duration * AUDIO_TOKENS_PER_SECOND)
    output = sum(len(s.tokens) for s in transcript.segments)
    if output == 0:
        output = len(transcript.text.split())
    return TokenUsage(
        input_tokens=audio_tokens,
        output_tokens=output,
        total_tokens=audio_tokens + output,
        input_token_details=InputTokenDetails(audio_tokens=audio_tokens, text_tokens=0),
        seconds=round(transcript.duration, 3),
    )


def done_event(transcript: Transcript, options: TranscriptionOptions = _DEFAULT_OPTIONS) -> str:
    payload: dict[str, object] = {"type": "transcript.text.done", "text": transcript.text}
    if options.logprobs:
        payload["logprobs"] = [p.model_dump() for p in logprobs(transcript.words)]
    if options.languages:
        payload["languages"] = [lang.model_dump() for lang in languages(transcript)]
    payload["usage"] = token_usage(transcript).model_dump()
    payload.update(insights(transcript).model_dump(exclude_none=True))
    return sse(payload)
