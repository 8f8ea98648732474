"""Clustering local speakers into global ones, respecting what segmentation found (pure numpy).

Input: one embedding per (chunk, local speaker) of the sliding-window segmentation. Two local
speakers of one chunk are, by the segmentation model's own judgement, two different people, so
clustering is constrained:

1. **Training set**: embeddings of local speakers with at least ``min_clean`` seconds of speech
   not overlapped by another local speaker (their embedding is trustworthy); on longer
   recordings an evenly spread subset of chunks (neighbouring chunks overlap by 90 %).
2. **Constrained agglomerative clustering**: average linkage on cosine similarity, where a pair
   of clusters that holds two local speakers of one chunk has ``cannot_link_penalty`` taken off
   its similarity (a soft cannot-link: a segmentation slip that splits one voice in two can
   still merge when the voices match closely). Merging stops below ``threshold``, which sets
   the speaker count unless hints fix it or bound it.
3. **Assignment**: every local speaker (also those left out of training) goes to the most
   similar centroid, one-to-one within a chunk (Hungarian), as pyannote's constrained
   assignment; local speakers beyond the number of clusters take their best centroid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .reconstruction import INACTIVE, LocalActivity

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ClusterSettings:
    """Clustering knobs. Similarities are cosine similarities of L2-normalised embeddings."""

    threshold: float = 0.5
    """Average-linkage similarity below which two clusters stay apart (count not fixed)."""
    cannot_link_penalty: float = 1.0
    """Taken off the similarity of clusters holding two local speakers of one chunk."""
    min_clean: float = 1.0
    """Seconds of non-overlapped speech a local speaker needs to join the training set."""
    max_speakers: int = 20
    """Upper bound on the estimated count when the caller gives none."""
    max_training: int = 1200
    """At most this many training embeddings (chunks are thinned evenly beyond it)."""


@dataclass(frozen=True)
class Clusters:
    """The global speaker of each local speaker, ``(chunks, local)`` (``INACTIVE`` if silent),
    and each global speaker's centroid ``(speakers, dim)`` (L2-normalised)."""

    assignment: IntArray
    centroids: FloatArray

    @property
    def num_speakers(self) -> int:
        return int(self.centroids.shape[0])


def cluster_local_speakers(
    embeddings: FloatArray,
    local: LocalActivity,
    *,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    settings: ClusterSettings | None = None,
) -> Clusters:
    """Cluster ``(chunks, local, dim)`` embeddings (NaN rows: silent local speakers)."""
    s = settings or ClusterSettings()
    chunks, num_local, dim = embeddings.shape
    valid: npt.NDArray[np.bool_] = np.asarray(~np.isnan(embeddings).any(axis=2))
    if not valid.any():
        return Clusters(
            np.full((chunks, num_local), INACTIVE, dtype=np.int64), np.zeros((0, dim), np.float32)
        )
    train: npt.NDArray[np.bool_] = valid & (_clean_seconds(local) >= s.min_clean)
    if train.sum() < 2:
        train = valid
    train &= _thinned(chunks, int(train.sum()), s.max_training)[:, None]
    chunk_ids, local_ids = np.nonzero(train)
    x = _normalised(embeddings[chunk_ids, local_ids])
    n = len(x)
    if num_speakers is not None:
        low = high = max(1, min(num_speakers, n))
    else:
        high = max(1, min(max_speakers or max(s.max_speakers, min_speakers or 1), n))
        low = max(1, min(min_speakers or 1, high))
    labels = constrained_ahc(
        x,
        chunk_ids,
        threshold=s.threshold,
        penalty=s.cannot_link_penalty,
        min_clusters=low,
        max_clusters=high,
    )
    centroids = _normalised(
        np.stack([x[labels == k].mean(axis=0) for k in range(labels.max() + 1)])
    )
    return Clusters(assign(embeddings, valid, centroids), centroids)


