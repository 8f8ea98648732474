"""From speech regions to windows, and from labelled windows back to speaker turns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from scribe.domain.transcript import SpeakerTurn

Region = tuple[float, float]
Window = tuple[float, float]
FRAME = 0.01  # seconds: the time resolution of the turns


def make_windows(
    regions: Sequence[Region], length: float, hop: float, min_length: float
) -> list[list[Window]]:
    """Overlapping windows inside each speech region (never across a silence).

    A region shorter than ``length`` gets one window covering it (none when shorter than
    ``min_length``); a longer one gets windows every ``hop`` seconds, the last one ending
    exactly at the region's end.
    """
    out: list[list[Window]] = []
    for start, end in regions:
        windows: list[Window] = []
        if end - start <= length:
            if end - start >= min_length:
                windows.append((start, end))
        else:
            count = int(np.ceil((end - start - length) / hop)) + 1
            step = (end - start - length) / (count - 1)
            windows = [(start + i * step, start + i * step + length) for i in range(count)]
        out.append(windows)
    return out


def windows_to_turns(
    regions: Sequence[Region],
    windows: Sequence[Sequence[Window]],
    labels: Sequence[int],
    min_turn: float = 0.0,
) -> list[SpeakerTurn]:
    """Speaker turns covering exactly the speech regions.

    Every 10 ms frame of a region takes the label of the window whose centre is nearest, so a
    speaker change lands halfway between the centres of the two windows that disagree. A region
    without windows (too short to embed) takes the label of the nearest window in time. Runs
    shorter than ``min_turn`` inside a region go to their longer neighbour, unless that would
    remove a speaker altogether. Consecutive frames of one speaker make one turn.
    """
    flat = [(w, int(label)) for w, label in zip(_flatten(windows), labels, strict=True)]
    if not flat:
        return []
    all_centres = np.array([(a + b) / 2 for (a, b), _ in flat])
    all_labels = np.array([label for _, label in flat], dtype=np.int64)
    turns: list[SpeakerTurn] = []
    offset = 0
    for (start, end), region_windows in zip(regions, windows, strict=True):
        count = len(region_windows)
        if count:
            centres = all_centres[offset : offset + count]
            region_labels = all_labels[offset : offset + count]
        else:
            nearest = int(np.argmin(np.abs(all_centres - (start + end) / 2)))
            centres, region_labels = all_centres[nearest : nearest + 1], all_labels[nearest:][:1]
        offset += count
        frames = max(1, round((end - start) / FRAME))
        times = start + (np.arange(frames) + 0.5) * (end - start) / frames
        frame_labels = region_labels[_nearest(centres, times)]
        runs = _runs(frame_labels)
        edges = start + np.array([0, *np.cumsum([n for _, n in runs])]) * (end - start) / frames
        turns.extend(
            SpeakerTurn(float(edges[i]), float(edges[i + 1]), f"SPEAKER_{label:02d}")
            for i, (label, _) in enumerate(runs)
        )
    return absorb_short_turns(turns, min_turn)


def absorb_short_turns(turns: Sequence[SpeakerTurn], min_turn: float) -> list[SpeakerTurn]:
    """Give a turn shorter than ``min_turn`` that touches another speaker's turn to the longer
    touching neighbour, unless it is its speaker's last turn. Touching same-speaker turns join.
    """
    out = list(turns)
    while True:
        candidates = [
            i
            for i, t in enumerate(out)
            if t.duration < min_turn
            and _touching(out, i)
            and sum(1 for o in out if o.speaker == t.speaker) > 1
        ]
        if not candidates:
            return _join(out)
        index = min(candidates, key=lambda i: out[i].duration)
        target = max(_touching(out, index), key=lambda i: out[i].duration)
        out[index] = SpeakerTurn(out[index].start, out[index].end, out[target].speaker)
        out = _join(out)


def _touching(turns: Sequence[SpeakerTurn], index: int) -> list[int]:
    near = [index - 1, index + 1]
    return [
        i
        for i in near
        if 0 <= i < len(turns)
        and turns[i].speaker != turns[index].speaker
        and abs(
            (turns[i].end if i < index else turns[i].start)
            - (turns[index].start if i < index else turns[index].end)
        )
        < 1e-6
    ]


def _join(turns: Sequence[SpeakerTurn]) -> list[SpeakerTurn]:
    out: list[SpeakerTurn] = []
    for turn in turns:
        if out and out[-1].speaker == turn.speaker and abs(out[-1].end - turn.start) < 1e-6:
            out[-1] = SpeakerTurn(out[-1].start, turn.end, turn.speaker)
        else:
            out.append(turn)
    return out


def _flatten(windows: Sequence[Sequence[Window]]) -> list[Window]:
    return [w for region in windows for w in region]


def _nearest(
    centres: npt.NDArray[np.float64], times: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """Index of the nearest centre (sorted ascending) for each time."""
    right = np.clip(np.searchsorted(centres, times), 0, len(centres) - 1)
    left = np.clip(right - 1, 0, len(centres) - 1)
    use_left = np.abs(times - centres[left]) <= np.abs(centres[right] - times)
    return np.where(use_left, left, right)


def _runs(labels: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for label in labels.tolist():
        if runs and runs[-1][0] == label:
            runs[-1] = (label, runs[-1][1] + 1)
        else:
            runs.append((label, 1))
    return runs
