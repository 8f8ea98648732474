"""Which CAM++ feature frames belong to each local speaker, or to any speech (pure numpy).

CAM++ features come every 20 ms (:data:`FEATURE_STEP`); the segmentation model's frames every
~17 ms inside each window. Each feature frame takes the segmentation frame whose centre is
nearest to its own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .reconstruction import LocalActivity

IntArray = npt.NDArray[np.int64]

FBANK_SHIFT = 0.01
"""Seconds between fbank frames."""
FBANK_CENTRE = 0.0125
"""Centre of fbank frame 0 (25 ms window)."""
FEATURE_STEP = 2 * FBANK_SHIFT
"""Seconds between CAM++ feature frames (its first TDNN layer has stride 2)."""
MIN_FRAMES = 10
"""Fewer feature frames (0.2 s) than this make no embedding."""


def feature_times(index: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Centre times of CAM++ feature frames."""
    return np.asarray(index, dtype=np.float64) * FEATURE_STEP + FBANK_CENTRE + FBANK_SHIFT / 2


def local_frames(
    local: LocalActivity, num_features: int, exclude_overlap: bool = True
) -> dict[tuple[int, int], IntArray]:
    """Feature frame indices of each (chunk, local speaker) that talks.

    With ``exclude_overlap``, frames where another local speaker of the chunk talks too are
    left out unless that leaves fewer than :data:`MIN_FRAMES`. Local speakers with fewer
    frames than that get none.
    """
    per_chunk = round(local.chunk_duration / FEATURE_STEP)
    overlap = local.activity.sum(axis=2) >= 2
    out: dict[tuple[int, int], IntArray] = {}
    for chunk, start in enumerate(local.chunk_starts):
        first = round(start / FEATURE_STEP)
        index = np.arange(first, min(first + per_chunk, num_features), dtype=np.int64)
        if len(index) == 0:
            continue
        frame = _segmentation_frame(local, feature_times(index) - start)
        for speaker in range(local.num_local):
            talking = local.activity[chunk, :, speaker] > 0
            if not talking.any():
                continue
            chosen = talking[frame]
            if exclude_overlap:
                alone = chosen & ~overlap[chunk][frame]
                if alone.sum() >= MIN_FRAMES:
                    chosen = alone
            if chosen.sum() >= MIN_FRAMES:
                out[(chunk, speaker)] = index[chosen]
    return out


def speech_frames(local: LocalActivity, num_features: int) -> IntArray:
    """Feature frames where any local speaker of any chunk covering them talks."""
    speech = np.zeros(num_features, dtype=bool)
    per_chunk = round(local.chunk_duration / FEATURE_STEP)
    for chunk, start in enumerate(local.chunk_starts):
        first = round(start / FEATURE_STEP)
        index = np.arange(first, min(first + per_chunk, num_features), dtype=np.int64)
        if len(index) == 0:
            continue
        frame = _segmentation_frame(local, feature_times(index) - start)
        speech[index] |= local.activity[chunk].max(axis=1)[frame] > 0
    result: IntArray = np.flatnonzero(speech).astype(np.int64)
    return result


def span_frames(spans: list[tuple[float, float]], num_features: int) -> IntArray:
    """Feature frames whose centre falls inside any of ``spans`` (seconds)."""
    times = feature_times(np.arange(num_features))
    inside = np.zeros(num_features, dtype=bool)
    for start, end in spans:
        inside |= (times >= start) & (times < end)
    result: IntArray = np.flatnonzero(inside).astype(np.int64)
    return result


def _segmentation_frame(local: LocalActivity, offsets: npt.NDArray[np.float64]) -> IntArray:
    grid = local.grid
    index = np.rint((offsets - grid.start - grid.duration / 2) / grid.step).astype(np.int64)
    result: IntArray = np.clip(index, 0, local.frames_per_chunk - 1)
    return result
