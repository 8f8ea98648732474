"""Voice activity detection with the Silero model that faster-whisper ships (ONNX, no download)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scribe.domain.errors import ModelUnavailable

Region = tuple[float, float]


@dataclass(frozen=True)
class VadSettings:
    """Silero VAD knobs (see ``faster_whisper.vad.VadOptions``); times in seconds."""

    threshold: float = 0.3
    min_speech: float = 0.2
    min_silence: float = 0.2
    pad: float = 0.15


class SpeechDetector:
    """Finds the speech regions of 16 kHz mono samples."""

    def __init__(self, settings: VadSettings | None = None) -> None:
        self.settings = settings or VadSettings()

    def load(self) -> None:
        """Check that faster-whisper and its bundled model are importable."""
        try:
            from faster_whisper.vad import VadOptions, get_speech_timestamps  # noqa: F401
        except ImportError as exc:
            raise ModelUnavailable(
                "The embedded diarizer needs the Python package 'faster-whisper' (its bundled "
                f"Silero VAD model finds the speech), which could not be imported ({exc}). "
                "Install it with: pip install -c constraints.txt faster-whisper"
            ) from exc

    def __call__(self, samples: npt.NDArray[np.float32], sample_rate: int = 16_000) -> list[Region]:
        """Speech regions ``(start, end)`` in seconds, sorted and not overlapping."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        if len(samples) < sample_rate // 10:
            return []
        s = self.settings
        options = VadOptions(
            threshold=s.threshold,
            min_speech_duration_ms=int(s.min_speech * 1000),
            min_silence_duration_ms=int(s.min_silence * 1000),
            speech_pad_ms=int(s.pad * 1000),
        )
        stamps = get_speech_timestamps(
            np.ascontiguousarray(samples, dtype=np.float32), options, sampling_rate=sample_rate
        )
        regions = [(st["start"] / sample_rate, st["end"] / sample_rate) for st in stamps]
        return [(a, b) for a, b in regions if b > a]
