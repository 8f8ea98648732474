"""Naming diarized speakers after known voices: cosine similarity plus a one-to-one assignment.

Both diarizers use it: each computes one voiceprint (an embedding vector) per diarized label and
per known speaker with its own encoder, and this pairs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

Voiceprint = npt.NDArray[Any]


def match_voiceprints(
    speakers: Mapping[str, Voiceprint],
    known: Mapping[str, Voiceprint],
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


def _normalised(x: Voiceprint) -> Voiceprint:
    result: Voiceprint = x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-8)
    return result
