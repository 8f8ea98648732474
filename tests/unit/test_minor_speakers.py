"""Folding minor speakers into the voice they resemble (pure numpy)."""

from __future__ import annotations

import numpy as np

from scribe.adapters.diarization.embedded.minor import MinorSettings, fold_minor_speakers


def _unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


MAIN = _unit(1.0, 0.0, 0.0)
OTHER = _unit(0.0, 1.0, 0.0)
LIKE_MAIN = _unit(0.8, 0.0, 0.6)  # 0.8 alike to MAIN
UNLIKE = _unit(0.3, 0.0, 0.95)  # 0.3 alike to MAIN


def _diarization(spans: list[list[tuple[int, int]]], frames: int = 1000) -> np.ndarray:
    binary = np.zeros((frames, len(spans)), dtype=np.float32)
    for k, runs in enumerate(spans):
        for a, b in runs:
            binary[a:b, k] = 1.0
    return binary


def test_a_small_label_like_a_speaker_it_never_talks_over_folds_into_it() -> None:
    binary = _diarization([[(0, 450)], [(500, 980)], [(455, 475)]])  # third: 2 % of speech
    out = fold_minor_speakers(binary, np.stack([MAIN, OTHER, LIKE_MAIN]))
    assert not out[:, 2].any()
    assert out[455:475, 0].all() and not out[455:475, 1].any()
    assert out.sum() == binary.sum()


def test_a_small_label_stays_when_its_voice_differs() -> None:
    binary = _diarization([[(0, 450)], [(500, 980)], [(455, 475)]])
    out = fold_minor_speakers(binary, np.stack([MAIN, OTHER, UNLIKE]))
    np.testing.assert_array_equal(out, binary)


def test_a_small_label_heard_over_its_look_alike_stays() -> None:
    binary = _diarization([[(0, 450)], [(500, 980)], [(400, 420)]])  # inside MAIN's speech
    out = fold_minor_speakers(binary, np.stack([MAIN, OTHER, LIKE_MAIN]))
    np.testing.assert_array_equal(out, binary)


def test_a_label_with_a_real_share_of_the_speech_stays() -> None:
    binary = _diarization([[(0, 450)], [(500, 980)], [(455, 495)]])  # 40 of 960 frames: 4.2 %
    out = fold_minor_speakers(binary, np.stack([MAIN, OTHER, LIKE_MAIN]))
    np.testing.assert_array_equal(out, binary)
    lenient = MinorSettings(max_share=0.05)
    out = fold_minor_speakers(binary, np.stack([MAIN, OTHER, LIKE_MAIN]), settings=lenient)
    assert not out[:, 2].any()


def test_hints_and_the_switch_are_honoured() -> None:
    binary = _diarization([[(0, 450)], [(500, 980)], [(455, 475)]])
    centroids = np.stack([MAIN, OTHER, LIKE_MAIN])
    kept = fold_minor_speakers(binary, centroids, min_speakers=3)
    np.testing.assert_array_equal(kept, binary)
    off = fold_minor_speakers(binary, centroids, settings=MinorSettings(max_share=0.0))
    np.testing.assert_array_equal(off, binary)


def test_a_lone_speaker_is_never_folded_away() -> None:
    binary = _diarization([[(0, 10)]])
    out = fold_minor_speakers(binary, np.stack([MAIN]))
    np.testing.assert_array_equal(out, binary)
