"""The embedded diarizer's pure parts (powerset, counting, clustering, reconstruction, masks)."""

from __future__ import annotations

import numpy as np
import pytest

from scribe.adapters.diarization.embedded.clustering import (
    ClusterSettings,
    cluster_local_speakers,
    constrained_ahc,
)
from scribe.adapters.diarization.embedded.masks import MIN_FRAMES, local_frames, span_frames
from scribe.adapters.diarization.embedded.reconstruction import (
    INACTIVE,
    FrameGrid,
    LocalActivity,
    activations,
    binary_to_turns,
    fill_overlap,
    overlap_probability,
    powerset_classes,
    powerset_to_multilabel,
    reconstruct,
    speaker_count,
)

GRID = FrameGrid(start=0.0, duration=0.1, step=0.1)  # round numbers: frame i centred at i/10+0.05


def _local(activity: np.ndarray, step: float = 1.0) -> LocalActivity:
    chunks, frames, _ = activity.shape
    starts = np.arange(chunks, dtype=np.float64) * step
    return LocalActivity(activity.astype(np.float32), starts, frames * GRID.step, GRID)


def test_powerset_classes_follow_pyannote_order() -> None:
    mapping = powerset_classes(3, 2)
    assert mapping.tolist() == [
        [0, 0, 0],
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [1, 1, 0],
        [1, 0, 1],
        [0, 1, 1],
    ]
    scores = np.array([[0.9, 0.1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0.8, 0.2]], dtype=np.float32)
    assert powerset_to_multilabel(scores, mapping).tolist() == [[0, 0, 0], [1, 0, 1]]


def test_speaker_count_is_the_rounded_mean_over_chunks() -> None:
    # two 1 s chunks (10 frames) one second apart: frames 10-19 are seen by the second only
    activity = np.zeros((2, 10, 3))
    activity[0, :, 0] = 1
    activity[0, 5:, 1] = 1  # overlap in the second half of chunk 0
    activity[1, :, 0] = 1
    count = speaker_count(_local(activity), 20)
    assert count[:5].tolist() == [1] * 5
    assert count[5:10].tolist() == [2] * 5
    assert count[10:].tolist() == [1] * 10


def test_reconstruct_gives_two_turns_at_once_where_speakers_overlap() -> None:
    activity = np.zeros((1, 20, 3))
    activity[0, :12, 0] = 1
    activity[0, 8:, 1] = 1
    local = _local(activity)
    clusters = np.array([[0, 1, INACTIVE]])
    binary = reconstruct(activations(local, clusters, 20), speaker_count(local, 20))
    turns = binary_to_turns(binary, GRID)
    assert [(t.speaker, round(t.start, 2), round(t.end, 2)) for t in turns] == [
        ("SPEAKER_00", 0.05, 1.25),
        ("SPEAKER_01", 0.85, 2.05),
    ]


def test_local_speakers_of_one_cluster_count_once() -> None:
    activity = np.zeros((1, 10, 3))
    activity[0, :, 0] = 1
    activity[0, :, 1] = 1
    active = activations(_local(activity), np.array([[0, 0, INACTIVE]]), 10)
    assert active[:, 0].tolist() == [1.0] * 10
    binary = reconstruct(active, np.full(10, 2))
    assert binary.sum(axis=1).tolist() == [1.0] * 10  # no second speaker to give the overlap


def test_reconstruct_drops_stray_speakers_but_honours_a_minimum() -> None:
    active = np.zeros((30, 3), dtype=np.float32)
    active[:20, 0] = 3
    active[20:, 1] = 3
    active[10:12, 2] = 4  # wins two frames only
    count = np.ones(30, dtype=np.int64)
    binary = reconstruct(active, count, min_speaker_frames=3)
    assert binary[:, 2].sum() == 0 and binary[10:12, 0].tolist() == [1, 1]
    kept = reconstruct(active, count, min_speakers=3, min_speaker_frames=3)
    assert kept[:, 2].sum() == 2
    # a forced extra speaker that never wins takes the frames where it is half as active
    active[10:15, 2] = 2
    forced = reconstruct(active, count, min_speakers=3, min_speaker_frames=0)
    assert forced[:, 2].sum() == 5 and forced.sum(axis=1).tolist() == [1.0] * 30


def _soft_local(probabilities: np.ndarray) -> LocalActivity:
    """Chunks of powerset probabilities ``(chunks, frames, 7)``, one second apart."""
    classes = powerset_classes(3, 2)
    activity = powerset_to_multilabel(probabilities.astype(np.float32), classes)
    chunks = probabilities.shape[0]
    return LocalActivity(
        activity,
        np.arange(chunks, dtype=np.float64),
        probabilities.shape[1] * GRID.step,
        GRID,
        probabilities=probabilities.astype(np.float32),
        classes=classes,
    )


