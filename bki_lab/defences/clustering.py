"""Activation clustering (Chen et al. 2018) as a training-set filter: per class,
reduce h_l to a few dimensions, split in two with k-means, remove the smaller cluster when
it is small and well separated. Returns a `Removal`.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Sequence

import numpy as np

from bki_lab.bki.removal import make_removal
from bki_lab.defences.spectral import check_hidden

if TYPE_CHECKING:
    from bki_lab.bki.removal import Removal

def _two_means(x: np.ndarray, rng: np.random.Generator, restarts: int = 5,
               iters: int = 100) -> np.ndarray:
    """Labels 0/1 of the best of ``restarts`` k-means runs (k = 2, k-means++ seeding)."""
    best, best_inertia = None, np.inf
    for _ in range(restarts):
        c0 = x[rng.integers(len(x))]
        d = ((x - c0) ** 2).sum(1)
        c1 = x[rng.choice(len(x), p=d / d.sum())] if d.sum() > 0 else x[rng.integers(len(x))]
        centres = np.stack([c0, c1])
        for _ in range(iters):
            assign = ((x[:, None, :] - centres[None]) ** 2).sum(2).argmin(1)
            new = np.stack([x[assign == k].mean(0) if np.any(assign == k) else centres[k]
                            for k in (0, 1)])
            if np.allclose(new, centres):
                break
            centres = new
        inertia = ((x - centres[assign]) ** 2).sum()
        if inertia < best_inertia:
            best, best_inertia = assign, inertia
    return best


def silhouette(x: np.ndarray, assign: np.ndarray) -> float:
    """Mean silhouette of a two-cluster split (0 when a cluster is empty)."""
    if len(np.unique(assign)) < 2:
        return 0.0
    sq = (x ** 2).sum(1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None] - 2 * x @ x.T, 0.0))
    same = assign[:, None] == assign[None]
    n_same = same.sum(1) - 1
    a = np.where(n_same > 0, (d * same).sum(1) / np.maximum(n_same, 1), 0.0)
    b = (d * ~same).sum(1) / (~same).sum(1)
    s = np.where(n_same > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def activation_clustering(hidden: np.ndarray, labels: Sequence[int], *, dims: int = 10,
                          max_share: float = 0.35, min_silhouette: float = 0.15,
                          sample: int = 2000, seed: int = 0,
                          is_poison: Sequence[bool] | None = None) -> Removal:
    """Chen et al.'s activation clustering on the victim's h_l (``hidden``, (n, d)).

    Per class: h_l projected on its top ``dims`` principal components, split by 2-means;
    the smaller cluster is removed when it holds at most ``max_share`` of the class and the
    split's silhouette (on a seeded ``sample`` of the class) is at least ``min_silhouette``.
    A text's score is its distance to the larger cluster's centre.
    """
    if dims < 1 or not 0 < max_share < 0.5:
        raise ValueError(f"need dims >= 1 and 0 < max_share < 0.5, got {dims}, {max_share}")
    t0 = time.perf_counter()
    hidden, labels = check_hidden(hidden, labels)
    rng = np.random.default_rng(seed)
    scores, removed, per_class = np.zeros(len(labels)), np.zeros(len(labels), bool), {}
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < 4:
            per_class[int(c)] = {"share": 0.0, "silhouette": 0.0, "flagged": False}
            continue
        centred = hidden[idx] - hidden[idx].mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        x = centred @ vt[:dims].T
        assign = _two_means(x, rng)
        small = int(np.bincount(assign, minlength=2).argmin())
        share = float((assign == small).mean())
        pick = rng.choice(len(x), size=min(sample, len(x)), replace=False)
        sil = silhouette(x[pick], assign[pick])
        big_centre = x[assign != small].mean(0)
        scores[idx] = np.sqrt(((x - big_centre) ** 2).sum(1))
        flagged = share <= max_share and sil >= min_silhouette
        if flagged:
            removed[idx[assign == small]] = True
        per_class[int(c)] = {"share": share, "silhouette": sil, "flagged": flagged}
    return make_removal("activation clustering", removed, scores, is_poison, t0,
                 {"per_class": per_class})
