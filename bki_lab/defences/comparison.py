"""BKI among its peers, on the same victim and data: every training-set filter (BKI's
removal by the paper's rule and by the verdict, spectral signatures, activation clustering,
word-label statistics) followed by retraining on what it keeps, and STRIP at test time.
Each filter's outcome is a `Removal`, so all are compared on the same terms.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from bki_lab.bki.removal import Removal
from bki_lab.defences.clustering import activation_clustering
from bki_lab.defences.spectral import spectral_signatures
from bki_lab.defences.word_label import word_label_filter
from bki_lab.utils.records import ACC_AFTER, ASR_AFTER

if TYPE_CHECKING:
    from bki_lab.bki.dictionary import BKIResult

def bki_removal(bki: BKIResult, seconds: float = 0.0) -> Removal:
    """BKI's decision as a `Removal` (score: 1 for the removed texts)."""
    return Removal(f"bki ({bki.variant})", np.asarray(bki.removed, bool),
                   bki.removed.astype(float), bki.precision, bki.recall, seconds,
                   {"keyword": bki.keyword})


def verdict_removal(verdict, seconds: float = 0.0) -> Removal:
    """The verdict's decision (`verdict.find_backdoors`) as a `Removal`: every verified
    finding's texts, none when it found no backdoor (score: 1 for the removed texts)."""
    removed = np.asarray(verdict.removed, bool)
    return Removal("bki (verdict)", removed, removed.astype(float), verdict.precision,
                   verdict.recall, seconds,
                   {"verdict": verdict.verdict,
                    "keyword": " | ".join(f.keyword for f in verdict.findings) or None,
                    "phrase": verdict.phrases})


def run_filters(attack, *, expected_share: float | None = None, seed: int = 0,
                hidden: np.ndarray | None = None) -> tuple[Removal, ...]:
    """The three filters on an attack's training set and victim (`pipeline.attack.run_attack`),
    without retraining. ``expected_share``: spectral signatures' assumed poison share
    (default: the attack's own poisoned share, the defender's best case); ``hidden``: the
    victim's h_l of the training texts, if already computed (`victims.lstm.hidden_states`)."""
    from bki_lab.victims.lstm import hidden_states
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


@dataclass(frozen=True)
class Outcome:
    """One defence on one attack: what it removed, and the victim retrained without it."""

    removal: Removal
    acc_after: float | None          # None: fewer than two texts kept, nothing to retrain
    asr_after: float | None
    retrain_seconds: float

    def to_record(self) -> dict:
        rec = self.removal.to_record()
        rec.pop("per_class", None)
        return {**rec, ACC_AFTER: self.acc_after, ASR_AFTER: self.asr_after,
                "retrain_seconds": self.retrain_seconds}


def defence_removals(attack, scores, *, p: int = 5, seed: int = 0,
                     hidden: np.ndarray | None = None, verdict=None) -> tuple[Removal, ...]:
    """What every training-set defence removes from ``attack``'s training set, without
    retraining: BKI by the paper's rule and by the verdict (from ``scores``,
    `defence.bki_scores`; their seconds include the scoring's), then `run_filters`
    (``hidden``: the victim's h_l of the training texts, if already computed).
    ``verdict``: the verdict on this attack with this ``p`` already made (e.g. the cached
    `pipeline.defence.judge`), used as it is; its removal's seconds are then the scoring's
    alone."""
    from bki_lab.bki.dictionary import identify
    from bki_lab.bki.verdict import find_backdoors
    ds, truth = attack.poisoned.dataset, attack.poisoned.is_poison
    if verdict is not None and len(verdict.removed) != len(ds):
        raise ValueError(f"the verdict given judges {len(verdict.removed)} texts; this "
                         f"attack's training set has {len(ds)}")
    t0 = time.perf_counter()
    paper = bki_removal(identify(scores, p=p, is_poison=truth),
                        scores.seconds + time.perf_counter() - t0)
    t0 = time.perf_counter()
    if verdict is None:
        verdict = find_backdoors(scores, ds.labels, predict=attack.victim.predict, p=p,
                                 is_poison=truth, seed=seed)
    return (paper, verdict_removal(verdict, scores.seconds + time.perf_counter() - t0),
            *run_filters(attack, seed=seed, hidden=hidden))


def compare_defences(attack, *, p: int = 5, device: str | None = None, seed: int = 0,
                     strip_texts: int = 500, use_cache: bool = True,
                     show_progress: bool = False) -> tuple[tuple[Outcome, ...], object]:
    """Every filter on ``attack`` (`pipeline.attack.run_attack`), each retrained on its kept
    texts (victims cached by their data), and STRIP on the clean and triggered test texts.
    Returns (outcomes, `strip.StripResult` or None for a clean training set)."""
    from bki_lab.defences.strip import strip_detect, victim_proba
    from bki_lab.pipeline.attack import measure_asr
    from bki_lab.pipeline.defence import bki_scores, retrain_without
    from bki_lab.victims.train import evaluate
    device = device or attack.victim.device
    ds = attack.poisoned.dataset
    scores = bki_scores(attack, device=device, use_cache=use_cache, show_progress=show_progress)
    removals = defence_removals(attack, scores, p=p, seed=seed)
    outcomes = []
    for r in removals:
        t0 = time.perf_counter()
        if (~r.removed).sum() < 2:
            outcomes.append(Outcome(r, None, None, 0.0))
            continue
        victim = retrain_without(attack, r.removed, device=device, use_cache=use_cache,
                                 show_progress=show_progress, label=f"retraining ({r.method})")
        acc = evaluate(victim, attack.split.test).accuracy
        asr = measure_asr(victim, attack.backdoor) if attack.config.rate > 0 else None
        outcomes.append(Outcome(r, acc, asr, time.perf_counter() - t0))
    strip = None
    if attack.config.rate > 0:
        test, target = attack.split.test, attack.backdoor.target
        clean = [t for t, y in zip(test.texts, test.labels) if y != target][:strip_texts]
        strip = strip_detect(victim_proba(attack.victim), ds.texts, clean,
                             list(attack.backdoor.dataset.texts[:strip_texts]),
                             n_train=strip_texts, seed=seed)
    return tuple(outcomes), strip
