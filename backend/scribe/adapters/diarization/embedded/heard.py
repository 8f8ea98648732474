"""Where segmentation has heard someone so far: CAM++ skips the blocks nobody talks in.

CAM++'s features are pooled only over frames where segmentation finds a speaker. Its 10 s
blocks run beside segmentation's batches (``pieces.py``), so a block of silence or noise is
skipped when every segmentation window that reads it, with ``margin`` either side, has
already finished and found no one there. A block not yet known to be silent is computed, so
skipping never changes the diarization: every pooled feature frame lies within a frame or two
of one where a window heard a speaker. A recording of silence then costs segmentation alone.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Span = tuple[float, float]
TimeArray = npt.NDArray[np.float64]


class HeardSpeech:
    """What segmentation's finished batches heard, by the time (seconds) of their frames."""

    def __init__(self, batch_spans: Sequence[Span], margin: float = 1.0) -> None:
        """``batch_spans``: the stretch of audio each segmentation batch reads (its windows,
        contiguous at a step of at most the window)."""
        self._spans = list(batch_spans)
        self._margin = margin
        self._speech: list[TimeArray | None] = [None] * len(self._spans)
        self._lock = threading.Lock()

    def record(self, batch: int, times: TimeArray) -> None:
        """Batch ``batch`` finished; ``times`` are its frames where someone talks (any order)."""
        ordered = np.sort(np.asarray(times, dtype=np.float64))
        with self._lock:
            self._speech[batch] = ordered

    def silent(self, begin: float, end: float) -> bool:
        """Whether every window reading ``[begin - margin, end + margin)`` has finished and
        heard no one there (False while any has not finished)."""
        low, high = begin - self._margin, end + self._margin
        with self._lock:
            speech = list(self._speech)
        for (first, last), times in zip(self._spans, speech, strict=True):
            if first >= high or last <= low:
                continue
            if times is None:
                return False
            inside = np.searchsorted(times, high) - np.searchsorted(times, low)
            if inside > 0:
                return False
        return True

    def last_batch_reading(self, end: float) -> int:
        """The last batch whose windows read audio before ``end + margin``: a stretch ending
        at ``end`` can be known silent once batches up to it have finished."""
        reach = end + self._margin
        reading = [i for i, (first, _) in enumerate(self._spans) if first < reach]
        return reading[-1] if reading else 0


def interleave(batches: int, block_ends: Sequence[float], heard: HeardSpeech) -> list[int]:
    """An order for ``batches`` segmentation pieces (``0..batches-1``) and one CAM++ piece per
    block (``batches + j``): each block one batch after the last batch it waits for, so that
    with two threads that batch has usually finished when the block is taken."""
    after: dict[int, list[int]] = {}
    for j, end in enumerate(block_ends):
        slot = min(heard.last_batch_reading(end) + 1, batches - 1) if batches else 0
        after.setdefault(slot, []).append(batches + j)
    order: list[int] = []
    for i in range(batches):
        order.append(i)
        order.extend(after.pop(i, []))
    for rest in after.values():
        order.extend(rest)
    return order
