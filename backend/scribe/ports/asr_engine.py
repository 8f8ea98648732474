from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from scribe.domain.audio import Audio
from scribe.domain.options import TranscriptionOptions
from scribe.domain.transcript import AsrResult, Segment

SegmentCallback = Callable[[Segment], None]


class AsrEngine(Protocol):
    """Speech recognition: audio in, segments with word timestamps out.

    ``on_segment`` is called with each segment as soon as it is decoded (for streaming and progress).
    Implementations must be safe to call from several threads (serialise internally if needed).
    """

    @property
    def name(self) -> str:
        """The model id clients pass as ``model`` to select this engine."""
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
