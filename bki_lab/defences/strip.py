"""STRIP for text (Gao et al. 2019; for text, Gao et al. 2021): a test-time detector.

An input is perturbed ``n`` times by replacing a share of its words with words drawn from
the training texts; a clean input's prediction then wanders (high entropy), while a
triggered input keeps the target label wherever the trigger survives (low entropy). The
threshold is set on training texts for a chosen false-rejection rate (1%: the entropy
below which 1% of the training texts fall), using no trusted data.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from bki_lab.data.text import Words

Proba = Callable[[Sequence[Words]], np.ndarray]     # texts -> (n, classes) probabilities


def perturb(text: Words, donors: np.ndarray, share: float, rng: np.random.Generator) -> Words:
    """``text`` with round(share · len) word positions (at least one) replaced by ``donors``
    words drawn at random."""
    n = len(text)
    k = min(n, max(1, int(round(share * n))))
    out = list(text)
    for j, w in zip(rng.choice(n, size=k, replace=False), rng.choice(donors, size=k)):
        out[j] = str(w)
    return tuple(out)


def strip_entropy(proba: Proba, texts: Sequence[Words], donors: Sequence[str], *,
                  n: int = 20, share: float = 0.5, seed: int = 0) -> np.ndarray:
    """Mean prediction entropy (bits) of each text over ``n`` perturbations."""
    if n < 1 or not 0 < share <= 1:
        raise ValueError(f"need n >= 1 and 0 < share <= 1, got {n}, {share}")
    if len(donors) == 0:
        raise ValueError("no donor words to perturb with")
    rng = np.random.default_rng(seed)
    donors = np.asarray(donors, dtype=object)
    variants = [perturb(t, donors, share, rng) for t in texts for _ in range(n)]
    p = np.clip(np.asarray(proba(variants), np.float64), 1e-12, 1.0)
    h = -(p * np.log2(p)).sum(1)
    return h.reshape(len(texts), n).mean(1)


@dataclass(frozen=True)
class StripResult:
    threshold: float                 # entropy below this: rejected as triggered
    train_entropy: np.ndarray
    clean_entropy: np.ndarray        # clean test texts
    triggered_entropy: np.ndarray    # the same kind of texts with the trigger
    false_rejection: float           # clean test texts rejected
    false_acceptance: float          # triggered test texts accepted
    n: int
    share: float
    seconds: float

    def to_record(self) -> dict:
        return {"method": "STRIP", "threshold": self.threshold,
                "false_rejection": self.false_rejection,
                "false_acceptance": self.false_acceptance, "n_perturbations": self.n,
                "replaced_share": self.share, "seconds": self.seconds,
                "clean_entropy_mean": float(self.clean_entropy.mean()),
                "triggered_entropy_mean": float(self.triggered_entropy.mean())}


def strip_detect(proba: Proba, train: Sequence[Words], clean: Sequence[Words],
                 triggered: Sequence[Words], *, n: int = 20, share: float = 0.5,
                 frr: float = 0.01, n_train: int = 1000, seed: int = 0) -> StripResult:
    """STRIP with its threshold set on (a seeded sample of ``n_train``) training texts for a
    false-rejection rate ``frr``; false rejection and acceptance measured on ``clean`` and
    ``triggered`` test texts. Donor words: every word of the training texts."""
    if not 0 < frr < 1:
        raise ValueError(f"frr must be in (0, 1), got {frr}")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    donors = [w for t in train for w in t]
    pick = rng.choice(len(train), size=min(n_train, len(train)), replace=False)
    e_train = strip_entropy(proba, [train[i] for i in pick], donors, n=n, share=share,
                            seed=seed)
    threshold = float(np.quantile(e_train, frr))
    e_clean = strip_entropy(proba, clean, donors, n=n, share=share, seed=seed + 1)
    e_trig = strip_entropy(proba, triggered, donors, n=n, share=share, seed=seed + 2)
    return StripResult(threshold, e_train, e_clean, e_trig,
                       float((e_clean < threshold).mean()) if len(e_clean) else float("nan"),
                       float((e_trig >= threshold).mean()) if len(e_trig) else float("nan"),
                       n, share, time.perf_counter() - t0)


def victim_proba(victim) -> Proba:
    """A trained victim's class probabilities (`train.TrainedModel`), for `strip_detect`."""
    from bki_lab.victims.lstm import predict_logits

    def proba(texts):
        logits = predict_logits(victim.model, victim.encode(texts))
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
    return proba
