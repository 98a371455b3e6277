"""The defence stage: BKI on the attack's training set, a decision, retraining.

`run_defence` scores every word under the victim (cached), decides what to remove, and
retrains on the rest (cached too):

* ``decide="paper"`` -- chen_dai's Algorithm 1: always remove the texts of the top keyword
  (Table 3 is reproduced this way);
* ``decide="verdict"`` -- `verdict.find_backdoors`: each candidate is reconstructed and
  verified against the victim first; nothing is removed when no candidate holds, and several
  triggers are found one after the other.

``variant`` picks the dictionary: the paper's or the authors' released code's (`authors.py`).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from bki_lab.bki.authors import SpanScores, identify_authors, score_spans
from bki_lab.bki.dictionary import identify
from bki_lab.bki.scoring import score_words
from bki_lab.bki.trigger import reconstruct_from
from bki_lab.bki.verdict import VERDICT_VERSION, find_backdoors
from bki_lab.pipeline.attack import cached_victim, measure_asr
from bki_lab.pipeline.cache import (
    cache_dir,
    cache_key,
    data_digest,
    load_or_compute,
    load_scores,
    load_spans,
    load_verdict,
    save_scores,
    save_spans,
    save_verdict,
    victim_key,
)
from bki_lab.utils.records import ACC_AFTER, ACC_BEFORE, ASR_AFTER, ASR_BEFORE
from bki_lab.victims.train import evaluate

if TYPE_CHECKING:
    from bki_lab.bki.dictionary import BKIResult
    from bki_lab.bki.scoring import Scorer, WordScores
    from bki_lab.bki.trigger import Reconstruction
    from bki_lab.bki.verdict import Variant, Verdict
    from bki_lab.pipeline.attack import AttackResult
    from bki_lab.victims.train import TrainedModel

Decide = Literal["paper", "verdict"]


@dataclass(frozen=True)
class DefenceResult:
    attack: AttackResult
    scores: WordScores
    bki: BKIResult                  # the top keyword's decision (the paper's behaviour)
    retrained: TrainedModel
    acc_after: float
    asr_after: float | None
    seconds: float
    verdict: Verdict | None = None  # with decide="verdict": what was verified and removed
    asr_after_each: tuple[float | None, ...] = ()     # every trigger's ASR after retraining

    @property
    def removed(self) -> np.ndarray:
        """The texts removed before retraining."""
        return self.bki.removed if self.verdict is None else self.verdict.removed

    @property
    def phrase(self) -> Reconstruction:
        """The phrase around the keyword that the removed texts share (`verdict`)."""
        ds = self.attack.poisoned.dataset
        return reconstruct_from(self.bki, ds.texts, ds.labels)

    def to_record(self) -> dict:
        """The one flat JSON/CSV record of this result (the edge where types end)."""
        a, b, phrase = self.attack, self.bki, self.phrase
        top = b.top(10)
        rec = {**{k: v for k, v in a.to_record().items() if k != "per_class_accuracy"},
               "p": b.p, "scorer": self.scores.scorer, "variant": b.variant,
               "keyword": b.keyword, "keyword_in_trigger": b.keyword in a.poisoned.trigger,
               "phrase": " ".join(phrase.phrase), "phrase_support": phrase.support,
               "top10": top[[c for c in ("word", "label", "num", "mean", "g")
                             if c in top]].to_dict("records"),
               "n_removed": b.n_removed, "removed_fraction": b.removed_fraction,
               "precision": b.precision, "recall": b.recall,
               ACC_BEFORE: a.clean_accuracy, ASR_BEFORE: a.attack_success_rate,
               ACC_AFTER: self.acc_after, ASR_AFTER: self.asr_after,
               "scoring_seconds": self.scores.seconds, "words_scored": self.scores.words_scored,
               "retrain_seconds": self.retrained.seconds, "seconds": self.seconds}
        if a.config.extra:
            rec["asr_after_each"] = list(self.asr_after_each)
            truth = a.poisoned.trigger_of
            rec["recall_each"] = [float((self.removed & (truth == k)).sum() / max((truth == k).sum(), 1))
                                  for k in range(len(a.config.backdoors))]
        if self.verdict is not None:
            v = self.verdict.to_record(a.victim.class_names)
            rec.update(decide="verdict", **{k: v[k] for k in (
                "verdict", "findings", "residues", "rejected", "n_removed", "removed_fraction",
                "precision", "recall")})
        else:
            rec["decide"] = "paper"
        return rec


def bki_scores(attack: AttackResult, *, scorer: Scorer = "fast", device: str | None = None,
               use_cache: bool = True, show_progress: bool = True) -> WordScores:
    """Scores of every word of the poisoned training set under the attack's victim (cached;
    computed on ``device``, by default where the victim is)."""
    return cached_scores(cache_dir() / "scores" / f"{attack.key}-{scorer}.npz", attack.victim,
                         attack.poisoned.dataset.texts, scorer=scorer,
                         device=device or attack.victim.device, use_cache=use_cache,
                         show_progress=show_progress)


def cached_scores(path: Path, victim: TrainedModel, texts, *, scorer: Scorer, device: str,
                  use_cache: bool, show_progress: bool) -> WordScores:
    """The scores of ``texts`` under ``victim``, loaded from ``path`` or computed and saved
    there (a damaged entry is reported and rebuilt: `cache.load_or_compute`)."""
    return load_or_compute(
        path, load=lambda p: load_scores(p, texts=texts),
        compute=lambda: score_words(victim.model, victim.vocab, texts, scorer=scorer,
                                    device=device, show_progress=show_progress),
        save=save_scores, use_cache=use_cache)


def authors_spans(attack: AttackResult, *, n: int = 1, device: str | None = None,
                  use_cache: bool = True, show_progress: bool = True) -> SpanScores:
    """The authors' score terms of every n-gram of the training set (cached)."""
    texts = attack.poisoned.dataset.texts
    return load_or_compute(
        cache_dir() / "scores" / f"{attack.key}-authors-n{n}.npz",
        load=lambda p: load_spans(p, texts=texts),
        compute=lambda: score_spans(attack.victim.model, attack.victim.vocab, texts, n=n,
                                    device=device or attack.victim.device,
                                    show_progress=show_progress),
        save=save_spans, use_cache=use_cache)


