"""What a defence removes from a training set, and how well: the one `Removal` type.

BKI's paper rule (`BKIResult`), its verdict (`Verdict`) and every peer defence
(`bki_lab.defences`) end in a removed-text mask; `RemovedCounts` gives each its counts and
`removal_metrics` its precision and recall (chen_dai §V.C) when the truth is known.
`Removal` is the common record the defences are compared in.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


class RemovedCounts:
    """``n_removed`` and ``removed_fraction`` of a result's ``removed`` mask (BKI's, the
    verdict's and every other defence's)."""

    @property
    def n_removed(self) -> int:
        return int(self.removed.sum())

    @property
    def removed_fraction(self) -> float:
        return self.n_removed / max(len(self.removed), 1)


def removal_metrics(removed: np.ndarray, is_poison: np.ndarray) -> tuple[float | None, float | None]:
    """Identification precision and recall of poisoning samples (chen_dai §V.C).

    Undefined ratios (nothing removed, or no poison) are None.
    """
    removed, is_poison = np.asarray(removed, bool), np.asarray(is_poison, bool)
    hit = int((removed & is_poison).sum())
    precision = hit / removed.sum() if removed.any() else None
    recall = hit / is_poison.sum() if is_poison.any() else None
    return (None if precision is None else float(precision),
            None if recall is None else float(recall))


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


def make_removal(method, removed, scores, is_poison, t0, details) -> Removal:
    removed = np.asarray(removed, bool)
    prec, rec = (None, None) if is_poison is None else removal_metrics(removed, is_poison)
    return Removal(method, removed, np.asarray(scores, float), prec, rec,
                   time.perf_counter() - t0, details)
