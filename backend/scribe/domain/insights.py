"""Results of the optional post-processing steps: paragraphs, entities, sentiment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Paragraph:
    """Consecutive sentences of one speaker, broken at speaker changes, long pauses and a length cap."""

    start: float
    end: float
    text: str
    sentences: tuple[Sentence, ...]
    speaker: str | None = None


@dataclass(frozen=True)
class Entity:
    """A named entity (person, place, organisation, ...) with the time its words were spoken."""

    label: str
    text: str
    start: float
    end: float
    speaker: str | None = None


@dataclass(frozen=True)
class Sentiment:
    """A sentiment label (positive, negative, neutral) with VADER's compound score in [-1, 1]."""

    label: str
    score: float
    start: float | None = None
    end: float | None = None
    speaker: str | None = None
    text: str | None = None