def run_defence(attack: AttackResult, *, p: int = 5, decide: Decide = "paper",
                variant: Variant = "paper", ngram: int = 1, a: float = 0.05,
                scorer: Scorer = "fast", device: str | None = None, seed: int = 0,
                use_cache: bool = True, show_progress: bool = True) -> DefenceResult:
    """BKI on the attack's training set, then retraining on what is kept (chen_dai §IV-V).

    Args:
        decide: ``"paper"`` removes the top keyword's texts; ``"verdict"`` removes only
            verified findings (`verdict.find_backdoors`), possibly none.
        variant: ``"paper"`` or ``"authors-code"`` (with ``ngram`` and ``a``).
        seed: the verification's sampling (``decide="verdict"``).
        device: where scoring and retraining run; None: where the victim is.
    """
    if decide not in ("paper", "verdict"):
        raise ValueError(f"decide must be 'paper' or 'verdict', got {decide!r}")
    if variant not in ("paper", "authors-code"):
        raise ValueError(f"variant must be 'paper' or 'authors-code', got {variant!r}")
    t0 = time.perf_counter()
    device = device or attack.victim.device
    ds, truth = attack.poisoned.dataset, attack.poisoned.is_poison
    scores = bki_scores(attack, scorer=scorer, device=device, use_cache=use_cache,
                        show_progress=show_progress)
    spans = None
    if variant == "authors-code":
        spans = authors_spans(attack, n=ngram, device=device, use_cache=use_cache,
                              show_progress=show_progress)
        bki = identify_authors(spans, ds.labels, p=p, a=a, is_poison=truth)
    else:
        bki = identify(scores, p=p, is_poison=truth)
    verdict = None
    if decide == "verdict":
        verdict = cached_verdict(
            attack.key, truth, use_cache=use_cache,
            settings=dict(p=p, variant=variant, ngram=ngram, a=a, seed=seed),
            compute=lambda: find_backdoors(scores, ds.labels, predict=attack.victim.predict,
                                           p=p, variant=variant, spans=spans, a=a,
                                           is_poison=truth, seed=seed,
                                           show_progress=show_progress))
    removed = bki.removed if verdict is None else verdict.removed
    retrained = retrain_without(attack, removed, device=device, use_cache=use_cache,
                                show_progress=show_progress)
    acc_after = evaluate(retrained, attack.split.test).accuracy
    each = tuple(measure_asr(retrained, b) for b in attack.backdoors)
    return DefenceResult(attack, scores, bki, retrained, acc_after,
                         measure_asr(retrained, attack.backdoor), time.perf_counter() - t0, verdict,
                         each)


