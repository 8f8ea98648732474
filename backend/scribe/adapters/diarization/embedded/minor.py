"""Folding minor speakers into the voice they most resemble (pure numpy).

After clustering and the split pass, a meeting can keep a label or two that hold a second of
speech: the local speaker segmentation found while two people talked over each other, or a
noise it took for a voice (AMI ``dev01``: 1.1 s and 0.5 s beside two speakers of 7-8 s each).
The fixed stray limit (``EmbeddedSettings.min_speaker``, 0.3 s) cannot tell them from a real
person who said one word, so this rule is relative to the recording and asks for two more
reasons before merging:

- the speaker holds under ``max_share`` of the recording's speech;
- its centroid is at least ``min_similarity`` alike to another speaker's (clustering's own
  bar for one person);
- the two never talk at the same time in the diarization (speakers heard at once are two
  people, whatever their voices' similarity).

A short label with a clearly different voice (AMI ``trn03``: a second speaker's one second,
0.32 alike) and a short label heard over another speaker (``trn08``, ``stereo_two_voices``)
stay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class MinorSettings:
    """When a minor speaker is taken for part of another."""

    max_share: float = 0.04
    """Share of the recording's speech (frames of all speakers) under which a speaker is
    minor; 0 turns the rule off."""
    min_similarity: float = 0.5
    """Centroid cosine similarity a minor speaker needs to the speaker it folds into."""


def fold_minor_speakers(
    binary: FloatArray,
    centroids: FloatArray,
    *,
    min_speakers: int = 1,
    settings: MinorSettings | None = None,
) -> FloatArray:
    """``(frames, speakers)`` diarization with minor speakers folded into their nearest voice.

    Speakers are looked at smallest first; a speaker that received another's frames is not
    folded itself. At most down to ``min_speakers`` speakers (a hint's lower bound).
    """
    s = settings or MinorSettings()
    out = binary.copy()
    if s.max_share <= 0:
        return out
    total = float(out.sum())
    norms = np.linalg.norm(centroids, axis=1)
    unit = centroids / np.maximum(norms, 1e-8)[:, None]
    grown: set[int] = set()
    frames = out.sum(axis=0)
    for k in np.argsort(frames, kind="stable").tolist():
        present = [j for j in range(out.shape[1]) if out[:, j].any()]
        if k not in present or k in grown or len(present) <= max(min_speakers, 1):
            continue
        if float(out[:, k].sum()) >= s.max_share * total or norms[k] <= 0:
            continue
        talking = out[:, k] > 0
        candidates = [
            j for j in present if j != k and norms[j] > 0 and not (talking & (out[:, j] > 0)).any()
        ]
        if not candidates:
            continue
        similarity = {j: float(unit[k] @ unit[j]) for j in candidates}
        best = max(candidates, key=lambda j: similarity[j])
        if similarity[best] < s.min_similarity:
            continue
        out[talking, best] = 1.0
        out[:, k] = 0.0
        grown.add(best)
    return out
