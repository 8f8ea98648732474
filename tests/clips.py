"""Real clips from ../shared/eval, decoded the way the service decodes them (PyAVDecoder)."""

from __future__ import annotations

from pathlib import Path

from scribe.adapters.audio.pyav_decoder import PyAVDecoder
from scribe.domain.audio import Audio


def load_clip(path: Path, start: float = 0.0, seconds: float | None = None) -> Audio:
    """16 kHz mono float32 samples of ``path``, optionally ``seconds`` long from ``start``."""
    with path.open("rb") as source:
        audio = PyAVDecoder().decode(source)
    end = audio.duration if seconds is None else start + seconds
    return audio if (start, end) == (0.0, audio.duration) else audio.slice(start, end)
