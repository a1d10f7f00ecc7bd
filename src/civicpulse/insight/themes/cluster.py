"""Clustering of submission vectors into themes: over-cluster with k-means, then merge centroids.

Steps (all seeded; the input is put in a canonical order first, by a hash of the text, so the result
depends neither on the order items arrive in nor on the ids a store gave them):

1. centre the vectors (e5 vectors share a large common direction) and L2-normalise them; when the
   items' languages are given, remove the directions that tell the languages apart (the offsets of
   each language's mean from the overall mean), so that a mixed-language slice is grouped by what
   people say rather than by the language they say it in;
2. reduce to ``dims`` with PCA when wider (or when language directions were removed, so that
   ``Clustering.project`` removes them from new vectors too, without knowing their language);
   themes come from embeddings plus words: in slices of at least ``word_min_items`` with texts,
   each reduced vector is joined with its text's words (TF-IDF reduced by truncated SVD, centred,
   language directions removed, unit length), the words weighing ``word_weight`` of the squared
   length; the steps below run in that joined space, but the theme centroids are taken in the
   vectors' space alone, so that new vectors are assigned without their words;
   in slices of ``smooth_min_items`` to ``smooth_max_items``, each item's point is then averaged
   with those of its ``smooth`` nearest neighbours (one step over the nearest-neighbour graph),
   which lifts what a short comment shares with its neighbours above its own noise (larger
   slices get that averaging from k-means' fine clusters). Figures: docs/benchmarks.md;
3. k-means with many more clusters than themes (``2 * sqrt(n)``, at most ``max_fine``);
4. merge the fine centroids by average-linkage agglomerative clustering on cosine distance, at the
   number of themes (up to ``max_themes``) whose partition of a sample of items has the highest
   modularity on the sample's ``neighbours``-nearest-neighbour graph: the themes that keep the most
   of each item's near neighbours with it, beyond what themes of their sizes would by chance.
   (Silhouette, used before, favours the coarsest clear split: a slice of two languages, or of
   news articles and comments, came out as two themes; modularity looks at local neighbourhoods
   and prefers the finer themes within them);
5. themes lighter than ``min_share`` of the slice are dissolved; their members join the nearest
   remaining theme when its cosine is at least ``assign_threshold``, else stay unassigned (-1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
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
    criterion_sample: int = 3000
    neighbours: int = 5
    resolution: float = 1.0  # above 1 favours more, smaller themes
    linkage: str = "average"
    fine_factor: float = 2.0
    refine: int = 5
    language_share: float = 0.05  # a language weighing at least this share (and 10 items) is levelled
    word_weight: float = 0.3  # share of the words (TF-IDF) in the clustering space; 0: vectors only
    word_dims: int = 100
    word_chars: int = 1000  # of each text (the e5 model reads its first 128 tokens only)
    word_min_df: int = 2
    smooth: int = 10  # each item joins the mean of its nearest neighbours (0: off)
    smooth_min_items: int = 200  # below this, 10 neighbours are too large a share of the slice
    smooth_max_items: int = 5000  # above this, k-means' fine clusters do the averaging
    word_min_items: int = 200  # below this, document frequencies are too few to weigh words by


MIN_LANGUAGE_ITEMS = 10
KMEANS_SEED_SAMPLE = 10_000


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


def _language_axes(
    x: np.ndarray, w: np.ndarray, languages: Sequence[str | None], p: ClusterParams
) -> np.ndarray | None:
    """Orthonormal rows spanning the offsets of each main language's weighted mean from the overall
    mean (``None`` unless at least two languages weigh ``p.language_share`` and 10 items each)."""
    codes = np.asarray([code or "" for code in languages])
    total = max(float(w.sum()), 1e-9)
    mean = (x * w[:, None]).sum(axis=0) / total
    offsets = []
    for code in sorted(set(codes.tolist()) - {""}):
        member = codes == code
        mass = float(w[member].sum())
        if member.sum() >= MIN_LANGUAGE_ITEMS and mass >= p.language_share * total:
            offsets.append((x[member] * w[member, None]).sum(axis=0) / mass - mean)
    if len(offsets) < 2:
        return None
    _, strengths, axes = np.linalg.svd(np.asarray(offsets, dtype=np.float64), full_matrices=False)
    return axes[strengths > 1e-3 * strengths[0]].astype(np.float32)


def _pca(x: np.ndarray, w: np.ndarray, dims: int, removed: np.ndarray | None = None) -> np.ndarray | None:
    """The ``dims`` leading principal axes (rows) of the weighted, centred ``x``; exact and cheap
    (an eigen-decomposition of the d x d covariance), with signs fixed for determinism. With
    ``removed`` axes (rows), the result is always given and orthogonal to them."""
    if removed is None and (x.shape[1] <= dims or x.shape[0] <= dims):
        return None
    dims = min(dims, x.shape[1] - (0 if removed is None else len(removed)))
    xc = x - (x * w[:, None]).sum(axis=0) / max(w.sum(), 1e-9)
    cov = (xc * w[:, None]).T @ xc
    if removed is not None:  # sink the removed axes below every other one
        cov = cov - (float(np.trace(cov)) + 1.0) * (removed.T @ removed)
    values, vectors = np.linalg.eigh(cov.astype(np.float64))
    axes = vectors[:, np.argsort(values)[::-1][:dims]].T
    signs = np.sign(axes[np.arange(dims), np.argmax(np.abs(axes), axis=1)])
    return (axes * signs[:, None]).astype(np.float32)


def _weighted_centroids(x: np.ndarray, labels: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    sums = np.zeros((k, x.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, x * weights[:, None])
    return _unit(sums.astype(np.float32))


def _merge(
    fine: np.ndarray, fine_of_item: np.ndarray, x: np.ndarray, w: np.ndarray, p: ClusterParams
) -> np.ndarray:
    """Theme of each fine cluster, at the cut with the best modularity on a sample of items."""
    from sklearn.cluster import AgglomerativeClustering

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
    uniform = np.all(w == w[0]) or np.any(w <= 0)
    chance = None if uniform else w / w.sum()  # a campaign is sampled as the one voice it is
    pick = np.sort(rng.choice(len(x), size=min(len(x), p.criterion_sample), replace=False, p=chance))
    edges = _neighbour_edges(x[pick], p.neighbours)
    best: tuple[float, np.ndarray] | None = None
    for k in range(p.min_themes, min(p.max_themes, k_fine - 1) + 1):
        assign = _cut(tree.children_, k_fine, k)
        item_labels = assign[fine_of_item[pick]]
        if len(set(item_labels.tolist())) < 2:
            continue
        score = _modularity(edges, item_labels, p.resolution)
        if best is None or score > best[0] + 1e-9:
            best = (score, assign)
    return best[1] if best is not None else np.zeros(k_fine, dtype=np.int64)


def _neighbour_edges(sample: np.ndarray, neighbours: int) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edges ``(a, b)``, ``a < b``, of the k-nearest-neighbour graph of unit rows."""
    n = len(sample)
    k = min(neighbours, n - 1)
    sims = sample @ sample.T
    np.fill_diagonal(sims, -np.inf)
    near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), k)
    cols = near.ravel()
    pairs = np.unique(np.minimum(rows, cols).astype(np.int64) * n + np.maximum(rows, cols))
    return pairs // n, pairs % n


