"""BKI with a verdict: "backdoor" with evidence, or "no backdoor found"; several backdoors.

The paper's BKI always removes the texts of its top keyword, backdoor or not. Here each
candidate keyword is checked before anything is removed (`trigger.py`): its phrase is
reconstructed from the texts that picked it and inserted into texts of other labels; a
backdoor flips the victim's prediction far more often than random phrases of the same word
frequencies do. A verified finding's texts are set aside and the next candidate is ranked
on the texts that remain, until a candidate fails: one training set may hold several
triggers, each reported separately. A verified candidate made only of words of an earlier
finding's phrase is that backdoor again (a victim may answer a trigger's rarest word
alone): it is reported as a *residue* and removes nothing, since the texts that hold the
whole phrase are already gone and the ones that hold a part of it are not its poison.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Literal, Sequence

import numpy as np

from bki_lab.bki.dictionary import identify
from bki_lab.bki.removal import RemovedCounts, removal_metrics
from bki_lab.bki.trigger import (
    Unverifiable,
    Verification,
    contains,
    reconstruct_from,
    verify_trigger,
)

if TYPE_CHECKING:
    from bki_lab.bki.dictionary import BKIResult
    from bki_lab.bki.scoring import WordScores
    from bki_lab.bki.trigger import Reconstruction
    from bki_lab.data.text import Words

Variant = Literal["paper", "authors-code"]


@dataclass(frozen=True)
class Finding:
    """One candidate keyword, its phrase, and how the victim reacted to it."""

    bki: BKIResult                       # the ranking and picks it came from
    phrase: Reconstruction
    target: int
    verification: Verification           # the reconstructed phrase
    keyword_verification: Verification   # the keyword alone
    removed: np.ndarray                  # (n,) bool: the texts this finding removes
    precision: float | None = None
    recall: float | None = None          # of all poisoned texts

    def __post_init__(self):
        self.removed.setflags(write=False)

    @property
    def keyword(self) -> str:
        return self.bki.keyword

    @property
    def verified(self) -> bool:
        return self.verification.is_backdoor

    @property
    def n_removed(self) -> int:
        return int(self.removed.sum())

    def to_record(self, class_names: Sequence[str] | None = None) -> dict:
        v, k = self.verification, self.keyword_verification
        return {"keyword": self.keyword, "phrase": " ".join(self.phrase.phrase),
                "phrase_support": self.phrase.support, "target": self.target,
                "target_name": class_names[self.target] if class_names else str(self.target),
                "verified": self.verified, "flip_rate": v.flip_rate,
                "threshold": v.threshold,
                "null_max": float(v.null_rates.max()) if v.null_rates.size else None,
                "null_mean": float(v.null_rates.mean()) if v.null_rates.size else None,
                "keyword_flip_rate": k.flip_rate, "n_verify_texts": v.n_texts,
                "n_removed": self.n_removed, "precision": self.precision, "recall": self.recall}


@dataclass(frozen=True)
class Verdict(RemovedCounts):
    """What BKI with verification concluded about one training set."""

    findings: tuple[Finding, ...]        # the verified ones, in the order found
    rejected: Finding | None             # the top candidate that failed in the last round
    removed: np.ndarray                  # (n,) bool: every verified finding's texts
    variant: str
    precision: float | None = None
    recall: float | None = None
    residues: tuple[Finding, ...] = ()   # verified, but part of an earlier finding's phrase
    n_untestable: int = 0                # candidates with no text to test them on
    n_tested: int = 0                    # candidates tested on the victim

    def __post_init__(self):
        self.removed.setflags(write=False)

    @property
    def verdict(self) -> str:
        """"backdoor"; "no backdoor found"; or "could not be tested" when no candidate had a
        text to be tested on (every text outside its target class is already predicted as
        the target, or there is none): silence then would claim what was never checked."""
        if self.findings:
            return "backdoor"
        if self.n_untestable and not self.n_tested:
            return "could not be tested"
        return "no backdoor found"

    @property
    def phrases(self) -> str | None:
        """Every finding's phrase, in the order found (`joined_phrases`)."""
        return joined_phrases(self.findings)

    def to_record(self, class_names: Sequence[str] | None = None) -> dict:
        return {"verdict": self.verdict, "variant": self.variant,
                "n_findings": len(self.findings),
                "findings": [f.to_record(class_names) for f in self.findings],
                "rejected": self.rejected.to_record(class_names) if self.rejected else None,
                "residues": [f.to_record(class_names) for f in self.residues],
                "n_removed": self.n_removed, "removed_fraction": self.removed_fraction,
                "precision": self.precision, "recall": self.recall,
                "n_tested": self.n_tested, "n_untestable": self.n_untestable}


