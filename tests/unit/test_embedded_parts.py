"""The embedded diarizer's pure parts (clustering, windows and turns), on synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from scribe.adapters.diarization.embedded.clustering import cluster
from scribe.adapters.diarization.embedded.turns import make_windows, windows_to_turns


def _blobs(counts: list[int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(counts), 192))
    x = np.concatenate(
        [c + 0.35 * rng.normal(size=(n, 192)) for c, n in zip(centres, counts, strict=True)]
    )
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_cluster_estimates_count_and_honours_bounds() -> None:
    x = _blobs([20, 15, 12])
    labels = cluster(x)
    assert len(set(labels.tolist())) == 3
    assert labels[:20].tolist() == [labels[0]] * 20
    assert len(set(cluster(x, num_speakers=5).tolist())) == 5
    assert len(set(cluster(x, max_speakers=2).tolist())) <= 2
    assert len(set(cluster(x, min_speakers=4).tolist())) >= 4
    assert len(set(cluster(_blobs([6]), num_speakers=2).tolist())) == 2  # short: agglomerative
    assert cluster(x[:1]).tolist() == [0]


def test_windows_and_turns() -> None:
    regions = [(0.0, 3.0), (4.0, 4.2), (5.0, 5.3)]
    windows = make_windows(regions, length=1.5, hop=0.75, min_length=0.25)
    assert windows[0][0] == (0.0, 1.5) and windows[0][-1][1] == pytest.approx(3.0)
    assert windows[1] == [] and windows[2] == [(5.0, 5.3)]
    labels = [0] * (len(windows[0]) - 1) + [1] + [1]
    turns = windows_to_turns(regions, windows, labels)
    assert [t.speaker for t in turns] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_01", "SPEAKER_01"]
    assert turns[0].start == 0.0 and turns[1].end == pytest.approx(3.0)
    assert (turns[2].start, turns[2].end) == (4.0, 4.2)  # too short to embed: nearest window
