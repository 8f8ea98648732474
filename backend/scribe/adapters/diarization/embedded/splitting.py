"""Splitting a speaker that holds two voices: a second look with short embeddings (pure numpy).

Segmentation-3.0 sometimes gives two people the *same* local speaker in every window it sees
them in (far-field meetings with similar voices: AMI ``dev00`` windows 8-21, ``dev01`` all of
them). Clustering then never sees the two voices apart, and one absorbs the other. This pass
looks inside each global speaker's speech instead:

1. **Pieces**: the frames where the speaker talks alone are cut into pieces of
   ``PIECE_SECONDS`` every ``PIECE_HOP_SECONDS`` and embedded. Short, so that few pieces
   straddle a change of voice (with 1.5-2 s pieces the halves were less pure: two people
   scored 0.56-0.65 instead of 0.47-0.51); the decision rests on the pooled halves, not on
   the noisy pieces.
2. **Two-way split**: average-linkage clustering of the pieces into two groups (of at most
   ``MAX_CLUSTERED_PIECES`` evenly spread pieces; the others join the nearer group's mean);
   each group's frames are pooled into one embedding (seconds of speech each, so reliable).
3. **Decision**: if the two groups are less similar than ``threshold`` and each has at least
   ``min_seconds`` of speech, they are two voices. The group further from the speaker's own
   centroid moves: to the most similar other speaker if that one is at least ``threshold``
   alike (the part was someone already known), else to a new speaker when the count allows;
   at a bound the hints set, it takes the place of the speaker with the least speech, if that
   one has less speech than the new voice has alone.
   Every frame of the speaker (overlap included) follows the piece whose centre is nearest.

Each speaker is looked at once, in order; new speakers are not split again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .clustering import constrained_ahc
from .masks import FEATURE_STEP, feature_times
from .reconstruction import FrameGrid

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
#: Pools sets of feature frames into L2-normalised embeddings, ``(len(sets), dim)``.
Embed = Callable[[Sequence[IntArray]], FloatArray]

PIECE_SECONDS = 1.0
PIECE_HOP_SECONDS = 0.5
MIN_PIECE_SECONDS = 0.5
"""A piece with less lone speech than this is not embedded."""
MIN_PIECES = 4
MAX_CLUSTERED_PIECES = 400
"""Average linkage is cubic in the pieces: beyond this many (200 s of lone speech) the rest
are assigned to the nearer group instead of clustered."""


@dataclass(frozen=True)
class SplitSettings:
    """When one speaker's speech is taken for two voices."""

    threshold: float = 0.6
    """Pooled-embedding similarity below which the two halves are two people."""
    min_seconds: float = 2.0
    """Lone speech each half needs (shorter halves give unreliable embeddings)."""


def split_mixed_speakers(
    binary: FloatArray,
    grid: FrameGrid,
    num_features: int,
    embed: Embed,
    centroids: FloatArray,
    *,
    max_speakers: int,
    settings: SplitSettings | None = None,
) -> tuple[FloatArray, FloatArray]:
    """``(frames, speakers)`` diarization with mixed speakers split, and updated centroids.

    ``centroids[k]`` is speaker ``k``'s clustering centroid (unit norm); a new speaker's
    centroid is its pooled embedding. No speaker is added beyond ``max_speakers``: at that
    bound a new voice replaces the speaker with the least speech if it has more.
    """
    s = settings or SplitSettings()
    binary = binary.copy()
    centroids = centroids.copy()
    output_frame = _output_frame_of_features(grid, num_features, binary.shape[0])
    fresh: set[int] = set()  # speakers made of a moved half: not split again
    for k in range(binary.shape[1]):
        if k in fresh:
            continue
        alone = (binary[:, k] > 0) & (binary.sum(axis=1) == 1)
        pieces = _pieces(alone[output_frame])
        if len(pieces) < MIN_PIECES:
            continue
        labels = _bipartition(embed(pieces))
        halves = [
            np.unique(np.concatenate([pieces[i] for i in np.flatnonzero(labels == h)]))
            for h in (0, 1)
        ]
        if min(len(h) for h in halves) * FEATURE_STEP < s.min_seconds:
            continue
        voices = embed(halves)
        if float(voices[0] @ voices[1]) >= s.threshold:
            continue
        moving = int(voices[1] @ centroids[k] < voices[0] @ centroids[k])
        target = _destination(binary, k, output_frame, embed, voices[moving], s.threshold)
        if target is None and int((binary.sum(axis=0) > 0).sum()) >= max_speakers:
            # the count is at its bound: the new voice may only take the place of a speaker
            # with less speech than it has alone; that speaker's frames join speaker k's and
            # follow the nearest piece like the rest
            weakest = _weakest(binary, k)
            if weakest is None or binary[:, weakest].sum() * grid.step >= (
                len(halves[moving]) * FEATURE_STEP
            ):
                continue
            binary[:, k] = np.maximum(binary[:, k], binary[:, weakest])
            binary[:, weakest] = 0.0
            centroids[weakest] = voices[moving]
            target = weakest
            fresh.add(target)
        elif target is None:
            target = binary.shape[1]
            binary = np.concatenate([binary, np.zeros((binary.shape[0], 1), binary.dtype)], 1)
            centroids = np.concatenate([centroids, voices[moving][None]], 0)
        frames = np.flatnonzero(binary[:, k] > 0)
        move = frames[_nearest_piece(pieces, grid.middle(frames), labels) == moving]
        binary[move, k] = 0.0
        binary[move, target] = 1.0
    return binary, centroids


