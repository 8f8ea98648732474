from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from scribe.domain.audio import Audio
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import AsrResult, Segment

SegmentCallback = Callable[[Segment], None]


@dataclass(frozen=True)
class AsrCapabilities:
    """What an engine can do beyond plain transcription; the service picks engines by these.

    ``languages`` is the set of language codes it transcribes (None: every language Whisper
    knows). ``translate``: it can write speech of any of those languages as English text.
    ``word_probabilities``: its words carry real probabilities (the source of ``logprobs``).
    """

    translate: bool = False
    word_probabilities: bool = False
    languages: frozenset[str] | None = None

    def transcribes(self, language: str) -> bool:
        return self.languages is None or language in self.languages


class AsrEngine(Protocol):
    """Speech recognition: audio in, segments with word timestamps out.

    ``on_segment`` is called with each segment as soon as it is decoded (for streaming and progress).
    Implementations must be safe to call from several threads (serialise internally if needed).
    """

    @property
    def name(self) -> str:
        """The model id clients pass as ``model`` to select this engine."""
        ...

    @property
    def capabilities(self) -> AsrCapabilities:
        """What this engine can do (known before ``load``, exact once loaded)."""
        ...

    def load(self) -> None:
        """Load the model once (idempotent, thread-safe); raise ModelUnavailable if it cannot."""
        ...

    def transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        on_segment: SegmentCallback | None = None,
    ) -> AsrResult: ...