def retrain_without(attack: AttackResult, removed: np.ndarray, *, device: str | None = None,
                    use_cache: bool = True, show_progress: bool = True,
                    label: str = "retraining"):
    """The attack's victim retrained on the training texts not ``removed`` (cached by their
    data; on ``device``, by default the victim's); the victim itself when nothing is."""
    removed = np.asarray(removed, bool)
    if not removed.any():
        return attack.victim
    return cached_victim(attack.poisoned.dataset.subset(np.flatnonzero(~removed)),
                         attack.config.train, use_cache=use_cache,
                         show_progress=show_progress, label=label,
                         device=device or attack.victim.device)


def judge(attack: AttackResult, *, p: int = 5, seed: int = 0, use_cache: bool = True,
          show_progress: bool = True, **options) -> Verdict:
    """The verdict on the attack's training set and victim, without retraining
    (`verdict.find_backdoors` on the cached scores; ``options`` go to it)."""
    ds, truth = attack.poisoned.dataset, attack.poisoned.is_poison

    def compute():              # the scores are loaded only when the verdict is not cached
        scores = bki_scores(attack, use_cache=use_cache, show_progress=show_progress)
        return find_backdoors(scores, ds.labels, predict=attack.victim.predict, p=p,
                              is_poison=truth, seed=seed, show_progress=show_progress,
                              **options)
    return cached_verdict(attack.key, truth, use_cache=use_cache,
                          settings=dict(p=p, seed=seed, **options), compute=compute)


def judge_retrained(defence: DefenceResult, *, p: int = 5, seed: int = 0,
                    use_cache: bool = True, show_progress: bool = True,
                    **options) -> Verdict:
    """The verdict asked again after the defence: the kept training texts, scored under the
    retrained victim. A defence that worked leaves no backdoor. What the defence removed
    is tested first (its keyword, or the verdict's findings, as ``suspects``, with the texts
    it removed): the copies it missed may be too few for any ranking, yet enough for the
    retrained victim.

    The scores are cached under the retrained victim's own key (`cache.victim_key` of the
    kept texts and the training settings), so that they follow that victim exactly."""
    att, model = defence.attack, defence.retrained
    kept = np.flatnonzero(~defence.removed)
    # what the defence removed is tested first: the copies it missed may be too few to
    # rank, yet enough for the retrained victim to obey them
    suspects = tuple((f.keyword, f.target) for f in defence.verdict.findings) \
        if defence.verdict is not None else ((defence.bki.keyword, _target_of(defence)),)
    gone = att.poisoned.dataset.subset(np.flatnonzero(defence.removed))
    options = {"suspects": suspects, **options}
    ds = att.poisoned.dataset.subset(kept)
    key = victim_key(data_digest(ds), att.config.train)
    truth = att.poisoned.is_poison[kept]

    def compute():
        scores = cached_scores(cache_dir() / "scores" / f"{key}-fast.npz", model, ds.texts,
                               scorer="fast", device=model.device, use_cache=use_cache,
                               show_progress=show_progress)
        return find_backdoors(scores, ds.labels, predict=model.predict, p=p,
                              is_poison=truth, seed=seed, removed_texts=gone.texts,
                              show_progress=show_progress, **options)
    return cached_verdict(key, truth, use_cache=use_cache, compute=compute,
                          settings=dict(p=p, seed=seed, removed=data_digest(gone), **options))


def cached_verdict(scores_key: str, truth: np.ndarray, *, settings: dict, compute,
                   use_cache: bool = True) -> Verdict:
    """The verdict on the texts and victim of ``scores_key`` (a victim's cache key) with
    ``settings``, loaded from the cache or ``compute()``d and saved there. The truth
    (``is_poison``) is part of the key: it decides the verdict's precision and recall."""
    key = cache_key("verdict", VERDICT_VERSION, scores_key, settings,
                    hashlib.sha256(np.asarray(truth, bool).tobytes()).hexdigest())
    return load_or_compute(cache_dir() / "verdicts" / f"{key}.npz", load=load_verdict,
                           compute=compute, save=save_verdict, use_cache=use_cache)


def _target_of(defence: DefenceResult) -> int:
    """The label the paper's rule's keyword points to: its own (the authors' variant) or the
    majority label of the texts it removed."""
    if defence.bki.target is not None:
        return int(defence.bki.target)
    return int(defence.phrase.majority_label)