def _overlap_case() -> tuple[LocalActivity, np.ndarray, np.ndarray]:
    """Two 2 s chunks one second apart: A talks in frames 0-19 (local 0 of both), B (local 1
    of chunk 0, local 2 of chunk 1) alone in frames 20-29 and with A in frames 10-14; C (local 2
    of chunk 0) is a third voice, barely probable there. Neither chunk's best guess there is
    two at once (A alone at 0.5 and 0.6, A+B at 0.45 and 0.4), so the count says one, but on
    average P(two) = 0.425."""
    probabilities = np.zeros((2, 20, 7))
    probabilities[0, :, 1] = 1.0  # A alone
    probabilities[0, 10:15] = [0, 0.5, 0, 0.05, 0.45, 0, 0]
    probabilities[1, :10, 1] = 1.0
    probabilities[1, :5] = [0, 0.6, 0, 0, 0, 0.4, 0]  # chunk 1's frames 0-4 are frames 10-14
    probabilities[1, 10:, 3] = 1.0  # B alone
    local = _soft_local(probabilities)
    clusters = np.array([[0, 1, 2], [0, INACTIVE, 1]])
    binary = reconstruct(activations(local, clusters, 30), speaker_count(local, 30))
    binary[27:] = [0, 0, 1]  # C talks at the end (so it has frames to be found at)
    return local, clusters, binary


def test_overlap_probability_is_averaged_over_the_chunks() -> None:
    local, _, _ = _overlap_case()
    overlap = overlap_probability(local, 30)
    np.testing.assert_allclose(overlap[10:15], 0.425, rtol=1e-6)
    np.testing.assert_allclose(overlap[:10], 0.0)
    np.testing.assert_allclose(overlap[15:], 0.0)
    bare = LocalActivity(local.activity, local.chunk_starts, local.chunk_duration, GRID)
    assert not overlap_probability(bare, 30).any()


def test_fill_overlap_gives_the_frame_its_most_probable_second_speaker() -> None:
    local, clusters, binary = _overlap_case()
    assert binary[10:15].tolist() == [[1.0, 0.0, 0.0]] * 5
    overlap = overlap_probability(local, 30)
    soft = activations(local, clusters, 30, soft=True)
    filled = fill_overlap(binary, binary, overlap, soft, 0.4)
    assert filled[10:15].tolist() == [[1.0, 1.0, 0.0]] * 5  # B (0.85) before C (0.05)
    untouched = np.ones(30, dtype=bool)
    untouched[10:15] = False
    assert (filled[untouched] == binary[untouched]).all()
    # below the threshold, or with the fill off, nothing changes
    for threshold in (0.45, 0.0, 1.0):
        assert (fill_overlap(binary, binary, overlap, soft, threshold) == binary).all()


def test_fill_overlap_follows_the_passes_that_moved_frames() -> None:
    local, clusters, before = _overlap_case()
    overlap = overlap_probability(local, 30)
    soft = activations(local, clusters, 30, soft=True)
    # a split moved A's frames 10-19 to a new speaker 3, and B's frames 20-23 to speaker 4
    after = np.concatenate([before, np.zeros((30, 2), np.float32)], axis=1)
    after[10:20] = [0, 0, 0, 1, 0]
    after[20:24] = [0, 0, 0, 0, 1]
    filled = fill_overlap(after, before, overlap, soft, 0.4)
    # A's cluster (the most probable one there) is speaker 3's own voice, so B is second, and
    # of B's two destinations the one talking nearest in time takes the overlap
    assert filled[10:15].tolist() == [[0, 0, 0, 1, 1]] * 5
    assert (np.delete(filled, np.s_[10:15], axis=0) == np.delete(after, np.s_[10:15], axis=0)).all()


def test_turns_bridge_short_gaps() -> None:
    binary = np.zeros((20, 1), dtype=np.float32)
    binary[2:6, 0] = binary[7:12, 0] = 1
    assert len(binary_to_turns(binary, GRID)) == 2
    (turn,) = binary_to_turns(binary, GRID, min_gap=0.15, labels=["A"])
    assert (turn.speaker, round(turn.start, 2), round(turn.end, 2)) == ("A", 0.25, 1.25)


def _voices(counts: list[int], seed: int = 0, spread: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(counts), 192))
    x = np.concatenate(
        [c + spread * rng.normal(size=(n, 192)) for c, n in zip(centres, counts, strict=True)]
    )
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_constrained_ahc_counts_voices_and_honours_bounds() -> None:
    x = _voices([20, 15, 12])
    groups = np.arange(len(x))  # no cannot-link
    labels = constrained_ahc(x, groups, threshold=0.5, penalty=1.0)
    assert len(set(labels.tolist())) == 3 and set(labels[:20].tolist()) == {0}
    five = constrained_ahc(x, groups, threshold=0.5, penalty=1.0, min_clusters=5)
    assert len(set(five.tolist())) == 5
    two = constrained_ahc(x, groups, threshold=0.5, penalty=1.0, max_clusters=2)
    assert len(set(two.tolist())) == 2
    assert constrained_ahc(x[:1], groups[:1], threshold=0.5, penalty=1.0).tolist() == [0]


