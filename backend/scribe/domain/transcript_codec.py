"""Transcripts and segments as plain JSON-ready dicts and back (stored job results, job events).

Every field is kept, so a stored result renders in any response format exactly as the
transcript it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from .insights import Entity, Paragraph, Sentence, Sentiment
from .options import Task
from .transcript import Segment, SpeakerTurn, Transcript, Word


def segment_to_dict(segment: Segment) -> dict[str, Any]:
    return asdict(segment)


def segment_from_dict(data: Mapping[str, Any]) -> Segment:
    return Segment(
        id=int(data["id"]),
        start=float(data["start"]),
        end=float(data["end"]),
        text=str(data["text"]),
        words=tuple(Word(**w) for w in data.get("words", ())),
        speaker=data.get("speaker"),
        avg_logprob=float(data.get("avg_logprob", 0.0)),
        compression_ratio=float(data.get("compression_ratio", 0.0)),
        no_speech_prob=float(data.get("no_speech_prob", 0.0)),
        temperature=float(data.get("temperature", 0.0)),
        tokens=tuple(int(t) for t in data.get("tokens", ())),
    )


def transcript_to_dict(transcript: Transcript) -> dict[str, Any]:
    data = asdict(transcript)
    data["task"] = transcript.task.value
    return data


def _sentiment(data: Mapping[str, Any] | None) -> Sentiment | None:
    return None if data is None else Sentiment(**data)


def transcript_from_dict(data: Mapping[str, Any]) -> Transcript:
    paragraphs = data.get("paragraphs")
    entities = data.get("entities")
    segment_sentiments = data.get("segment_sentiments")
    return Transcript(
        language=str(data["language"]),
        duration=float(data["duration"]),
        segments=tuple(segment_from_dict(s) for s in data.get("segments", ())),
        speakers=tuple(data.get("speakers", ())),
        turns=tuple(SpeakerTurn(**t) for t in data.get("turns", ())),
        paragraphs=None
        if paragraphs is None
        else tuple(
            Paragraph(
                start=p["start"],
                end=p["end"],
                text=p["text"],
                sentences=tuple(Sentence(**s) for s in p.get("sentences", ())),
                speaker=p.get("speaker"),
            )
            for p in paragraphs
        ),
        entities=None if entities is None else tuple(Entity(**e) for e in entities),
        sentiment=_sentiment(data.get("sentiment")),
        segment_sentiments=None
        if segment_sentiments is None
        else tuple(Sentiment(**s) for s in segment_sentiments),
        task=Task(data.get("task", Task.TRANSCRIBE.value)),
    )
