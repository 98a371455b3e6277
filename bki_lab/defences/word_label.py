"""A filter with no model at all, in the spirit of Z-Def (He et al. 2023): words whose
label counts are far more skewed than the label prior explains, and the texts that hold
them. The bar a model-based defence must clear. Returns a `Removal`.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Sequence

import numpy as np

from bki_lab.bki.removal import make_removal

if TYPE_CHECKING:
    from bki_lab.bki.removal import Removal
    from bki_lab.data.text import Words

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
    return make_removal("word-label statistics", removed, np.where(np.isfinite(text_score),
                                                               text_score, 0.0),
                 is_poison, t0, {"threshold": float(threshold), "outlier_words": words[:50],
                                 "n_outlier_words": len(words)})
