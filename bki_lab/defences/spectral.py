"""Spectral signatures (Tran, Li & Madry 2018) as a training-set filter: per class,
centre the victim's h_l, project on the top singular vector, remove the texts with the
largest squared projections. Returns a `Removal`.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Sequence

import numpy as np

from bki_lab.bki.removal import make_removal

if TYPE_CHECKING:
    from bki_lab.bki.removal import Removal

def check_hidden(hidden: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray]:
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
    hidden, labels = check_hidden(hidden, labels)
    scores, removed = np.zeros(len(labels)), np.zeros(len(labels), bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        centred = hidden[idx] - hidden[idx].mean(0)
        v = np.linalg.svd(centred, full_matrices=False)[2][0]
        s = (centred @ v) ** 2
        scores[idx] = s
        k = min(len(idx), int(np.ceil(factor * expected_share * len(idx) - 1e-9)))
        removed[idx[np.argsort(-s, kind="stable")[:k]]] = True
    return make_removal("spectral signatures", removed, scores, is_poison, t0,
                 {"expected_share": expected_share, "factor": factor})