def constrained_ahc(
    x: FloatArray,
    groups: IntArray,
    *,
    threshold: float,
    penalty: float,
    min_clusters: int = 1,
    max_clusters: int | None = None,
) -> IntArray:
    """Average-linkage agglomerative clustering of unit vectors with soft cannot-links.

    Members sharing a ``groups`` value (local speakers of one chunk) should not end up
    together: a pair of clusters holding such members has ``penalty`` taken off its average
    similarity. The most similar pair merges while its (penalised) similarity is at least
    ``threshold`` or there are more than ``max_clusters``, and never below ``min_clusters``.
    Labels are ``0..k-1`` in order of first member.
    """
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    high = n if max_clusters is None else max(1, min(max_clusters, n))
    low = max(1, min(min_clusters, high))
    similarity = (x @ x.T).astype(np.float64)
    conflicts = (groups[:, None] == groups[None, :]).astype(np.float64)
    np.fill_diagonal(conflicts, 0.0)
    sizes = np.ones(n)
    alive = np.ones(n, dtype=bool)
    owner = np.arange(n)
    count = n
    score = similarity - penalty * (conflicts > 0)
    np.fill_diagonal(score, -np.inf)
    while count > low:
        i, j = np.unravel_index(int(np.argmax(score)), score.shape)
        if score[i, j] < threshold and count <= high:
            break
        # merge j into i (average linkage: size-weighted mean of the similarity rows)
        similarity[i] = (sizes[i] * similarity[i] + sizes[j] * similarity[j]) / (
            sizes[i] + sizes[j]
        )
        similarity[:, i] = similarity[i]
        conflicts[i] += conflicts[j]
        conflicts[:, i] = conflicts[i]
        sizes[i] += sizes[j]
        alive[j] = False
        owner[owner == j] = i
        count -= 1
        row = similarity[i] - penalty * (conflicts[i] > 0)
        row[~alive] = -np.inf
        row[i] = -np.inf
        score[i], score[:, i] = row, row
        score[j], score[:, j] = -np.inf, -np.inf
    _, labels = np.unique(owner, return_inverse=True)
    return _first_appearance(labels.astype(np.int64))


def assign(embeddings: FloatArray, valid: npt.NDArray[np.bool_], centroids: FloatArray) -> IntArray:
    """Each valid local speaker's cluster: one-to-one within a chunk where possible."""
    from scipy.optimize import linear_sum_assignment

    chunks, num_local, _ = embeddings.shape
    out = np.full((chunks, num_local), INACTIVE, dtype=np.int64)
    similarity = np.nan_to_num(_normalised(embeddings) @ centroids.T, nan=-2.0)
    for chunk in range(chunks):
        members = np.flatnonzero(valid[chunk])
        if len(members) == 0:
            continue
        rows, cols = linear_sum_assignment(similarity[chunk, members], maximize=True)
        out[chunk, members[rows]] = cols
        rest = np.setdiff1d(members, members[rows])
        if len(rest):
            out[chunk, rest] = similarity[chunk, rest].argmax(axis=1)
    return out


def _clean_seconds(local: LocalActivity) -> npt.NDArray[np.float64]:
    """Seconds each local speaker talks alone in its chunk, ``(chunks, local)``."""
    alone = local.activity.sum(axis=2, keepdims=True) == 1
    frames: npt.NDArray[np.float64] = (local.activity * alone).sum(axis=1) * local.grid.step
    return frames


def _thinned(chunks: int, candidates: int, limit: int) -> npt.NDArray[np.bool_]:
    """Chunks kept for training: all, or every k-th when there are too many candidates."""
    keep = np.zeros(chunks, dtype=bool)
    every = max(1, int(np.ceil(candidates / max(limit, 1))))
    keep[::every] = True
    return keep


def _normalised(x: FloatArray) -> FloatArray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return result


def _first_appearance(labels: IntArray) -> IntArray:
    order: dict[int, int] = {}
    for label in labels.tolist():
        order.setdefault(label, len(order))
    return np.asarray([order[label] for label in labels.tolist()], dtype=np.int64)