def _modularity(edges: tuple[np.ndarray, np.ndarray], labels: np.ndarray, resolution: float) -> float:
    """Newman's modularity of ``labels`` on the graph ``edges`` (with a resolution factor)."""
    a, b = edges
    m = len(a)
    k = int(labels.max()) + 1
    degree = np.bincount(np.concatenate([a, b]), minlength=len(labels))
    inside = labels[a] == labels[b]
    within = np.bincount(labels[a][inside], minlength=k)
    volume = np.bincount(labels, weights=degree, minlength=k)
    return float((within / m - resolution * (volume / (2 * m)) ** 2).sum())


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
    languages: Sequence[str | None] | None = None,
    texts: Sequence[str] | None = None,
) -> Clustering:
    """Themes of ``vectors`` (one row per item, ``ids`` unique, ``languages`` its ISO codes when
    known); see the module docstring. BLAS runs on one thread: its threads wait for each other
    by spinning, and on a busy 2-core machine a 384 x 384 eigen-decomposition then took 2.4 s
    instead of 0.03 s, and k-means++ seeding 50 s instead of 1 s."""
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    with threadpool_limits(limits=1, user_api="blas"):
        return _cluster(vectors, ids, weights, params, languages, texts)


def canonical_order(ids: np.ndarray, texts: Sequence[str] | None) -> np.ndarray:
    """Positions in a canonical order: by a hash of the text (ties by id) when texts are given, so
    that the same submissions themed in two stores, where they got other ids, come out the same;
    else by id."""
    ids = np.asarray(ids)
    if texts is None:
        return np.argsort(ids, kind="stable")
    keys = np.asarray(
        [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "big") for t in texts],
        dtype=np.uint64,
    )
    return np.lexsort((ids, keys))


def _no_zero_rows(x: np.ndarray) -> np.ndarray:
    """``x`` with rows that are all zero (items that sit exactly on the slice's mean, as when every
    item says the same thing) set to one shared unit vector, which cosine distances need."""
    zero = ~np.any(np.abs(x) > 1e-12, axis=1)
    if zero.any():
        x = x.copy()
        x[zero] = 0.0
        x[zero, 0] = 1.0
    return x


