"""From clustered local speakers back to global speaker turns (pure numpy).

The segmentation model labels, in each 10 s chunk of a sliding window, up to three *local*
speakers per frame. This module holds the steps around clustering, as pyannote.audio 3.x does
them (``SpeakerDiarization.reconstruct``, ``speaker_count``, ``to_diarization``):

- :func:`powerset_to_multilabel`: the model's powerset classes (nobody, A, B, C, A+B, A+C, B+C)
  to per-speaker activity.
- :func:`speaker_count`: how many speakers talk in each output frame (the rounded mean, over
  the chunks that see the frame, of the local speakers active there).
- :func:`reconstruct`: each global speaker's activation per frame (summed over chunks), and in
  each frame the ``count`` most active speakers talk. Two speakers in one frame is overlap.
- :func:`binary_to_turns`: runs of active frames per speaker become :class:`SpeakerTurn`.

And one step of our own, from the model's soft output (:attr:`LocalActivity.probabilities`):

- :func:`overlap_probability` and :func:`fill_overlap`: the rounded mean count misses overlap
  that only some of the windows see; where the probability of two at once, averaged over the
  windows, reaches a threshold, a frame given one speaker gets a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

from scribe.domain.transcript import SpeakerTurn

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

#: Cluster label of a local speaker that takes no part (silent in its chunk).
INACTIVE = -2


@dataclass(frozen=True)
class FrameGrid:
    """Where the segmentation model's output frames sit in time (seconds)."""

    start: float
    duration: float
    step: float

    def middle(self, index: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Centre time of output frame(s) ``index``."""
        return self.start + self.duration / 2 + np.asarray(index, dtype=np.float64) * self.step

    def index(self, time: float) -> int:
        """The output frame whose start is closest to ``time`` (a chunk's start)."""
        return int(np.rint(time / self.step))

    def count(self, seconds: float) -> int:
        """How many output frames cover ``seconds`` of audio."""
        return max(0, int(np.floor((seconds - self.start - self.duration / 2) / self.step)) + 1)


@dataclass(frozen=True)
class LocalActivity:
    """Binary activity of the local speakers of each chunk: ``(chunks, frames, local)``."""

    activity: FloatArray
    chunk_starts: npt.NDArray[np.float64]
    chunk_duration: float
    grid: FrameGrid
    probabilities: FloatArray | None = None
    """The model's soft output ``(chunks, frames, classes)``: each powerset class's probability
    (about 58 MB per hour of audio at a 1 s step); ``None`` where only the activity is known."""
    classes: FloatArray | None = None
    """``(classes, local)`` membership of the powerset classes (:func:`powerset_classes`)."""

    @property
    def num_chunks(self) -> int:
        return int(self.activity.shape[0])

    @property
    def frames_per_chunk(self) -> int:
        return int(self.activity.shape[1])

    @property
    def num_local(self) -> int:
        return int(self.activity.shape[2])


def powerset_classes(num_speakers: int, max_at_once: int) -> FloatArray:
    """``(classes, speakers)`` membership matrix of the powerset classes, in pyannote's order."""
    rows: list[list[float]] = []
    for size in range(max_at_once + 1):
        for members in combinations(range(num_speakers), size):
            rows.append([1.0 if s in members else 0.0 for s in range(num_speakers)])
    return np.asarray(rows, dtype=np.float32)


def powerset_to_multilabel(scores: FloatArray, mapping: FloatArray) -> FloatArray:
    """Hard per-speaker activity ``(..., speakers)`` from powerset scores ``(..., classes)``."""
    best = np.argmax(scores, axis=-1)
    result: FloatArray = mapping[best]
    return result


def softmax(scores: FloatArray) -> FloatArray:
    """Probabilities over the last axis from log-probabilities (or logits)."""
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    result: FloatArray = (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)
    return result


def speaker_count(local: LocalActivity, num_frames: int) -> IntArray:
    """Speakers talking in each output frame: the rounded mean over the chunks that cover it."""
    total = np.zeros(num_frames, dtype=np.float64)
    seen = np.zeros(num_frames, dtype=np.float64)
    per_chunk = local.activity.sum(axis=2)
    for chunk, start in enumerate(local.chunk_starts):
        first, frames = _placement(local, start, num_frames)
        total[first : first + frames] += per_chunk[chunk, :frames]
        seen[first : first + frames] += 1.0
    count: IntArray = np.rint(total / np.maximum(seen, 1.0)).astype(np.int64)
    return count


def overlap_probability(local: LocalActivity, num_frames: int) -> npt.NDArray[np.float64]:
    """Per output frame, the probability that two or more speakers talk, averaged over the
    chunks that cover it (as :func:`speaker_count` averages); zeros without probabilities."""
    total = np.zeros(num_frames, dtype=np.float64)
    if local.probabilities is None or local.classes is None:
        return total
    seen = np.zeros(num_frames, dtype=np.float64)
    several = (local.classes.sum(axis=1) >= 2).astype(np.float32)
    per_chunk = local.probabilities @ several
    for chunk, start in enumerate(local.chunk_starts):
        first, frames = _placement(local, start, num_frames)
        total[first : first + frames] += per_chunk[chunk, :frames]
        seen[first : first + frames] += 1.0
    result: npt.NDArray[np.float64] = total / np.maximum(seen, 1.0)
    return result


def activations(
    local: LocalActivity, clusters: IntArray, num_frames: int, *, soft: bool = False
) -> FloatArray:
    """``(frames, speakers)``: per frame, how many chunks see each global speaker talk.

    ``clusters[c, s]`` is the global speaker of local speaker ``s`` of chunk ``c`` (or
    :data:`INACTIVE`); local speakers of one chunk that share a global speaker count once.
    With ``soft``, each chunk adds the probability that the local speaker talks (its powerset
    classes' probabilities summed) instead of 0 or 1 (all zeros without probabilities).
    """
    num_speakers = max(int(clusters.max()) + 1, 0) if clusters.size else 0
    out = np.zeros((num_frames, num_speakers), dtype=np.float32)
    values = local.activity
    if soft:
        if local.probabilities is None or local.classes is None:
            return out
        values = local.probabilities @ local.classes
    for chunk, start in enumerate(local.chunk_starts):
        first, frames = _placement(local, start, num_frames)
        if frames <= 0:
            continue
        for k in np.unique(clusters[chunk]):
            if k < 0:
                continue
            members = clusters[chunk] == k
            out[first : first + frames, k] += values[chunk, :frames][:, members].max(axis=1)
    return out


def reconstruct(
    active: FloatArray,
    count: IntArray,
    *,
    min_speakers: int = 1,
    min_speaker_frames: int = 0,
) -> FloatArray:
    """``(frames, speakers)`` 0/1 diarization: in each frame the ``count`` most active speakers.

    Speakers left with fewer than ``min_speaker_frames`` frames are dropped (their frames go to
    the next most active speaker), smallest first, while more than ``min_speakers`` remain: a
    cluster that wins almost no frame is a stray, not a person. Then, when fewer than
    ``min_speakers`` speakers have frames, a speaker without frames takes the frames where it is
    at least half as active as the winner (best effort: a hint asks for more speakers than the
    model heard).
    """
    active = active.copy()
    num_speakers = active.shape[1]
    count = np.minimum(count, num_speakers)
    while True:
        binary = _top(active, count)
        present = np.flatnonzero(active.max(axis=0) > 0)
        frames = binary.sum(axis=0)
        small = [int(k) for k in present if frames[k] < min_speaker_frames]
        if not small or len(present) <= max(min_speakers, 1):
            break
        active[:, min(small, key=lambda k: frames[k])] = 0.0
        count = np.minimum(count, len(present) - 1)
    speaking = np.flatnonzero(binary.sum(axis=0) > 0)
    for k in range(num_speakers):
        if len(speaking) >= min_speakers:
            break
        if k in speaking or active[:, k].max() <= 0:
            continue
        winner = active.max(axis=1)
        take = (active[:, k] >= 0.5 * winner) & (count > 0)
        if take.any():
            binary[take] = 0.0
            binary[take, k] = 1.0
            speaking = np.flatnonzero(binary.sum(axis=0) > 0)
    return binary


def fill_overlap(
    binary: FloatArray,
    before: FloatArray,
    overlap: npt.NDArray[np.float64],
    soft: FloatArray,
    threshold: float,
) -> FloatArray:
    """``binary`` with a second speaker in the frames given one where ``overlap >= threshold``.

    ``soft`` ``(frames, clusters)`` is :func:`activations` with ``soft``, indexed by the
    clustering's speakers; ``before`` ``(frames, clusters)`` is :func:`reconstruct`'s output,
    and ``binary`` the diarization after the passes that move frames between speakers (split,
    minor fold), which may add columns. The second speaker is the cluster most probably
    talking in the frame, other than those whose frames went to the speaker already there,
    taken where its frames went: of its destinations (other than that speaker), the one that
    talks nearest in time.
    """
    out = binary.copy()
    clusters = min(soft.shape[1], before.shape[1])
    if clusters < 2 or not 0 < threshold < 1:
        return out
    alone = np.flatnonzero((out.sum(axis=1) == 1) & (overlap >= threshold))
    if not len(alone):
        return out
    # transfer[c, d]: frames of cluster c alone before the passes that speaker d holds after
    single = before[:, :clusters] * (before.sum(axis=1, keepdims=True) == 1)
    transfer = single.T.astype(np.float64) @ out.astype(np.float64)
    share = transfer / np.maximum(transfer.sum(axis=1, keepdims=True), 1.0)
    related = share >= 0.1  # (clusters, speakers): c is (partly) speaker d's own voice
    speaker = np.argmax(out[alone], axis=1)
    scores = soft[alone][:, :clusters].astype(np.float64)
    for d in np.unique(speaker).tolist():
        rows = speaker == d
        # a cluster that is part of d, or whose frames went nowhere else, cannot be the second
        elsewhere = (transfer > 0) & (np.arange(out.shape[1]) != d)[None, :]
        blocked = related[:, d] | ~elsewhere.any(axis=1)
        scores[np.ix_(rows, blocked)] = -np.inf
    second = np.argmax(scores, axis=1)
    keep = scores[np.arange(len(alone)), second] > 0
    alone, speaker, second = alone[keep], speaker[keep], second[keep]
    nearest = _distance_to_activity(out)
    for c, d in {(int(c), int(d)) for c, d in zip(second, speaker, strict=True)}:
        rows = (second == c) & (speaker == d)
        destinations = np.flatnonzero((transfer[c] > 0) & (np.arange(out.shape[1]) != d))
        frames = alone[rows]
        pick = destinations[np.argmin(nearest[np.ix_(frames, destinations)], axis=1)]
        out[frames, pick] = 1.0
    return out


def binary_to_turns(
    binary: FloatArray, grid: FrameGrid, min_gap: float = 0.0, labels: list[str] | None = None
) -> list[SpeakerTurn]:
    """Runs of active frames per speaker as turns (start and end at frame centres), sorted.

    Gaps shorter than ``min_gap`` inside one speaker's speech are bridged. Speakers are named
    ``labels[k]`` (default ``SPEAKER_kk``); speakers with no frame yield no turn.
    """
    turns: list[SpeakerTurn] = []
    edges = grid.middle(np.arange(binary.shape[0] + 1))
    for k in range(binary.shape[1]):
        on = np.diff(np.concatenate([[0], (binary[:, k] > 0).astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(on == 1), np.flatnonzero(on == -1)
        spans: list[tuple[float, float]] = []
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            begin, finish = float(edges[a]), float(edges[b])
            if spans and begin - spans[-1][1] < min_gap:
                spans[-1] = (spans[-1][0], finish)
            else:
                spans.append((begin, finish))
        name = labels[k] if labels is not None else f"SPEAKER_{k:02d}"
        turns.extend(SpeakerTurn(a, b, name) for a, b in spans)
    return sorted(turns, key=lambda t: (t.start, t.end, t.speaker))


def _top(active: FloatArray, count: IntArray) -> FloatArray:
    order = np.argsort(-active, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(active.shape[0])[:, None]
    ranks[rows, order] = np.arange(active.shape[1])[None, :]
    binary: FloatArray = ((ranks < count[:, None]) & (active > 0)).astype(np.float32)
    return binary


def _distance_to_activity(binary: FloatArray) -> npt.NDArray[np.float64]:
    """``(frames, speakers)``: frames from each frame to the speaker's nearest active frame."""
    frames = binary.shape[0]
    index = np.arange(frames, dtype=np.float64)[:, None]
    active = binary > 0
    last = np.maximum.accumulate(np.where(active, index, -np.inf), axis=0)
    following = np.where(active, index, np.inf)[::-1]
    upcoming = np.minimum.accumulate(following, axis=0)[::-1]
    result: npt.NDArray[np.float64] = np.minimum(index - last, upcoming - index)
    return result


def _placement(local: LocalActivity, start: float, num_frames: int) -> tuple[int, int]:
    """First output frame of a chunk, and how many of its frames fall inside the output."""
    first = local.grid.index(start)
    return first, max(0, min(local.frames_per_chunk, num_frames - first))
