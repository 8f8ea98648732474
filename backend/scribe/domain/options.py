"""What a caller asks of one transcription."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .audio import Audio
from .errors import InvalidRequest


@dataclass(frozen=True)
class SpeakerHints:
    """Hints for the diarizer: an exact count, or bounds on it. All optional."""

    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None

    def __post_init__(self) -> None:
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 32:
                raise InvalidRequest(f"{name} must be between 1 and 32, got {value}.", param=name)
        if (
            self.min_speakers is not None
            and self.max_speakers is not None
            and self.min_speakers > self.max_speakers
        ):
            raise InvalidRequest(
                f"min_speakers ({self.min_speakers}) is larger than max_speakers ({self.max_speakers}).",
                param="min_speakers",
            )


@dataclass(frozen=True)
class KnownSpeaker:
    """A name and a short reference recording of that person's voice."""

    name: str
    audio: Audio


class Task(StrEnum):
    """What to do with the speech: write it down in its language, or in English."""

    TRANSCRIBE = "transcribe"
    TRANSLATE = "translate"  # into English, as Whisper's translate task (OpenAI's translations)


@dataclass(frozen=True)
class VadChunking:
    """Cut the audio at pauses found by voice-activity detection before recognising it
    (OpenAI's ``chunking_strategy``: ``auto`` leaves every field to the engine's defaults)."""

    threshold: float | None = None  # speech probability above which audio counts as speech
    prefix_padding_ms: int | None = None  # audio kept before (and after) each stretch of speech
    silence_duration_ms: int | None = None  # a pause at least this long ends a stretch

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise InvalidRequest(
                f"chunking_strategy.threshold must be between 0 and 1, got {self.threshold}.",
                param="chunking_strategy",
            )
        for name in ("prefix_padding_ms", "silence_duration_ms"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 60_000:
                raise InvalidRequest(
                    f"chunking_strategy.{name} must be between 0 and 60000, got {value}.",
                    param="chunking_strategy",
                )


@dataclass(frozen=True)
class TranscriptionOptions:
    """Everything a transcription request can ask for, in domain terms."""

    model: str | None = None
    task: Task = Task.TRANSCRIBE
    language: str | None = None  # Whisper's code (``en``); None: detect
    languages: tuple[str, ...] = ()  # detect only among these codes (when language is None)
    prompt: str | None = None
    keywords: tuple[str, ...] = ()  # words and phrases to favour
    temperature: float = 0.0
    chunking: VadChunking | None = None  # None: the engine's own way of cutting the audio
    word_timestamps: bool = False  # the caller wants word times in the result
    segment_timestamps: bool = True  # the caller wants segments (False: words only)
    logprobs: bool = False  # the caller wants the log probability of each word
    diarize: bool = True
    speakers: SpeakerHints = field(default_factory=SpeakerHints)
    known_speakers: tuple[KnownSpeaker, ...] = ()
    detect_paragraphs: bool = False
    detect_entities: bool = False
    detect_sentiment: bool = False
    text_rules: tuple[str, ...] = ()

    @property
    def needs_word_times(self) -> bool:
        """Whether the engine must time each word: asked for, or needed to place speakers,
        paragraphs and entities (all are placed by their words' times)."""
        return (
            self.word_timestamps
            or self.logprobs  # the engines give probabilities per word
            or self.diarize
            or self.detect_paragraphs
            or self.detect_entities
        )