def test_cannot_link_keeps_local_speakers_of_one_chunk_apart() -> None:
    # two similar voices (they would merge at this threshold) that talk in the same chunks
    rng = np.random.default_rng(1)
    base = rng.normal(size=192)
    a = base + 0.6 * rng.normal(size=192) + 0.3 * rng.normal(size=(8, 192))
    b = base + 0.6 * rng.normal(size=192) + 0.3 * rng.normal(size=(8, 192))
    x = np.concatenate([a, b])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    apart = np.arange(16)
    together = np.concatenate([np.arange(8), np.arange(8)])  # a[i] and b[i] share chunk i
    threshold = float((x[:8] @ x[8:].T).mean()) - 0.05
    merged = constrained_ahc(x, apart, threshold=threshold, penalty=1.0)
    assert len(set(merged.tolist())) == 1
    split = constrained_ahc(x, together, threshold=threshold, penalty=1.0)
    assert sorted(set(split[:8].tolist())) != sorted(set(split[8:].tolist()))
    assert len(set(split.tolist())) == 2
    # a soft link: one voice that segmentation split in two, nearly identical, still merges
    twin = np.concatenate([x[:8], x[:8]])
    assert len(set(constrained_ahc(twin, together, threshold=0.5, penalty=0.3).tolist())) == 1


def test_cluster_local_speakers_assigns_one_to_one_within_a_chunk() -> None:
    x = _voices([6, 6], seed=3)
    chunks = 6
    embeddings = np.full((chunks, 3, 192), np.nan, dtype=np.float32)
    embeddings[:, 0] = x[:6]
    embeddings[:, 1] = x[6:]
    activity = np.zeros((chunks, 40, 3))
    activity[:, :20, 0] = 1
    activity[:, 20:, 1] = 1
    local = _local(activity)
    settings = ClusterSettings(threshold=0.5, min_clean=1.0)
    found = cluster_local_speakers(embeddings, local, settings=settings)
    assert found.num_speakers == 2
    assert (found.assignment[:, 2] == INACTIVE).all()
    assert len(set(found.assignment[:, 0].tolist())) == 1
    assert (found.assignment[:, 0] != found.assignment[:, 1]).all()
    np.testing.assert_allclose(np.linalg.norm(found.centroids, axis=1), 1.0, rtol=1e-5)
    # one speaker forced: every local speaker goes to it, none is dropped
    one = cluster_local_speakers(embeddings, local, num_speakers=1, settings=settings)
    assert one.num_speakers == 1 and (one.assignment[:, :2] == 0).all()
    silent = cluster_local_speakers(np.full((2, 3, 192), np.nan, np.float32), _local(activity[:2]))
    assert silent.num_speakers == 0 and (silent.assignment == INACTIVE).all()


def test_masks_leave_out_overlap_unless_too_little_remains() -> None:
    grid = FrameGrid(start=0.0, duration=0.02, step=0.02)  # same rate as the CAM++ features
    activity = np.zeros((1, 100, 3), dtype=np.float32)
    activity[0, :60, 0] = 1
    activity[0, 50:, 1] = 1
    activity[0, 95:, 2] = 1  # 5 frames: too few to embed
    local = LocalActivity(activity, np.array([0.0]), 2.0, grid)
    masks = local_frames(local, 100)
    assert set(masks) == {(0, 0), (0, 1)}
    assert masks[(0, 0)].tolist() == list(range(50))
    assert masks[(0, 1)].tolist() == list(range(60, 95))
    kept = local_frames(local, 100, exclude_overlap=False)
    assert len(kept[(0, 0)]) == 60 and len(kept[(0, 1)]) == 50
    assert len(span_frames([(0.0, 0.5), (1.0, 1.1)], 100)) == 25 + 5 >= MIN_FRAMES


@pytest.mark.parametrize("seconds", [0.5, 10.0, 31.3])
def test_grid_counts_frames_inside_the_audio(seconds: float) -> None:
    grid = FrameGrid(start=0.0, duration=0.0619375, step=0.016875)
    frames = grid.count(seconds)
    assert grid.middle(frames - 1) <= seconds < grid.middle(frames) + grid.step


def test_overlap_threshold_is_checked() -> None:
    from scribe.adapters.diarization.embedded.diarizer import EmbeddedSettings

    assert EmbeddedSettings().overlap_threshold == 0.35
    assert EmbeddedSettings(overlap_threshold=0.0).overlap_threshold == 0.0  # off
    for wrong in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="overlap_threshold"):
            EmbeddedSettings(overlap_threshold=wrong)
