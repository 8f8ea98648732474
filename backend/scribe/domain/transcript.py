"""Words, segments, speaker turns and the transcript they make up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from .insights import Entity, Paragraph, Sentiment
from .options import Task


@dataclass(frozen=True)
class Word:
    """One recognised word. ``text`` keeps the leading space the engine gave it."""

    start: float
    end: float
    text: str
    probability: float = 1.0
    speaker: str | None = None

    def with_speaker(self, speaker: str | None) -> Word:
        return replace(self, speaker=speaker)


@dataclass(frozen=True)
class Segment:
    """A run of words the engine decoded together; after attribution, one speaker only."""

    id: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0
    temperature: float = 0.0
    tokens: tuple[int, ...] = ()


@dataclass(frozen=True)
class SpeakerTurn:
    """A stretch of time in which one speaker talks."""

    start: float
    end: float
    speaker: str

    @property
    def duration(self) -> float:
        return self.end - self.start


Voiceprint = tuple[float, ...]
"""A speaker embedding: compared by cosine similarity, only with voiceprints of the same
diarizer."""


@dataclass(frozen=True)
class Diarization:
    """What a diarizer found: who spoke when, and what each speaker sounds like.

    ``turns`` may overlap where two people talk at once. ``voiceprints`` holds, for the labels
    the diarizer computed one for, the speaker embedding its clustering used; naming speakers
    after known voices (``Diarizer.identify``) reuses them instead of embedding the audio again.
    """

    turns: tuple[SpeakerTurn, ...] = ()
    voiceprints: Mapping[str, Voiceprint] = field(default_factory=dict)

    @property
    def speakers(self) -> tuple[str, ...]:
        """Distinct labels, in order of their first turn."""
        ordered = sorted(self.turns, key=lambda t: (t.start, t.end))
        return tuple(dict.fromkeys(t.speaker for t in ordered))


@dataclass(frozen=True)
class AsrResult:
    """What an ASR engine returns: the language it heard and the segments it decoded."""

    language: str
    duration: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Transcript:
    """The finished result of one transcription, ready to format."""

    language: str  # the code of the language spoken (``en``), as detected or given
    duration: float
    segments: tuple[Segment, ...]
    speakers: tuple[str, ...] = ()
    turns: tuple[SpeakerTurn, ...] = ()  # the diarizer's turns, with the final labels
    paragraphs: tuple[Paragraph, ...] | None = None
    entities: tuple[Entity, ...] | None = None
    sentiment: Sentiment | None = None
    segment_sentiments: tuple[Sentiment, ...] | None = field(default=None)
    task: Task = Task.TRANSCRIBE  # TRANSLATE: the text is in English, whatever was spoken

    @property
    def text(self) -> str:
        return join_text(s.text for s in self.segments)

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)


def join_text(parts: Iterable[str]) -> str:
    """Join segment texts with single spaces, as Whisper-style services do."""
    return " ".join(p.strip() for p in parts if p.strip())


def words_text(words: Iterable[Word]) -> str:
    """The text of a run of words, keeping the engine's own spacing."""
    return "".join(w.text for w in words).strip()
