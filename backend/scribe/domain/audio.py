"""Decoded audio as the engines consume it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
# Shorter recordings are refused (OpenAI's limit: 0.1 s): too short to hold a word.
MIN_DURATION_SECONDS = 0.1


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at ``SAMPLE_RATE`` Hz."""

    samples: npt.NDArray[np.float32]
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return float(len(self.samples)) / self.sample_rate

    def slice(self, start: float, end: float) -> Audio:
        """The samples between two times in seconds."""
        a = max(0, int(start * self.sample_rate))
        b = min(len(self.samples), int(end * self.sample_rate))
        return Audio(self.samples[a:b], self.sample_rate)
