"""Clustering window embeddings into speakers: spectral clustering plus a refinement pass.

Spectral clustering (as in 3D-Speaker and SpeechBrain): a cosine affinity matrix pruned to each
window's nearest neighbours, its graph Laplacian, the speaker count from the largest eigengap
(within the caller's bounds), k-means on the leading eigenvectors. Then, unless the caller fixed
the count, clusters that are tiny or whose centroids are almost the same voice are merged, and
finally every window moves to its nearest cluster centroid (a few k-means steps in the
embedding space), which cleans up windows the graph step placed badly.

Very few windows (a short clip) make a poor graph; those go to average-linkage agglomerative
clustering with a similarity threshold instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ClusterSettings:
    """Clustering knobs. Similarities are cosine similarities of L2-normalised embeddings."""

    max_speakers: int = 10
    """Upper bound on the estimated count when the caller gives none."""
    neighbours: int = 6
    """Each window keeps at least this many strongest affinities (the rest are zeroed) ..."""
    neighbour_share: float = 0.012
    """... or this share of all windows, whichever is larger."""
    merge_similarity: float = 0.85
    """Two clusters whose centroids are more similar than this are one speaker."""
    min_cluster_windows: int = 4
    """A cluster with fewer windows is folded into its nearest neighbour (count not fixed)."""
    refine_iterations: int = 3
    """Nearest-centroid reassignment passes after the graph step."""
    min_windows_for_spectral: int = 10
    """Fewer windows than this use agglomerative clustering."""
    agglomerative_similarity: float = 0.4
    """Average-linkage merge threshold for short clips when the count is not fixed."""
    max_spectral_windows: int = 2000
    """Longer recordings cluster an evenly spread subset, then place every window by centroid
    (the eigendecomposition is cubic in the number of windows)."""


def cluster(
    embeddings: FloatArray,
    *,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    settings: ClusterSettings | None = None,
) -> IntArray:
    """Cluster L2-normalised embeddings ``(n, d)``; labels are ``0..k-1`` (``k <= n``)."""
    s = settings or ClusterSettings()
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if num_speakers is not None:
        low = high = min(num_speakers, n)
    else:
        high = min(max_speakers or max(s.max_speakers, min_speakers or 1), n)
        low = min(min_speakers or 1, high)
    if high <= 1:
        return np.zeros(n, dtype=np.int64)
    fixed = low == high

    if n < s.min_windows_for_spectral:
        labels = _agglomerative(embeddings, low, high, s.agglomerative_similarity)
    else:
        subset = embeddings
        if n > s.max_spectral_windows:
            picks = np.linspace(0, n - 1, s.max_spectral_windows).round().astype(np.int64)
            subset = embeddings[picks]
        labels = _spectral(subset, low, high, s)
        if not fixed:
            labels = _fold_small(subset, labels, low, s.min_cluster_windows)
            labels = _merge_similar(subset, labels, low, s.merge_similarity)
        if len(subset) < n:
            ids, centres = _centroids(subset, labels)
            labels = ids[np.argmax(embeddings @ centres.T, axis=1)]
    labels = _refine(embeddings, labels, s.refine_iterations)
    return _relabel(_split_until(embeddings, labels, low))


def _spectral(x: FloatArray, low: int, high: int, s: ClusterSettings) -> IntArray:
    from sklearn.cluster import KMeans

    n = len(x)
    affinity = x @ x.T
    keep = min(n, max(s.neighbours, int(np.ceil(s.neighbour_share * n))) + 1)
    pruned = np.zeros_like(affinity)
    top = np.argsort(-affinity, axis=1)[:, :keep]
    rows = np.arange(n)[:, None]
    pruned[rows, top] = affinity[rows, top]
    pruned = np.clip(0.5 * (pruned + pruned.T), 0.0, None)
    np.fill_diagonal(pruned, 0.0)
    laplacian = np.diag(pruned.sum(axis=1)) - pruned
    values, vectors = np.linalg.eigh(laplacian)
    if low == high:
        k = low
    else:
        gaps = np.diff(values[low - 1 : high + 1])
        k = int(np.argmax(gaps)) + low
    spectral = vectors[:, :k]
    kmeans = KMeans(n_clusters=k, n_init=10, random_state=0)
    labels: IntArray = kmeans.fit_predict(spectral).astype(np.int64)
    return labels


def _agglomerative(x: FloatArray, low: int, high: int, threshold: float) -> IntArray:
    """Average linkage on cosine similarity: merge while above ``threshold`` or above ``high``."""
    clusters: list[list[int]] = [[i] for i in range(len(x))]
    sim = x @ x.T
    while len(clusters) > low:
        best, pair = -np.inf, (0, 1)
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                value = float(sim[np.ix_(clusters[i], clusters[j])].mean())
                if value > best:
                    best, pair = value, (i, j)
        if len(clusters) <= high and best < threshold:
            break
        i, j = pair
        clusters[i] += clusters.pop(j)
    labels = np.zeros(len(x), dtype=np.int64)
    for label, members in enumerate(clusters):
        labels[members] = label
    return labels


def _centroids(x: FloatArray, labels: IntArray) -> tuple[IntArray, FloatArray]:
    ids = np.unique(labels)
    centres = np.stack([x[labels == i].mean(axis=0) for i in ids])
    centres /= np.linalg.norm(centres, axis=1, keepdims=True).clip(1e-8)
    return ids, centres.astype(np.float32)


def _fold_small(x: FloatArray, labels: IntArray, low: int, min_size: int) -> IntArray:
    """Move the windows of clusters smaller than ``min_size`` to their nearest larger cluster."""
    labels = labels.copy()
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        if len(ids) <= low or counts.min() >= min_size:
            return labels
        small = ids[np.argmin(counts)]
        others = ids[ids != small]
        _, centres = _centroids(x[labels != small], labels[labels != small])
        members = np.where(labels == small)[0]
        labels[members] = others[np.argmax(x[members] @ centres.T, axis=1)]


def _merge_similar(x: FloatArray, labels: IntArray, low: int, threshold: float) -> IntArray:
    """Merge the two most similar clusters while their centroids are above ``threshold``."""
    labels = labels.copy()
    while True:
        ids, centres = _centroids(x, labels)
        if len(ids) <= max(low, 1):
            return labels
        sim = centres @ centres.T
        np.fill_diagonal(sim, -np.inf)
        i, j = np.unravel_index(int(np.argmax(sim)), sim.shape)
        if sim[i, j] < threshold:
            return labels
        labels[labels == ids[j]] = ids[i]


def _refine(x: FloatArray, labels: IntArray, iterations: int) -> IntArray:
    """Nearest-centroid reassignment; stops early, and never lets a cluster vanish."""
    for _ in range(iterations):
        ids, centres = _centroids(x, labels)
        moved = ids[np.argmax(x @ centres.T, axis=1)]
        if len(np.unique(moved)) < len(ids) or np.array_equal(moved, labels):
            break
        labels = moved
    return labels


def _split_until(x: FloatArray, labels: IntArray, low: int) -> IntArray:
    """Split the least coherent cluster in two until there are ``low`` clusters."""
    labels = labels.copy()
    while len(np.unique(labels)) < low:
        ids, centres = _centroids(x, labels)
        spread = [
            float(1.0 - (x[labels == i] @ centres[k]).mean()) if (labels == i).sum() > 1 else -1.0
            for k, i in enumerate(ids)
        ]
        target = ids[int(np.argmax(spread))]
        members = np.where(labels == target)[0]
        if len(members) < 2:
            return labels
        # the member least like the centroid seeds the new cluster; members closer to it join
        seed = members[int(np.argmin(x[members] @ centres[int(np.argmax(spread))]))]
        centre = centres[int(np.argmax(spread))]
        moved = members[(x[members] @ x[seed]) > (x[members] @ centre)]
        if not 0 < len(moved) < len(members):
            moved = np.array([seed])
        labels[moved] = labels.max() + 1
    return labels


def _relabel(labels: IntArray) -> IntArray:
    """Labels 0..k-1 in order of first appearance."""
    order: dict[int, int] = {}
    for label in labels.tolist():
        order.setdefault(label, len(order))
    return np.array([order[label] for label in labels.tolist()], dtype=np.int64)
