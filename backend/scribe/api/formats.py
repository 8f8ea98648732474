"""Render a domain Transcript in each response format: json, verbose_json, diarized_json, text,
srt and vtt, plus the server-sent events of a streamed transcription."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from itertools import groupby

from scribe.domain.insights import Sentiment
from scribe.domain.response_format import ResponseFormat
from scribe.domain.transcript import Segment, Transcript

from .schemas import (
    DiarizedSegmentOut,
    EntityOut,
    Insights,
    ParagraphOut,
    SegmentOut,
    SentenceOut,
    SentimentOut,
    SentimentReport,
    TranscriptionDiarizedJson,
    TranscriptionJson,
    TranscriptionVerboseJson,
    Usage,
    WordOut,
)

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
    *,
    words: bool = False,
    segments: bool = True,
) -> str:
    """The response body in ``response_format``."""
    match response_format:
        case ResponseFormat.JSON:
            return to_json(transcript).model_dump_json(exclude_none=True)
        case ResponseFormat.VERBOSE_JSON:
            body = to_verbose_json(transcript, words=words, segments=segments)
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


def to_json(transcript: Transcript) -> TranscriptionJson:
    return TranscriptionJson(
        text=transcript.text, usage=_usage(transcript), **insights(transcript).model_dump()
    )


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
        language=transcript.language,
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
        duration=_r(transcript.duration),
        text=transcript.text,
        segments=[diarized_segment(s) for s in transcript.segments],
        usage=_usage(transcript),
        **insights(transcript).model_dump(),
    )


def diarized_segment(segment: Segment) -> DiarizedSegmentOut:
    return DiarizedSegmentOut(
        id=f"seg_{segment.id}",
        start=_r(segment.start),
        end=_r(segment.end),
        text=segment.text.strip(),
        speaker=segment.speaker or "SPEAKER_00",
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


def delta_event(segment: Segment, first: bool) -> str:
    text = segment.text.strip()
    return sse({"type": "transcript.text.delta", "delta": text if first else " " + text})


def segment_event(segment: Segment) -> str:
    body = diarized_segment(segment).model_dump()
    return sse(body)


def done_event(transcript: Transcript) -> str:
    payload: dict[str, object] = {
        "type": "transcript.text.done",
        "text": transcript.text,
        "usage": _usage(transcript).model_dump(),
    }
    payload.update(insights(transcript).model_dump(exclude_none=True))
    return sse(payload)