def _verify(phrase, check: dict) -> Verification:
    try:
        return verify_trigger(phrase=phrase, **check)
    except Unverifiable:            # nothing to test it on: it cannot be shown to be a backdoor
        return Verification.impossible(phrase, check["target"])


def _removal(flagged, phrase: Reconstruction, texts, labels, among, target: int, removal: str,
             min_support: float) -> np.ndarray:
    if removal == "keyword":
        return flagged.copy()
    in_target = among & (labels == target)
    if len(phrase.phrase) >= 2 and phrase.support >= min_support:
        return np.array([bool(t) and contains(texts[i], phrase.phrase)
                         for i, t in enumerate(in_target)])
    return flagged & in_target


def joined_phrases(findings: Sequence[Finding]) -> str | None:
    """The findings' phrases joined by " | "; None when there are none."""
    return " | ".join(" ".join(f.phrase.phrase) for f in findings) or None


def part_of(phrase: Sequence[str], earlier: Sequence[Finding]) -> Finding | None:
    """The earlier finding whose phrase holds every word of ``phrase``, if any."""
    return next((f for f in earlier if set(phrase) <= set(f.phrase.phrase)), None)


def word_counts(texts: Sequence[Words]) -> dict[str, int]:
    return dict(Counter(w for t in texts for w in t))


def _candidate(bki, texts, labels, among, predicted, counts, truth, options, removal,
               min_support) -> Finding:
    """One ranked candidate: its phrase reconstructed, then verified (phrase and keyword)."""
    phrase = reconstruct_from(bki, texts, labels)
    target = phrase.majority_label if bki.target is None else bki.target
    pool = np.flatnonzero(among & ~bki.removed)
    check = dict(texts=[texts[i] for i in pool], labels=labels[pool], target=target,
                 counts=counts, predicted=predicted[pool], **options)
    ver = _verify(phrase.phrase, check)
    kw = ver if phrase.phrase == (phrase.keyword,) else _verify((phrase.keyword,), check)
    removed = _removal(bki.removed, phrase, texts, labels, among, target,
                       removal if ver.is_backdoor else "keyword", min_support)
    prec, rec = (None, None) if truth is None else removal_metrics(removed, truth)
    return Finding(bki, phrase, int(target), ver, kw, removed, prec, rec)


