"""What a caller asks of one transcription."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class TranscriptionOptions:
    """Everything a transcription request can ask for, in domain terms."""

    model: str | None = None
    language: str | None = None
    prompt: str | None = None
    temperature: float = 0.0
    word_timestamps: bool = False  # the caller wants word times in the result
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
            self.word_timestamps or self.diarize or self.detect_paragraphs or self.detect_entities
        )
