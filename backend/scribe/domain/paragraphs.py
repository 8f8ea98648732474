"""Sentences and paragraphs from timed words (pure: no framework, no engine).

A sentence ends at a word whose text ends with sentence-final punctuation (``.``, ``?``, ``!``,
``…``, possibly followed by closing quotes or brackets), at a change of speaker, and at a pause of
at least ``pause_seconds`` between two words (so text without punctuation still splits). Common
title abbreviations (``Mr.``, ``Dr.``, ...) do not end a sentence.

Paragraphs are runs of sentences of one speaker, broken at speaker changes, at pauses of at least
``pause_seconds`` between sentences, and after ``max_sentences`` sentences.

When a segment carries no word timestamps, the whole segment is one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .insights import Paragraph, Sentence
from .transcript import Transcript

_SENTENCE_END = re.compile(r"[.?!…。？！]+[\"'”’)\]]*$")
_ABBREVIATIONS = frozenset(
    {
        "mr.",
        "mrs.",
        "ms.",
        "dr.",
        "prof.",
        "st.",
        "jr.",
        "sr.",
        "mt.",
        "vs.",
        "etc.",
        "e.g.",
        "i.e.",
    }
)


@dataclass(frozen=True)
class _Unit:
    """A word, or a whole segment when the engine gave no words."""

    start: float
    end: float
    text: str  # with its leading space, as the engine gave it
    speaker: str | None
    final: bool  # this unit closes a sentence


@dataclass(frozen=True)
class _TimedSentence:
    sentence: Sentence
    speaker: str | None


def ends_sentence(text: str) -> bool:
    """Whether a word's text closes a sentence (``"there."`` yes, ``"Mr."`` and ``"3.5"`` no)."""
    token = text.strip()
    if not token or token.lower() in _ABBREVIATIONS:
        return False
    return _SENTENCE_END.search(token) is not None


def _units(transcript: Transcript) -> Iterator[_Unit]:
    for segment in transcript.segments:
        if segment.words:
            for word in segment.words:
                yield _Unit(word.start, word.end, word.text, word.speaker, ends_sentence(word.text))
        elif segment.text.strip():
            text = " " + segment.text.strip()
            yield _Unit(segment.start, segment.end, text, segment.speaker, True)


def _make_sentence(units: list[_Unit]) -> _TimedSentence:
    text = "".join(u.text for u in units).strip()
    return _TimedSentence(Sentence(units[0].start, units[-1].end, text), units[0].speaker)


def _sentences(transcript: Transcript, pause_seconds: float) -> list[_TimedSentence]:
    sentences: list[_TimedSentence] = []
    current: list[_Unit] = []
    for unit in _units(transcript):
        if current and (
            unit.speaker != current[-1].speaker or unit.start - current[-1].end >= pause_seconds
        ):
            sentences.append(_make_sentence(current))
            current = []
        current.append(unit)
        if unit.final:
            sentences.append(_make_sentence(current))
            current = []
    if current:
        sentences.append(_make_sentence(current))
    return sentences


def _make_paragraph(sentences: list[_TimedSentence]) -> Paragraph:
    return Paragraph(
        start=sentences[0].sentence.start,
        end=sentences[-1].sentence.end,
        text=" ".join(s.sentence.text for s in sentences),
        sentences=tuple(s.sentence for s in sentences),
        speaker=sentences[0].speaker,
    )


def build_paragraphs(
    transcript: Transcript, pause_seconds: float, max_sentences: int
) -> tuple[Paragraph, ...]:
    """Group the transcript's sentences into paragraphs (see the module docstring for the rules)."""
    if pause_seconds <= 0:
        raise ValueError(f"pause_seconds must be positive, got {pause_seconds}")
    if max_sentences < 1:
        raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")
    paragraphs: list[Paragraph] = []
    current: list[_TimedSentence] = []
    for sentence in _sentences(transcript, pause_seconds):
        if current and (
            sentence.speaker != current[-1].speaker
            or sentence.sentence.start - current[-1].sentence.end >= pause_seconds
            or len(current) >= max_sentences
        ):
            paragraphs.append(_make_paragraph(current))
            current = []
        current.append(sentence)
    if current:
        paragraphs.append(_make_paragraph(current))
    return tuple(paragraphs)