def find_backdoors(scores: WordScores, labels: Sequence[int], *,
                   predict: Callable[[Sequence[Words]], np.ndarray], p: int = 5,
                   variant: Variant = "paper", spans=None, a: float = 0.05,
                   is_poison: Sequence[bool] | None = None, max_findings: int = 5,
                   n_verify: int = 500, n_null: int = 50, margin: float = 0.2,
                   removal: Literal["phrase", "keyword"] = "phrase", min_support: float = 0.5,
                   patience: int = 3, seed: int = 0) -> Verdict:
    """Rank, reconstruct, verify, remove, repeat: BKI's keywords checked against the victim.

    Args:
        scores: word scores of the training set (`scoring.score_words`).
        labels: its labels (the poisoned copies carry the target label).
        predict: the victim, texts -> class ids (e.g. ``TrainedModel.predict``).
        p: suspicious words per text.
        variant: ``"paper"`` (Algorithm 1's dictionary) or ``"authors-code"`` (the released
            code's, `authors.py`; needs ``spans`` from `authors.score_spans`).
        is_poison: the truth, when known, for precision and recall.
        max_findings: stop after this many rounds (a round ends in a verified finding or
            a residue: a verified candidate made only of words of an earlier finding's
            phrase, reported in ``Verdict.residues`` and removing nothing).
        patience: candidates tried in rank order, each verified, before concluding that
            none is a backdoor. A trigger whose impact is split over several of its words
            (e.g. "no cross, no crown") can rank just below a class word such as `film`.
        n_verify, n_null, margin: `trigger.verify_trigger`'s sample size, null phrases and
            threshold margin (threshold = max(0.5, largest null flip rate + margin)).
        removal: what a verified finding removes. ``"phrase"``: when its phrase has two or
            more words and at least ``min_support`` of the flagged texts contain it exactly,
            the texts of the target label that contain it (poisoned copies whose top-p words
            missed the keyword included, clean texts that merely use the keyword left out);
            otherwise the flagged texts of the target label. ``"keyword"``: the flagged
            texts, as the paper removes them.
        seed: for the verification's texts, positions and null phrases.
    """
    labels = np.asarray(labels)
    texts = scores.texts
    if len(labels) != len(texts):
        raise ValueError(f"{len(labels)} labels for {len(texts)} texts")
    if variant not in ("paper", "authors-code"):
        raise ValueError(f"variant must be 'paper' or 'authors-code', got {variant!r}")
    if variant == "authors-code" and spans is None:
        raise ValueError("the authors' variant needs spans=authors.score_spans(...)")
    if removal not in ("phrase", "keyword"):
        raise ValueError(f"removal must be 'phrase' or 'keyword', got {removal!r}")
    if max_findings < 1 or patience < 1:
        raise ValueError(f"max_findings and patience must be >= 1, got {max_findings}, "
                         f"{patience}")
    truth = None if is_poison is None else np.asarray(is_poison, bool)
    counts = word_counts(texts)
    predicted = np.asarray(predict(texts))      # the victim on the texts as they are, once
    among = np.ones(len(texts), bool)            # the texts still ranked
    kept = np.ones(len(texts), bool)             # the texts no finding removed
    findings: list[Finding] = []
    residues: list[Finding] = []
    rejected = None
    n_tested = n_untestable = 0
    for k in range(max_findings):
        if not among.any():
            break
        found, rejected = None, None
        for rank in range(patience):
            try:
                if variant == "paper":
                    bki = identify(scores, p=p, among=among, rank=rank)
                else:
                    from bki_lab.bki.authors import identify_authors
                    bki = identify_authors(spans, labels, p=p, a=a, among=among, rank=rank)
            except ValueError:          # fewer candidates than ``patience``
                break
            if not bki.removed.any():
                continue
            finding = _candidate(bki, texts, labels, among, predicted, counts, truth,
                                 dict(predict=predict, n_texts=n_verify, n_null=n_null,
                                      margin=margin, seed=seed + k + 101 * rank),
                                 removal, min_support)
            if finding.verification.n_texts:
                n_tested += 1
            else:
                n_untestable += 1
            if finding.verified:
                found, rejected = finding, None
                break
            rejected = rejected or finding
        if found is None:
            break
        if part_of(found.phrase.phrase, findings) is not None:
            residues.append(replace(found, removed=np.zeros(len(texts), bool),
                                    precision=None, recall=None))
            among &= ~found.bki.removed          # ranked no more, but kept
            continue
        findings.append(found)
        among &= ~found.removed
        kept &= ~found.removed
    removed = ~kept
    prec, rec = (None, None) if truth is None else removal_metrics(removed, truth)
    return Verdict(tuple(findings), rejected, removed, variant, prec, rec, tuple(residues),
                   n_untestable, n_tested)
