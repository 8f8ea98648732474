"""Paragraph detection as a post-processing step."""

from __future__ import annotations

from dataclasses import replace

from scribe.domain.options import TranscriptionOptions
from scribe.domain.paragraphs import build_paragraphs
from scribe.domain.transcript import Transcript


class ParagraphDetector:
    """Sets ``transcript.paragraphs`` when the request asks for ``detect_paragraphs``.

    A pause of at least ``pause_seconds`` or a speaker change starts a new paragraph, and a
    paragraph holds at most ``max_sentences`` sentences.
    """

    def __init__(self, pause_seconds: float = 1.5, max_sentences: int = 6) -> None:
        if pause_seconds <= 0:
            raise ValueError(f"pause_seconds must be positive, got {pause_seconds}")
        if max_sentences < 1:
            raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")
        self._pause_seconds = pause_seconds
        self._max_sentences = max_sentences

    def validate(self, options: TranscriptionOptions) -> None:
        """Every request this step can be asked for is valid."""

    def wanted(self, options: TranscriptionOptions) -> bool:
        return options.detect_paragraphs

    def apply(self, transcript: Transcript, options: TranscriptionOptions) -> Transcript:
        paragraphs = build_paragraphs(transcript, self._pause_seconds, self._max_sentences)
        return replace(transcript, paragraphs=paragraphs)
