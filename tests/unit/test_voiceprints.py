"""Naming speakers after known voices: the cosine + Hungarian matcher both diarizers use."""

from __future__ import annotations

import numpy as np

from scribe.adapters.diarization.voiceprints import match_voiceprints


def test_pairs_one_to_one_above_threshold() -> None:
    a, b, c = np.eye(3)
    labels = {"S0": a + 0.1 * b, "S1": b, "S2": c}
    known = {"bob": b + 0.05 * a, "alice": a}
    assert match_voiceprints(labels, known, 0.5) == {"S0": "alice", "S1": "bob"}
    assert match_voiceprints(labels, known, 1.01) == {}
    assert match_voiceprints(labels, {"carol": -a}, 0.5) == {}
    assert match_voiceprints({}, known, 0.5) == {}
    assert match_voiceprints(labels, {}, 0.5) == {}


def test_the_assignment_maximises_the_total_not_each_pair() -> None:
    # S0 is a little closer to alice than S1 is, but S1 has nobody else: alice goes to S1.
    labels = {"S0": np.array([1.0, 0.9]), "S1": np.array([1.0, 0.0])}
    known = {"alice": np.array([1.0, 0.0]), "bob": np.array([0.0, 1.0])}
    assert match_voiceprints(labels, known, 0.5) == {"S0": "bob", "S1": "alice"}


def test_scale_and_dtype_do_not_matter_and_zero_vectors_match_nobody() -> None:
    rng = np.random.default_rng(0)
    voices = rng.normal(size=(3, 192)).astype(np.float32)
    labels = {f"S{i}": 7.0 * v for i, v in enumerate(voices)}
    known = {"x": voices[2].astype(np.float64), "y": voices[0] * 0.01}
    assert match_voiceprints(labels, known, 0.99) == {"S2": "x", "S0": "y"}
    silent = {"S0": np.zeros(192, dtype=np.float32)}
    assert match_voiceprints(silent, {"x": voices[0]}, 0.1) == {}
