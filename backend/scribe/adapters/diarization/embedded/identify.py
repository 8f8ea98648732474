"""Naming diarized speakers after known voices: cosine similarity plus a one-to-one assignment."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


def match_speakers(
    speakers: Mapping[str, FloatArray],
    known: Mapping[str, FloatArray],
    threshold: float,
) -> dict[str, str]:
    """Map speaker labels to known names, one name per label at most.

    The Hungarian assignment maximises the summed cosine similarity of the pairs; a pair below
    ``threshold`` is dropped, so that label stays anonymous (and that name unused).
    """
    if not speakers or not known:
        return {}
    from scipy.optimize import linear_sum_assignment

    labels, names = list(speakers), list(known)
    a = _normalised(np.stack([speakers[label] for label in labels]))
    b = _normalised(np.stack([known[name] for name in names]))
    similarity = a @ b.T
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return {
        labels[r]: names[c]
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
        if similarity[r, c] >= threshold
    }


def _normalised(x: FloatArray) -> FloatArray:
    result: FloatArray = x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-8)
    return result
