"""Splitting a diarized speaker whose lone speech holds two voices (pure numpy, fake encoder)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from scribe.adapters.diarization.embedded import splitting
from scribe.adapters.diarization.embedded.reconstruction import FrameGrid
from scribe.adapters.diarization.embedded.splitting import SplitSettings, split_mixed_speakers

# Output frames on the CAM++ feature grid (20 ms), so feature frame i is output frame i.
GRID = FrameGrid(start=0.0, duration=0.02, step=0.02)
PER_SECOND = 50
DIM = 16


def _voice(similarity_to_first: float, axis: int = 1) -> np.ndarray:
    """A unit vector with the given cosine similarity to the first basis vector."""
    v = np.zeros(DIM)
    v[0] = similarity_to_first
    v[axis] = np.sqrt(1 - similarity_to_first**2)
    return v


A = _voice(1.0)
B = _voice(0.3)  # another person: pooled similarity 0.3 to A
A_TWIN = _voice(0.9, axis=2)  # A on another day: 0.9 alike


class FakeEncoder:
    """Frames carry a voice vector plus noise; pooling is the normalised mean."""

    def __init__(self, voices: Sequence[np.ndarray], seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.features = np.stack(voices, axis=1) + 0.8 * rng.standard_normal((DIM, len(voices)))

    def __call__(self, sets: Sequence[np.ndarray]) -> np.ndarray:
        out = np.stack([self.features[:, s].mean(axis=1) for s in sets])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def _run(
    binary: np.ndarray,
    voices: Sequence[np.ndarray],
    centroids: Sequence[np.ndarray],
    max_speakers: int = 20,
    settings: SplitSettings | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    encoder = FakeEncoder(voices)
    return split_mixed_speakers(
        binary.astype(np.float32),
        GRID,
        len(voices),
        encoder,
        np.asarray(centroids, dtype=np.float32),
        max_speakers=max_speakers,
        settings=settings,
    )


def test_a_speaker_holding_two_voices_is_split_in_two() -> None:
    seconds = 20
    voices = [A] * (12 * PER_SECOND) + [B] * (8 * PER_SECOND)
    binary = np.ones((seconds * PER_SECOND, 1))
    out, centroids = _run(binary, voices, [A])
    assert out.shape[1] == 2
    # the minority voice, further from the cluster's centroid, is the one that moves
    assert out[: 11 * PER_SECOND, 0].all() and not out[: 11 * PER_SECOND, 1].any()
    assert out[13 * PER_SECOND :, 1].all() and not out[13 * PER_SECOND :, 0].any()
    assert (out.sum(axis=1) == 1).all()  # every frame kept, none doubled
    assert centroids.shape == (2, DIM)
    assert float(centroids[1] @ B) > 0.9  # the new speaker's voiceprint is B's


def test_one_voice_is_left_alone() -> None:
    voices = [A] * (20 * PER_SECOND)
    binary = np.ones((len(voices), 1))
    out, centroids = _run(binary, voices, [A])
    np.testing.assert_array_equal(out, binary)
    assert centroids.shape == (1, DIM)


def test_a_part_that_sounds_like_a_known_speaker_joins_them() -> None:
    # speaker 0 talks 0-10 s (A) and, by segmentation's mistake, 10-16 s (really B);
    # speaker 1 is B, talking alone 16-26 s
    voices = [A] * (10 * PER_SECOND) + [B] * (16 * PER_SECOND)
    binary = np.zeros((len(voices), 2))
    binary[: 16 * PER_SECOND, 0] = 1
    binary[16 * PER_SECOND :, 1] = 1
    out, centroids = _run(binary, voices, [A, B])
    assert out.shape[1] == 2
    assert out[11 * PER_SECOND : 16 * PER_SECOND, 1].all()
    assert out[: 9 * PER_SECOND, 0].all()
    assert centroids.shape == (2, DIM)


def test_close_voices_and_short_halves_are_not_split() -> None:
    voices = [A] * (12 * PER_SECOND) + [A_TWIN] * (8 * PER_SECOND)
    binary = np.ones((len(voices), 1))
    out, _ = _run(binary, voices, [A])
    assert out.shape[1] == 1  # 0.9 alike: one person
    voices = [A] * (18 * PER_SECOND) + [B] * (1 * PER_SECOND)
    binary = np.ones((len(voices), 1))
    out, _ = _run(binary, voices, [A])
    assert out.shape[1] == 1  # 1 s of the other voice: under min_seconds, not trusted
    out, _ = _run(binary, voices, [A], settings=SplitSettings(min_seconds=0.5))
    assert out.shape[1] == 2


@pytest.mark.parametrize("threshold", [-1.0, 0.2])
def test_threshold_turns_the_pass_off(threshold: float) -> None:
    voices = [A] * (12 * PER_SECOND) + [B] * (8 * PER_SECOND)
    binary = np.ones((len(voices), 1))
    out, _ = _run(binary, voices, [A], settings=SplitSettings(threshold=threshold))
    assert out.shape[1] == 1


def test_no_new_speaker_beyond_the_maximum() -> None:
    voices = [A] * (12 * PER_SECOND) + [B] * (8 * PER_SECOND)
    binary = np.ones((len(voices), 1))
    out, centroids = _run(binary, voices, [A], max_speakers=1)
    np.testing.assert_array_equal(out, binary)
    assert centroids.shape == (1, DIM)


C = _voice(0.0, axis=3)


@pytest.mark.parametrize(("stray_seconds", "replaced"), [(1, True), (9, False)])
def test_at_the_bound_a_new_voice_replaces_a_speaker_with_less_speech(
    stray_seconds: int, replaced: bool
) -> None:
    # speaker 0 holds A (12 s) then B (8 s); speaker 1 is C, talking alone at the end
    voices = [A] * (12 * PER_SECOND) + [B] * (8 * PER_SECOND) + [C] * (stray_seconds * PER_SECOND)
    binary = np.zeros((len(voices), 2))
    binary[: 20 * PER_SECOND, 0] = 1
    binary[20 * PER_SECOND :, 1] = 1
    out, centroids = _run(binary, voices, [A, C], max_speakers=2)
    assert out.shape[1] == 2 and centroids.shape == (2, DIM)
    if replaced:  # B (8 s alone) outweighs C (1 s): C's frames follow the nearest piece
        assert out[13 * PER_SECOND :, 1].all() and not out[13 * PER_SECOND :, 0].any()
        assert float(centroids[1] @ B) > 0.9
    else:  # C (9 s) outweighs B: the split waits for a count that allows it
        np.testing.assert_array_equal(out, binary)


def test_overlap_frames_follow_the_nearest_piece() -> None:
    # speaker 0 holds A then B; speaker 1 overlaps it at 17-18 s (inside the B part)
    voices = [A] * (12 * PER_SECOND) + [B] * (8 * PER_SECOND)
    binary = np.zeros((len(voices), 2))
    binary[:, 0] = 1
    binary[17 * PER_SECOND : 18 * PER_SECOND, 1] = 1
    out, _ = _run(binary, voices, [A, _voice(0.0, axis=3)])
    assert out.shape[1] == 3
    overlap = slice(17 * PER_SECOND, 18 * PER_SECOND)
    assert out[overlap, 2].all() and not out[overlap, 0].any()
    assert out[overlap, 1].all()  # the other talker is untouched


def test_long_speech_is_split_with_a_clustered_subset_of_pieces() -> None:
    # 300 s of lone speech: about 600 pieces, more than average linkage is given
    voices = [A] * (200 * PER_SECOND) + [B] * (100 * PER_SECOND)
    binary = np.ones((len(voices), 1))
    assert len(splitting._pieces(np.ones(len(voices), dtype=bool))) > (
        splitting.MAX_CLUSTERED_PIECES
    )
    out, _ = _run(binary, voices, [A])
    assert out.shape[1] == 2
    assert out[: 199 * PER_SECOND, 0].all() and out[201 * PER_SECOND :, 1].all()


def test_nearest_piece_matches_a_brute_force_search() -> None:
    rng = np.random.default_rng(3)
    pieces = [np.arange(a, a + 20, dtype=np.int64) for a in sorted(rng.choice(5000, 40, False))]
    labels = rng.integers(0, 2, len(pieces)).astype(np.int64)
    times = rng.uniform(-1.0, 110.0, 500)
    centres = np.array([splitting.feature_times(p).mean() for p in pieces])
    expected = labels[np.abs(times[:, None] - centres[None, :]).argmin(axis=1)]
    np.testing.assert_array_equal(splitting._nearest_piece(pieces, times, labels), expected)
    one = splitting._nearest_piece(pieces[:1], times, labels[:1])
    assert (one == labels[0]).all()