def _bipartition(x: FloatArray) -> IntArray:
    """Two groups of unit vectors by average linkage (on an even subset when there are many)."""
    chosen = np.unique(np.linspace(0, len(x) - 1, min(len(x), MAX_CLUSTERED_PIECES)).round())
    chosen = chosen.astype(np.int64)
    labels = constrained_ahc(
        x[chosen],
        np.arange(len(chosen), dtype=np.int64),
        threshold=np.inf,
        penalty=0.0,
        min_clusters=2,
        max_clusters=2,
    )
    if len(chosen) == len(x):
        return labels
    means = np.stack([x[chosen[labels == g]].mean(axis=0) for g in (0, 1)])
    out: IntArray = np.argmax(x @ means.T, axis=1).astype(np.int64)
    out[chosen] = labels
    return out


def _nearest_piece(
    pieces: Sequence[IntArray], times: npt.NDArray[np.float64], labels: IntArray
) -> IntArray:
    """The label of the piece whose centre is nearest each of ``times`` (seconds)."""
    centres = np.array([feature_times(p).mean() for p in pieces])
    if len(centres) == 1:
        return np.full(len(times), labels[0], dtype=np.int64)
    order = np.argsort(centres, kind="stable")
    centres, ordered = centres[order], labels[order]
    right = np.clip(np.searchsorted(centres, times), 1, len(centres) - 1)
    left = right - 1
    pick = np.where(times - centres[left] <= centres[right] - times, left, right)
    result: IntArray = ordered[pick]
    return result


def _destination(
    binary: FloatArray,
    speaker: int,
    output_frame: IntArray,
    embed: Embed,
    voice: FloatArray,
    threshold: float,
) -> int | None:
    """The other speaker whose lone speech sounds most like ``voice``, if alike enough."""
    alone = binary.sum(axis=1) == 1
    others = []
    for j in range(binary.shape[1]):
        if j == speaker:
            continue
        frames = np.flatnonzero(((binary[:, j] > 0) & alone)[output_frame])
        if len(frames) * FEATURE_STEP >= MIN_PIECE_SECONDS:
            others.append((j, frames.astype(np.int64)))
    if not others:
        return None
    similarity = embed([f for _, f in others]) @ voice
    best = int(np.argmax(similarity))
    return others[best][0] if similarity[best] >= threshold else None


def _weakest(binary: FloatArray, speaker: int) -> int | None:
    """The speaker other than ``speaker`` with the least speech (``None`` if none talks)."""
    frames = binary.sum(axis=0)
    others = [j for j in range(binary.shape[1]) if j != speaker and frames[j] > 0]
    return min(others, key=lambda j: float(frames[j])) if others else None


def _pieces(mask: npt.NDArray[np.bool_]) -> list[IntArray]:
    """Feature frames of ``mask`` in windows of ``PIECE_SECONDS`` every ``PIECE_HOP_SECONDS``."""
    width = round(PIECE_SECONDS / FEATURE_STEP)
    hop = round(PIECE_HOP_SECONDS / FEATURE_STEP)
    least = round(MIN_PIECE_SECONDS / FEATURE_STEP)
    pieces: list[IntArray] = []
    for start in range(0, len(mask), hop):
        members = np.flatnonzero(mask[start : start + width]).astype(np.int64) + start
        if len(members) >= least:
            pieces.append(members)
    return pieces


def _output_frame_of_features(grid: FrameGrid, num_features: int, num_frames: int) -> IntArray:
    """The output frame whose centre is nearest each CAM++ feature frame."""
    times = feature_times(np.arange(num_features))
    index = np.rint((times - grid.start - grid.duration / 2) / grid.step).astype(np.int64)
    result: IntArray = np.clip(index, 0, max(num_frames - 1, 0))
    return result
