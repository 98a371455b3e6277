"""Training-set filters beside BKI, on the same victim and data: which texts to remove.

* `spectral_signatures` (Tran, Li & Madry 2018): per class, centre the victim's h_l, project
  on the top singular vector, remove the texts with the largest squared projections.
* `activation_clustering` (Chen et al. 2018): per class, reduce h_l to a few dimensions,
  split in two with k-means, remove the smaller cluster when it is small and well separated.
* `word_label_filter`: no model at all, in the spirit of Z-Def (He et al. 2023): words
  whose label counts are far more skewed than the label prior explains, and the texts that
  hold them. The bar a model-based defence must clear.

Each returns a `Removal`, the type BKI's removal also converts to (`bki_removal`; the
verdict's: `verdict_removal`), so that every defence is compared on the same terms: removed
mask, per-text scores, precision and recall when the truth is known.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from .bki import BKIResult, RemovedCounts, removal_metrics
from .text import Words


@dataclass(frozen=True)
class Removal(RemovedCounts):
    """What one defence removes from a training set, and how well, when the truth is known."""

    method: str
    removed: np.ndarray              # (n,) bool
    scores: np.ndarray               # (n,) float: higher = more suspicious (method's own scale)
    precision: float | None = None
    recall: float | None = None
    seconds: float = 0.0
    details: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if len(self.removed) != len(self.scores):
            raise ValueError("removed mask and scores disagree on the text count")
        self.removed.setflags(write=False)

    def to_record(self) -> dict:
        return {"method": self.method, "n_removed": self.n_removed,
                "removed_fraction": self.removed_fraction, "precision": self.precision,
                "recall": self.recall, "seconds": self.seconds, **self.details}


def _done(method, removed, scores, is_poison, t0, details) -> Removal:
    removed = np.asarray(removed, bool)
    prec, rec = (None, None) if is_poison is None else removal_metrics(removed, is_poison)
    return Removal(method, removed, np.asarray(scores, float), prec, rec,
                   time.perf_counter() - t0, details)


def bki_removal(bki: BKIResult, seconds: float = 0.0) -> Removal:
    """BKI's decision as a `Removal` (score: 1 for the removed texts)."""
    return Removal(f"bki ({bki.variant})", np.asarray(bki.removed, bool),
                   bki.removed.astype(float), bki.precision, bki.recall, seconds,
                   {"keyword": bki.keyword})


def verdict_removal(verdict, seconds: float = 0.0) -> Removal:
    """The verdict's decision (`backdoors.find_backdoors`) as a `Removal`: every verified
    finding's texts, none when it found no backdoor (score: 1 for the removed texts)."""
    removed = np.asarray(verdict.removed, bool)
    return Removal("bki (verdict)", removed, removed.astype(float), verdict.precision,
                   verdict.recall, seconds,
                   {"verdict": verdict.verdict,
                    "keyword": " | ".join(f.keyword for f in verdict.findings) or None,
                    "phrase": verdict.phrases})


def _check(hidden: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray]:
    hidden, labels = np.asarray(hidden, np.float64), np.asarray(labels)
    if hidden.ndim != 2 or len(hidden) != len(labels):
        raise ValueError(f"hidden must be (n, d) with one row per label; got {hidden.shape} "
                         f"for {len(labels)} labels")
    return hidden, labels


