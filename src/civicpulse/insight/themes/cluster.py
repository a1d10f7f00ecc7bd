"""Clustering of submission vectors into themes: over-cluster with k-means, then merge centroids.

Steps (all seeded; the input is put in a canonical order by id first, so the result does not depend
on the order items arrive in):

1. centre the vectors (e5 vectors share a large common direction) and L2-normalise them;
2. reduce to ``dims`` with randomised PCA when wider;
3. k-means with many more clusters than themes (``2 * sqrt(n)``, at most ``max_fine``);
4. merge the fine centroids by average-linkage agglomerative clustering on cosine distance, at the
   number of themes (up to ``max_themes``) whose silhouette on a sample of items is best;
5. themes lighter than ``min_share`` of the slice are dissolved; their members join the nearest
   remaining theme when its cosine is at least ``assign_threshold``, else stay unassigned (-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNASSIGNED = -1


@dataclass(frozen=True)
class ClusterParams:
    """Knobs of the clustering; the defaults were chosen on VNTC and ViCTSD (see bench/themes.py)."""

    seed: int = 0
    dims: int = 128
    max_fine: int = 2000
    max_themes: int = 30
    min_themes: int = 2
    min_share: float = 0.01
    assign_threshold: float = 0.2
    silhouette_sample: int = 3000
    linkage: str = "average"
    fine_factor: float = 2.0
    refine: int = 5


@dataclass(frozen=True)
class Clustering:
    """Theme of each item (``-1``: unassigned), unit centroids in the reduced space, and the space."""

    labels: np.ndarray
    centroids: np.ndarray
    mean: np.ndarray
    components: np.ndarray | None

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """``vectors`` in the space the centroids live in (centred, reduced, unit length)."""
        return _unit(_reduce(_unit(np.asarray(vectors, dtype=np.float32) - self.mean), self.components))


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def _reduce(x: np.ndarray, components: np.ndarray | None) -> np.ndarray:
    return x if components is None else x @ components.T


def _pca(x: np.ndarray, w: np.ndarray, dims: int) -> np.ndarray | None:
    """The ``dims`` leading principal axes (rows) of the weighted, centred ``x``; exact and cheap
    (an eigen-decomposition of the d x d covariance), with signs fixed for determinism."""
    if x.shape[1] <= dims or x.shape[0] <= dims:
        return None
    xc = x - (x * w[:, None]).sum(axis=0) / max(w.sum(), 1e-9)
    cov = (xc * w[:, None]).T @ xc
    values, vectors = np.linalg.eigh(cov.astype(np.float64))
    axes = vectors[:, np.argsort(values)[::-1][:dims]].T
    signs = np.sign(axes[np.arange(dims), np.argmax(np.abs(axes), axis=1)])
    return (axes * signs[:, None]).astype(np.float32)


def _weighted_centroids(x: np.ndarray, labels: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    sums = np.zeros((k, x.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, x * weights[:, None])
    return _unit(sums.astype(np.float32))


def _merge(fine: np.ndarray, fine_of_item: np.ndarray, x: np.ndarray, p: ClusterParams) -> np.ndarray:
    """Theme of each fine cluster, at the cut with the best silhouette on a sample of items."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    k_fine = fine.shape[0]
    if k_fine <= p.min_themes:
        return np.arange(k_fine)
    tree = AgglomerativeClustering(
        n_clusters=None,
        distance_threshold=0.0,
        linkage=p.linkage,
        metric="euclidean" if p.linkage == "ward" else "cosine",
        compute_full_tree=True,
    ).fit(fine)
    rng = np.random.default_rng(p.seed)
    pick = np.sort(rng.choice(len(x), size=min(len(x), p.silhouette_sample), replace=False))
    sample = x[pick]
    distances = np.clip(1.0 - sample @ sample.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    best: tuple[float, np.ndarray] | None = None
    for k in range(p.min_themes, min(p.max_themes, k_fine - 1) + 1):
        assign = _cut(tree.children_, k_fine, k)
        item_labels = assign[fine_of_item[pick]]
        if len(set(item_labels.tolist())) < 2:
            continue
        score = float(silhouette_score(distances, item_labels, metric="precomputed"))
        if best is None or score > best[0] + 1e-9:
            best = (score, assign)
    return best[1] if best is not None else np.zeros(k_fine, dtype=np.int64)


def _cut(children: np.ndarray, n_leaves: int, k: int) -> np.ndarray:
    """Leaf -> cluster when the merge tree is cut into ``k`` clusters."""
    parent = np.arange(2 * n_leaves - 1)
    for step, (a, b) in enumerate(children[: n_leaves - k]):
        node = n_leaves + step
        parent[a] = node
        parent[b] = node

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    roots = [root(i) for i in range(n_leaves)]
    index = {r: j for j, r in enumerate(dict.fromkeys(roots))}
    return np.asarray([index[r] for r in roots], dtype=np.int64)


def cluster(
    vectors: np.ndarray,
    ids: np.ndarray,
    weights: np.ndarray | None = None,
    params: ClusterParams | None = None,
) -> Clustering:
    """Themes of ``vectors`` (one row per item, ``ids`` unique); see the module docstring."""
    from sklearn.cluster import KMeans

    p = params or ClusterParams()
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    w = np.ones(n, dtype=np.float64) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(np.asarray(ids), kind="stable")
    x0 = _unit(vectors[order])
    w0 = w[order]
    mean = (x0 * w0[:, None]).sum(axis=0) / max(w0.sum(), 1e-9)
    centred = _unit(x0 - mean)
    components = _pca(centred, w0, p.dims)
    x = _unit(_reduce(centred, components))
    if n < 3:
        labels = np.zeros(n, dtype=np.int64)
        return _finish(x, labels, w0, order, mean, components)
    k_fine = int(min(p.max_fine, n, max(p.min_themes, round(p.fine_factor * np.sqrt(n)))))
    if n <= p.max_fine:  # small slices: every item is a leaf of the merge tree, no k-means at all
        k_fine, fine_of_item = n, np.arange(n)
    else:
        km = KMeans(n_clusters=k_fine, n_init=1, max_iter=50, random_state=p.seed)
        fine_of_item = km.fit(x, sample_weight=w0).labels_
    fine = _weighted_centroids(x, fine_of_item, w0, k_fine)
    labels = _refine(x, _merge(fine, fine_of_item, x, p)[fine_of_item], w0, p.refine)
    labels = _dissolve_small(x, labels, w0, p)
    return _finish(x, labels, w0, order, mean, components)


def _refine(x: np.ndarray, labels: np.ndarray, w: np.ndarray, rounds: int) -> np.ndarray:
    """A few rounds of moving each item to its nearest theme centroid (fixes items that the
    merge tree put with a neighbour rather than with their theme)."""
    for _ in range(rounds):
        k = int(labels.max()) + 1
        moved = np.argmax(x @ _weighted_centroids(x, labels, w, k).T, axis=1)
        if np.array_equal(moved, labels):
            break
        labels = moved
    return labels


def _dissolve_small(x: np.ndarray, labels: np.ndarray, w: np.ndarray, p: ClusterParams) -> np.ndarray:
    mass = np.bincount(labels, weights=w)
    keep = np.flatnonzero(mass >= p.min_share * w.sum())
    if len(keep) == 0:
        keep = np.asarray([int(np.argmax(mass))])
    centroids = _weighted_centroids(x, labels, w, len(mass))[keep]
    out = labels.copy()
    loose = ~np.isin(labels, keep)
    if loose.any():
        sims = x[loose] @ centroids.T
        nearest = keep[np.argmax(sims, axis=1)]
        out[loose] = np.where(sims.max(axis=1) >= p.assign_threshold, nearest, UNASSIGNED)
    return out


def _finish(
    x: np.ndarray,
    labels: np.ndarray,
    w: np.ndarray,
    order: np.ndarray,
    mean: np.ndarray,
    components: np.ndarray | None,
) -> Clustering:
    """Renumber themes by weight (heaviest first, ties by first item) and undo the canonical order."""
    present = [t for t in dict.fromkeys(labels.tolist()) if t != UNASSIGNED]
    mass = {t: float(w[labels == t].sum()) for t in present}
    ranked = sorted(present, key=lambda t: (-mass[t], int(np.argmax(labels == t))))
    mapping = {t: i for i, t in enumerate(ranked)}
    canonical = np.asarray([mapping.get(t, UNASSIGNED) for t in labels.tolist()], dtype=np.int64)
    safe = np.where(canonical == UNASSIGNED, 0, canonical)
    k = len(ranked)
    centroids = (
        _weighted_centroids(x, safe, np.where(canonical == UNASSIGNED, 0.0, w), k)
        if k
        else np.zeros((0, x.shape[1]), np.float32)
    )
    result = np.empty_like(canonical)
    result[order] = canonical
    return Clustering(labels=result, centroids=centroids, mean=mean.astype(np.float32), components=components)
