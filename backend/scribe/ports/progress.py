from __future__ import annotations

from typing import Protocol

from scribe.domain.transcript import Segment


class ProgressSink(Protocol):
    """Receives progress while a transcription runs (CLI progress bar, SSE stream, job status).

    A sink may stop the work by raising ``Cancelled`` from ``on_segment``.
    """

    def on_segment(self, segment: Segment) -> None:
        """A segment was decoded (before speaker attribution)."""
        ...

    def on_attributed(self, segment: Segment) -> None:
        """When diarizing: a segment of the result with its speaker, as soon as the diarizer's
        turns cover it (split where the speaker changes; ids as in the finished transcript)."""
        ...

    def on_progress(self, fraction: float, stage: str) -> None:
        """Overall progress in [0, 1] and the stage name (decoding, transcribing, diarizing, ...)."""
        ...