def spectral_signatures(hidden: np.ndarray, labels: Sequence[int], *,
                        expected_share: float = 0.03, factor: float = 1.5,
                        is_poison: Sequence[bool] | None = None) -> Removal:
    """Tran et al.'s spectral signatures on the victim's h_l (``hidden``, (n, d)).

    Per class: the rows centred on the class mean, their top right singular vector v, the
    score (r · v)²; the ``factor × expected_share`` of the class with the highest scores are
    removed (Tran et al.: 1.5 × the poison share ε, which the defender must assume).
    """
    if not 0 < expected_share < 1 or factor <= 0:
        raise ValueError(f"need 0 < expected_share < 1 and factor > 0, got "
                         f"{expected_share}, {factor}")
    t0 = time.perf_counter()
    hidden, labels = _check(hidden, labels)
    scores, removed = np.zeros(len(labels)), np.zeros(len(labels), bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        centred = hidden[idx] - hidden[idx].mean(0)
        v = np.linalg.svd(centred, full_matrices=False)[2][0]
        s = (centred @ v) ** 2
        scores[idx] = s
        k = min(len(idx), int(np.ceil(factor * expected_share * len(idx) - 1e-9)))
        removed[idx[np.argsort(-s, kind="stable")[:k]]] = True
    return _done("spectral signatures", removed, scores, is_poison, t0,
                 {"expected_share": expected_share, "factor": factor})


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
    hidden, labels = _check(hidden, labels)
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
    return _done("activation clustering", removed, scores, is_poison, t0,
                 {"per_class": per_class})


def word_label_filter(texts: Sequence[Words], labels: Sequence[int], *, min_count: int = 10,
                      threshold: float | None = None, k: float = 6.0,
                      is_poison: Sequence[bool] | None = None) -> Removal:
    """Words whose label is skewed far beyond the prior, and the texts that hold them.

    For each word w (in ``min_count`` texts or more) and label c: z = (n_wc − n_w π_c) /
    sqrt(n_w π_c (1 − π_c)), with n_w the texts holding w, n_wc those of label c and π_c the
    label's share. A word is an outlier when its largest z exceeds ``threshold`` (default:
    the median of all words' largest z plus ``k`` robust sds, 1.4826 × MAD). Removed: the
    texts of the outlier's label that hold it. A text's score: its words' largest z for its
    own label.
    """
    t0 = time.perf_counter()
    labels = np.asarray(labels)
    if len(labels) != len(texts):
        raise ValueError(f"{len(labels)} labels for {len(texts)} texts")
    classes = np.unique(labels)
    prior = np.array([(labels == c).mean() for c in classes])
    index: dict[str, int] = {}
    rows, cols = [], []
    for i, t in enumerate(texts):
        for w in set(t):
            rows.append(index.setdefault(w, len(index)))
            cols.append(i)
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    lab = np.searchsorted(classes, labels)
    counts = np.zeros((len(index), len(classes)))
    np.add.at(counts, (rows, lab[cols]), 1)
    n_w = counts.sum(1, keepdims=True)
    z = (counts - n_w * prior) / np.sqrt(n_w * prior * (1 - prior))
    z[n_w[:, 0] < min_count] = -np.inf
    best = z.max(1)
    finite = best[np.isfinite(best)]
    if threshold is None:
        med = float(np.median(finite)) if len(finite) else 0.0
        mad = float(np.median(np.abs(finite - med))) if len(finite) else 0.0
        threshold = med + k * 1.4826 * mad
    outlier = best > threshold
    # a text is removed when it holds an outlier word skewed towards the text's own label
    hit = outlier[rows] & (z[rows, lab[cols]] == best[rows])
    removed = np.zeros(len(texts), bool)
    removed[cols[hit]] = True
    text_score = np.full(len(texts), -np.inf)
    np.maximum.at(text_score, cols, np.where(np.isfinite(z[rows, lab[cols]]),
                                             z[rows, lab[cols]], -np.inf))
    words = sorted((w for w, j in index.items() if outlier[j]), key=lambda w: -best[index[w]])
    return _done("word-label statistics", removed, np.where(np.isfinite(text_score),
                                                               text_score, 0.0),
                 is_poison, t0, {"threshold": float(threshold), "outlier_words": words[:50],
                                 "n_outlier_words": len(words)})


def run_filters(attack, *, expected_share: float | None = None, seed: int = 0,
                hidden: np.ndarray | None = None) -> tuple[Removal, ...]:
    """The three filters on an attack's training set and victim (`experiments.run_attack`),
    without retraining. ``expected_share``: spectral signatures' assumed poison share
    (default: the attack's own poisoned share, the defender's best case); ``hidden``: the
    victim's h_l of the training texts, if already computed (`models.hidden_states`)."""
    from .models import hidden_states
    ds, truth = attack.poisoned.dataset, attack.poisoned.is_poison
    t0 = time.perf_counter()
    h = hidden if hidden is not None else hidden_states(attack.victim.model,
                                                        attack.victim.encode(ds.texts))
    h_seconds = time.perf_counter() - t0
    share = expected_share or max(float(np.mean(truth)), 0.01)
    out = (spectral_signatures(h, ds.labels, expected_share=share, is_poison=truth),
           activation_clustering(h, ds.labels, seed=seed, is_poison=truth),
           word_label_filter(ds.texts, ds.labels, is_poison=truth))
    # the two filters that read h_l also paid for computing it
    return tuple(replace(r, seconds=r.seconds + h_seconds) if r.method != "word-label statistics"
                 else r for r in out)