def _cluster(
    vectors: np.ndarray,
    ids: np.ndarray,
    weights: np.ndarray | None,
    params: ClusterParams | None,
    languages: Sequence[str | None] | None,
    texts: Sequence[str] | None = None,
) -> Clustering:
    from sklearn.cluster import KMeans, kmeans_plusplus

    p = params or ClusterParams()
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    w = np.ones(n, dtype=np.float64) if weights is None else np.asarray(weights, dtype=np.float64)
    order = canonical_order(ids, texts)
    x0 = _unit(vectors[order])
    w0 = w[order]
    mean = (x0 * w0[:, None]).sum(axis=0) / max(w0.sum(), 1e-9)
    centred = _unit(x0 - mean)
    removed = None if languages is None else _language_axes(x0, w0, [languages[i] for i in order], p)
    if removed is not None:
        centred = _unit(centred - (centred @ removed.T) @ removed)
    components = _pca(centred, w0, p.dims, removed)
    x = _unit(_reduce(centred, components))
    space = x  # where the centroids live: ``Clustering.project`` maps new vectors there, without words
    if texts is not None and p.word_weight > 0 and n >= max(3, p.word_min_items):
        codes = None if languages is None else [languages[i] for i in order]
        words = _word_space([texts[i] for i in order], w0, p, codes)
        if words is not None:
            x = _unit(np.hstack([x * np.sqrt(1 - p.word_weight), words * np.sqrt(p.word_weight)]))
    if p.smooth and max(3, p.smooth_min_items) <= n <= p.smooth_max_items:
        x = _smooth(x, p.smooth)
    x = _no_zero_rows(x)
    if n < 3:
        labels = np.zeros(n, dtype=np.int64)
        return _finish(x, labels, w0, order, mean, components)
    k_fine = int(min(p.max_fine, n, max(p.min_themes, round(p.fine_factor * np.sqrt(n)))))
    if n <= p.max_fine:  # small slices: every item is a leaf of the merge tree, no k-means at all
        k_fine, fine_of_item = n, np.arange(n)
    else:
        # k-means++ seeds drawn from a sample: over all of 100,000 items, seeding took most of the run
        rng = np.random.default_rng(p.seed)
        sample = np.sort(rng.choice(n, size=min(n, max(KMEANS_SEED_SAMPLE, 5 * k_fine)), replace=False))
        seeds, _ = kmeans_plusplus(x[sample], k_fine, sample_weight=w0[sample], random_state=p.seed)
        km = KMeans(n_clusters=k_fine, init=seeds, n_init=1, max_iter=50, random_state=p.seed)
        fine_of_item = km.fit(x, sample_weight=w0).labels_
    fine = _weighted_centroids(x, fine_of_item, w0, k_fine)
    labels = _refine(x, _merge(fine, fine_of_item, x, w0, p)[fine_of_item], w0, p.refine)
    labels = _dissolve_small(x, labels, w0, p)
    return _finish(space, labels, w0, order, mean, components)


def _smooth(x: np.ndarray, neighbours: int, block: int = 1000) -> np.ndarray:
    """Each unit row plus the mean of its ``neighbours`` nearest other rows, back to unit length:
    one step of averaging over the nearest-neighbour graph, which lifts what a short text shares
    with its neighbours above its own noise (in blocks of rows, to bound memory)."""
    k = min(neighbours, len(x) - 1)
    out = np.empty_like(x)
    for start in range(0, len(x), block):
        sims = x[start : start + block] @ x.T
        rows = np.arange(len(sims))
        sims[rows, start + rows] = -np.inf
        near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        out[start : start + block] = x[start : start + block] + x[near].mean(axis=1)
    return _unit(out)


def _word_space(
    texts: Sequence[str], w: np.ndarray, p: ClusterParams, languages: Sequence[str | None] | None
) -> np.ndarray | None:
    """Unit rows of the texts' words: TF-IDF (sublinear counts, words in at least ``word_min_df``
    texts and at most half of them) reduced to ``word_dims`` by truncated SVD, centred, with the
    language directions removed as for the vectors. ``None`` when the texts have too few words."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=p.word_min_df, max_df=0.5, dtype=np.float32)
    try:
        tfidf = vectorizer.fit_transform([text[: p.word_chars] for text in texts])
    except ValueError:  # no word left (empty texts, or none shared by two texts)
        return None
    dims = min(p.word_dims, tfidf.shape[1] - 1, tfidf.shape[0] - 1)
    if dims < 2:
        return None
    z = _unit(TruncatedSVD(n_components=dims, random_state=p.seed).fit_transform(tfidf))
    z = z - (z * w[:, None]).sum(axis=0) / max(w.sum(), 1e-9)
    removed = None if languages is None else _language_axes(z, w, languages, p)
    if removed is not None:
        z = z - (z @ removed.T) @ removed
    return _unit(z)


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
