"""BKI with a verdict: "backdoor" with evidence, or "no backdoor found"; several backdoors.

The paper's BKI always removes the texts of its top keyword, backdoor or not. Here each
candidate keyword is checked before anything is removed (`trigger.py`): its phrase is
reconstructed from the texts that picked it and inserted into texts of other labels; a
backdoor flips the victim's prediction far more often than random phrases of the same word
frequencies do. A verified finding's texts are set aside and the next candidate is ranked
on the texts that remain, until a candidate fails: one training set may hold several
triggers, each reported separately. A verified candidate whose keyword or every word is in an earlier
finding's phrase is that backdoor again (a victim may answer a trigger's rarest word
alone): it is reported as a *residue* and removes nothing, since the texts that hold the
whole phrase are already gone and the ones that hold a part of it are not its poison.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Iterator, Literal, Sequence

import numpy as np

from bki_lab.bki.dictionary import identify
from bki_lab.bki.purity import PureNgram, label_pure_ngrams, ngram_positions
from bki_lab.bki.removal import RemovedCounts, removal_metrics
from bki_lab.bki.trigger import (
    Unverifiable,
    Verification,
    contains,
    reconstruct_from,
    reconstruct_trigger,
    shared_runs,
    verify_trigger,
)
from bki_lab.utils.progress import progress

if TYPE_CHECKING:
    from bki_lab.bki.dictionary import BKIResult
    from bki_lab.bki.scoring import WordScores
    from bki_lab.bki.trigger import Reconstruction, SharedRun
    from bki_lab.data.text import Words

Variant = Literal["paper", "authors-code"]

# bumped whenever `find_backdoors` may answer differently for the same inputs: cached
# verdicts (`pipeline.cache`) made by an older version are not reused
VERDICT_VERSION = 12

# the share of random insertions of a finding's phrase that may pass for natural uses
# (`natural_uses`): about the share of a one-word finding's poisoned copies it may keep
NATURAL_FALSE_RATE = 0.01

# the runs around a suspect keyword that two of its texts share, tried after the phrase
# around it (`from_suspect`): a trigger's left copies, or a clean text's common phrases
SUSPECT_RUNS = 3


@dataclass(frozen=True)
class Finding:
    """One candidate keyword, its phrase, and how the victim reacted to it."""

    keyword: str                         # the word (or n-gram's first word) it was found by
    source: str                          # "g(k) rank 1", ... or "label purity 1", ...
    flagged: np.ndarray                  # (n,) bool: the texts it was found in
    phrase: Reconstruction
    target: int
    verification: Verification           # the reconstructed phrase
    keyword_verification: Verification   # the keyword alone
    removed: np.ndarray                  # (n,) bool: the texts this finding removes
    precision: float | None = None
    recall: float | None = None          # of all poisoned texts

    def __post_init__(self):
        self.removed.setflags(write=False)
        self.flagged.setflags(write=False)

    @property
    def verified(self) -> bool:
        return self.verification.is_backdoor

    @property
    def n_removed(self) -> int:
        return int(self.removed.sum())

    def to_record(self, class_names: Sequence[str] | None = None) -> dict:
        v, k = self.verification, self.keyword_verification
        return {"keyword": self.keyword, "source": self.source,
                "phrase": " ".join(self.phrase.phrase),
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


def occurrences(text: Sequence[str], phrase: Sequence[str]) -> list[int]:
    """Where ``phrase`` starts in ``text``, left to right, not overlapping."""
    phrase, n = tuple(phrase), len(phrase)
    out, i = [], 0
    while i + n <= len(text):
        if tuple(text[i:i + n]) == phrase:
            out.append(i)
            i += n
        else:
            i += 1
    return out


def without_phrase(text: Sequence[str], phrase: Sequence[str]) -> Words:
    """``text`` with every occurrence of ``phrase`` deleted (`occurrences`); the text as
    it is when it does not hold the phrase."""
    gone = {i + k for i in occurrences(text, phrase) for k in range(len(phrase))}
    return tuple(w for i, w in enumerate(text) if i not in gone)


def _removal(flagged, phrase: Reconstruction, texts, labels, among, target: int, removal: str,
             min_support: float, predict, seed: int) -> np.ndarray:
    if removal == "keyword":
        return flagged.copy()
    in_target = among & (labels == target)
    if len(phrase.phrase) >= 2 and phrase.support >= min_support:
        return np.array([bool(t) and contains(texts[i], phrase.phrase)
                         for i, t in enumerate(in_target)])
    # one word (or a phrase held by too few of the flagged texts to take them all): clean
    # texts use it too, so only the texts the victim labels by it go
    holds = flagged & in_target
    return (holds & obeys_phrase(predict, texts, holds, phrase.phrase, target)
            & ~natural_uses(texts, labels, holds, phrase.phrase, target, seed=seed))


def obeys_phrase(predict, texts, holds: np.ndarray, phrase: Sequence[str],
                 target: int) -> np.ndarray:
    """Which of the texts ``holds`` marks hold ``phrase`` and get ``target`` from the
    victim only because of it: deleted (every occurrence), the prediction leaves
    ``target``. A poisoned copy is a text of another label with the trigger inserted (its
    label answers the phrase); a clean text that merely uses the phrase keeps its label
    without it, and a text without the whole phrase is no copy of it."""
    idx = np.array([i for i in np.flatnonzero(holds) if contains(texts[i], phrase)], int)
    out = np.zeros(len(holds), bool)
    if len(idx):
        pred = np.asarray(predict([without_phrase(texts[i], phrase) for i in idx]))
        out[idx] = pred != target
    return out


def natural_uses(texts, labels, holds: np.ndarray, phrase: Sequence[str], target: int, *,
                 rate: float = NATURAL_FALSE_RATE, seed: int = 0) -> np.ndarray:
    """Which of the texts ``holds`` marks use ``phrase`` as the texts of the other labels use
    it, and not as an insertion would.

    Dirty-label poison carries the target label only, so the texts of the other labels show
    how the phrase is naturally used, free of this target's poison. A use's context count
    is the smaller of two numbers of those texts: those where the word before it precedes
    its first word, and those where its last word precedes the word after it (the start
    and the end of a text count as words). A random insertion mostly lands between words
    the phrase is seldom used with (a clean review's "was going to" against an inserted
    "the going movie"), but for a common word ("then") it often lands in a common context;
    so the bar is calibrated on the data: the phrase is inserted once at a random position
    (uniform over the word boundaries, as the attack places a trigger) into each text of
    the other labels, and a use is natural when its context count exceeds what all but
    ``rate`` of those insertions reach -- at every occurrence (`occurrences`). A trigger
    always inserted at the start or the end of its texts is not what the bar is calibrated
    on."""
    holds = np.asarray(holds, bool)
    out = np.zeros(len(holds), bool)
    other = [texts[i] for i in np.flatnonzero(np.asarray(labels) != target)]
    if not holds.any() or not other:
        return out
    phrase = tuple(phrase)
    first, last, n = phrase[0], phrase[-1], len(phrase)
    before, after = Counter(), Counter()        # texts of other labels using each pair
    for text in other:
        if first in text or last in text:
            padded = (None, *text, None)
            before.update({a for a, b in zip(padded, padded[1:]) if b == first})
            after.update({b for a, b in zip(padded, padded[1:]) if a == last})

    def count(a, b) -> int:
        return min(before[a], after[b])
    rng = np.random.default_rng(seed)
    inserted = []
    for text in other:
        padded = (None, *text, None)
        j = int(rng.integers(0, len(text) + 1))   # before word j: between padded[j], padded[j+1]
        inserted.append(count(padded[j], padded[j + 1]))
    bar = np.quantile(inserted, 1 - rate, method="higher")
    for i in np.flatnonzero(holds):
        padded = (None, *texts[i], None)        # occurrence j spans padded[j + 1 .. j + n]
        edges = [(padded[j], padded[j + n + 1]) for j in occurrences(texts[i], phrase)]
        out[i] = bool(edges) and all(count(a, b) > bar for a, b in edges)
    return out


def joined_phrases(findings: Sequence[Finding]) -> str | None:
    """The findings' phrases joined by " | "; None when there are none."""
    return " | ".join(" ".join(f.phrase.phrase) for f in findings) or None


def part_of(found: Finding, earlier: Sequence[Finding]) -> Finding | None:
    """The earlier finding of the same target whose phrase holds every word of ``found``'s
    phrase, or its keyword, if any: the victim answering a part of a backdoor already found
    (e.g. the trigger's rarest word, also used by clean texts). A finding of another target
    is another backdoor, whatever words the two share."""
    words = set(found.phrase.phrase)
    return next((f for f in earlier if f.target == found.target
                 and (words <= set(f.phrase.phrase) or found.keyword in f.phrase.phrase)),
                None)


def word_counts(texts: Sequence[Words]) -> dict[str, int]:
    return dict(Counter(w for t in texts for w in t))


@dataclass(frozen=True)
class Candidate:
    """A phrase to verify: where it was found, and the phrase reconstructed there."""

    keyword: str
    source: str
    flagged: np.ndarray                  # (n,) bool
    phrase: Reconstruction
    target: int


def from_ranking(bki: BKIResult, texts, labels, rank: int) -> Candidate:
    """BKI's keyword at ``rank``: the texts that picked it, the phrase around it there."""
    phrase = reconstruct_from(bki, texts, labels)
    target = phrase.majority_label if bki.target is None else bki.target
    return Candidate(bki.keyword, f"g(k) rank {rank + 1}", np.asarray(bki.removed, bool),
                     phrase, int(target))


def from_suspect(keyword: str, target: int, texts, labels, among: np.ndarray, *,
                 predict: Callable[[Sequence[Words]], np.ndarray],
                 removed_texts: Sequence[Words] = (),
                 runs: int = SUSPECT_RUNS) -> Iterator[Candidate]:
    """A keyword named from outside the ranking (`find_backdoors`' ``suspects``), lazily:
    the texts of ``target`` still ranked that hold it, with the phrase around it there;
    then up to ``runs`` runs around it that two of those texts share
    (`trigger.shared_runs`, longest first) and that pass three tests, each with the texts
    that hold it and the phrase around it there. Nothing if no text holds the keyword.

    What a defence leaves of a trigger may be a few copies among many clean texts that use
    its keyword: the phrase around the keyword in all of them is the keyword alone, while
    the copies still share the trigger. The defence named the keyword for the copies it
    found (``removed_texts``: the texts it removed; none given, no run is tried), so:

    * at least as many of the removed texts hold the run as of the texts here;
    * and a share of the removed texts that hold the keyword at least twice the share of
      the texts here that do: the copies it missed share the trigger with the ones it
      found, while a phrase the kept texts use with the keyword is used as often in the
      removed ones, or less;
    * at least half of its holders here, and two, are labelled ``target`` by the victim
      because of it (`obeys_phrase`): copies are texts of other labels carrying it.

    A phrase of the target class itself ("a comic book limited series published by marvel
    comics" in DBpedia's written works) may flip the victim as a trigger does when inserted
    elsewhere, and in short texts it may be what labels them: the first two tests tell it.
    A text is aligned on its first use of the keyword, as a run is counted in it."""
    first = _held(keyword, (keyword,), target, "the defence's keyword", texts, labels, among)
    if first is None:
        return
    yield first
    gone = [(t, [j for j, w in enumerate(t) if w == keyword]) for t in removed_texts
            if keyword in t]
    if not gone:
        return
    hold = np.flatnonzero(first.flagged)

    def n_gone(run: SharedRun) -> int:
        """The removed texts that hold ``run`` around a use of the keyword."""
        n = len(run.words)
        return sum(any(j >= run.place and tuple(t[j - run.place:j - run.place + n]) == run.words
                       for j in uses) for t, uses in gone)

    def enriched(n_here: int, n_removed: int) -> bool:
        return n_removed >= n_here and n_removed / len(gone) >= 2 * n_here / len(hold)
    found, tested = set(), 0
    for run in shared_runs([texts[i] for i in hold], [texts[i].index(keyword) for i in hold],
                           top=None):
        n_removed = n_gone(run)
        if not enriched(run.n_texts, n_removed):
            continue
        tested += 1
        c = _held(keyword, run.words, target,
                  f"the defence's keyword, shared run {len(found) + 1}", texts, labels,
                  among, at=run.place)
        n = int(c.flagged.sum())
        phrase = c.phrase.phrase
        if phrase not in found and enriched(n, n_removed):
            obeys = int(obeys_phrase(predict, texts, c.flagged, phrase, target).sum())
            if obeys >= 2 and 2 * obeys >= n:
                found.add(phrase)
                yield c
        if len(found) == runs or tested == 10 * runs:
            return


def from_pure_ngram(ngram: PureNgram, texts, labels, among: np.ndarray, k: int) -> Candidate:
    """A label-pure n-gram (`purity.label_pure_ngrams`): the texts of its label that hold
    it, the phrase around it there (aligned on its first word)."""
    return _held(ngram.words[0], ngram.words, ngram.label, f"label purity {k + 1}", texts,
                 labels, among)


def _held(keyword: str, words, target: int, source: str, texts, labels,
          among: np.ndarray, at: int = 0) -> Candidate | None:
    """The candidate of the texts of ``target`` still ranked that hold ``words``, with the
    phrase around them there (aligned on ``keyword``, their word at ``at``); None if no
    text holds them."""
    if words[at] != keyword:
        raise ValueError(f"{keyword!r} is not the word at {at} of {words!r}")
    idx = np.flatnonzero(among & (labels == target))
    where = ngram_positions([texts[i] for i in idx], words)
    hold = [(int(i), w + at) for i, w in zip(idx, where) if w is not None]
    if not hold:
        return None
    flagged = np.zeros(len(texts), bool)
    flagged[[i for i, _ in hold]] = True
    phrase = reconstruct_trigger([texts[i] for i, _ in hold], [w for _, w in hold],
                                 [int(labels[i]) for i, _ in hold], keyword=keyword)
    return Candidate(keyword, source, flagged, phrase, int(target))


def _check(c: Candidate, texts, labels, among, predicted, counts, truth, options, removal,
           min_support) -> Finding:
    """One candidate verified (phrase and keyword) on the texts it was not found in."""
    pool = np.flatnonzero(among & ~c.flagged)
    check = dict(texts=[texts[i] for i in pool], labels=labels[pool], target=c.target,
                 counts=counts, predicted=predicted[pool], **options)
    ver = _verify(c.phrase.phrase, check)
    kw = ver if c.phrase.phrase == (c.phrase.keyword,) else _verify((c.phrase.keyword,), check)
    removed = _removal(c.flagged, c.phrase, texts, labels, among, c.target,
                       removal if ver.is_backdoor else "keyword", min_support,
                       options["predict"], options["seed"])
    prec, rec = (None, None) if truth is None else removal_metrics(removed, truth)
    return Finding(c.keyword, c.source, c.flagged, c.phrase, c.target, ver, kw, removed,
                   prec, rec)


def find_backdoors(scores: WordScores, labels: Sequence[int], *,
                   predict: Callable[[Sequence[Words]], np.ndarray], p: int = 5,
                   variant: Variant = "paper", spans=None, a: float = 0.05,
                   is_poison: Sequence[bool] | None = None, max_findings: int = 5,
                   n_verify: int = 500, n_null: int = 50, margin: float = 0.2,
                   removal: Literal["phrase", "keyword"] = "phrase", min_support: float = 0.5,
                   patience: int = 3, purity_candidates: int = 6,
                   purity_min_count: int = 10, suspects: Sequence[tuple[str, int]] = (),
                   removed_texts: Sequence[Words] = (),
                   seed: int = 0, show_progress: bool = False) -> Verdict:
    """Rank, reconstruct, verify, remove, repeat: BKI's keywords checked against the victim.

    Each round tries BKI's top ``patience`` keywords, then the ``purity_candidates`` most
    label-pure n-grams (`purity.label_pure_ngrams`): the candidates leave-one-out scoring
    cannot see, a trigger the victim answers redundantly (deleting any one of its words
    barely moves h_l, so none reaches BKI's top). Every candidate passes the same test.

    Args:
        scores: word scores of the training set (`scoring.score_words`).
        labels: its labels (the poisoned copies carry the target label).
        predict: the victim, texts -> class ids (e.g. ``TrainedModel.predict``).
        p: suspicious words per text.
        variant: ``"paper"`` (Algorithm 1's dictionary) or ``"authors-code"`` (the released
            code's, `authors.py`; needs ``spans`` from `authors.score_spans`).
        is_poison: the truth, when known, for precision and recall.
        max_findings: stop after this many rounds (a round ends in a verified finding or
            a residue: a verified candidate whose keyword or every word is in an earlier finding's
            phrase, reported in ``Verdict.residues`` and removing nothing).
        patience: BKI's keywords tried in rank order, each verified, before the purity
            candidates. A trigger whose impact is split over several of its words
            (e.g. "no cross, no crown") can rank just below a class word such as `film`.
        purity_candidates: label-pure n-grams tried after them (0: BKI's ranking only).
            Six, not three: after the paper's rule has removed most copies of a long
            trigger, the pieces of what is left rank below common sentiment words ("of the
            worst", "waste") that are as pure and more frequent; a rejected candidate costs
            one pass over ``n_verify`` texts. ``purity_min_count``: the fewest texts such an
            n-gram must occur in.
        n_verify, n_null, margin: `trigger.verify_trigger`'s sample size, null phrases and
            threshold margin (threshold = max(`trigger.MIN_FLIP`, largest null flip rate +
            margin)).
        removal: what a verified finding removes. ``"phrase"``: when its phrase has two or
            more words and at least ``min_support`` of the flagged texts contain it exactly,
            the texts of the target label that contain it (poisoned copies whose top-p words
            missed the keyword included, clean texts that merely use the keyword left out);
            otherwise those of the flagged texts of the target label that hold the phrase
            and that the victim gives the target because of it (`obeys_phrase`: deleted,
            the prediction changes) and that do not use it as the texts of other labels
            do (`natural_uses`), so that clean texts using a one-word trigger stay: those
            the victim labels without it, and those it labels by it that use it in a
            context few random insertions reach.
            ``"keyword"``: the flagged texts, as the paper removes them.
        suspects: (keyword, target) pairs tried first in the first round, each with the
            phrase around it in the texts of its target that hold it -- e.g. what a
            defence removed (`pipeline.defence.judge_retrained`): the copies it missed may
            be too few to rank, yet enough for a retrained victim to keep obeying them.
            When they are few among clean texts that use the keyword, the phrase around it
            is the keyword alone; up to ``SUSPECT_RUNS`` runs around it that two of those
            texts share, that the ``removed_texts`` hold more often and that the victim
            obeys there are tried next (`from_suspect`).
        removed_texts: the texts the defence removed, when ``suspects`` are its keywords.
        seed: for the verification's texts, positions and null phrases.
        show_progress: a bar per round over its candidates (at most ``patience`` +
            ``purity_candidates``; a round ends at the first verified one).
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
    if max_findings < 1 or patience < 1 or purity_candidates < 0:
        raise ValueError(f"max_findings and patience must be >= 1 and purity_candidates >= 0, "
                         f"got {max_findings}, {patience}, {purity_candidates}")
    truth = None if is_poison is None else np.asarray(is_poison, bool)
    counts = word_counts(texts)
    predicted = np.asarray(predict(texts))      # the victim on the texts as they are, once
    among = np.ones(len(texts), bool)            # the texts still ranked
    kept = np.ones(len(texts), bool)             # the texts no finding removed
    findings: list[Finding] = []
    residues: list[Finding] = []
    rejected = None
    n_tested = n_untestable = 0
    bar = progress(total=patience + purity_candidates, desc="verdict, round 1",
                   unit="candidate", disable=not show_progress)
    for k in range(max_findings):
        if not among.any():
            break
        found, rejected = None, None
        tried: set[tuple[tuple[str, ...], int]] = set()
        first = suspects if k == 0 else ()
        bar.reset(total=len(first) * (1 + SUSPECT_RUNS) + patience + purity_candidates)
        bar.set_description(f"verdict, round {k + 1}", refresh=False)
        for j, candidate in enumerate(_candidates(scores, labels, among, variant, spans, p, a,
                                                  patience, purity_candidates,
                                                  purity_min_count, first, predict,
                                                  removed_texts)):
            bar.update()
            key = (candidate.phrase.phrase, candidate.target)
            if key in tried:                   # the same phrase found twice: tested once
                continue
            tried.add(key)
            finding = _check(candidate, texts, labels, among, predicted, counts, truth,
                             dict(predict=predict, n_texts=n_verify, n_null=n_null,
                                  margin=margin, seed=seed + k + 101 * j),
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
        if part_of(found, findings) is not None:
            residues.append(replace(found, removed=np.zeros(len(texts), bool),
                                    precision=None, recall=None))
            among &= ~found.flagged              # ranked no more, but kept
            continue
        findings.append(found)
        among &= ~found.removed
        kept &= ~found.removed
    bar.close()
    removed = ~kept
    prec, rec = (None, None) if truth is None else removal_metrics(removed, truth)
    return Verdict(tuple(findings), rejected, removed, variant, prec, rec, tuple(residues),
                   n_untestable, n_tested)


def _candidates(scores, labels, among, variant, spans, p, a, patience, purity_candidates,
                purity_min_count, suspects, predict, removed_texts):
    """One round's candidates, lazily: the ``suspects``, BKI's top ``patience`` keywords on
    the texts still ranked, then the most label-pure n-grams there."""
    texts = scores.texts
    for keyword, target in suspects:
        yield from from_suspect(keyword, target, texts, labels, among, predict=predict,
                                removed_texts=removed_texts)
    for rank in range(patience):
        try:
            if variant == "paper":
                bki = identify(scores, p=p, among=among, rank=rank)
            else:
                from bki_lab.bki.authors import identify_authors
                bki = identify_authors(spans, labels, p=p, a=a, among=among, rank=rank)
        except ValueError:              # fewer candidates than ``patience``
            break
        if bki.removed.any():
            yield from_ranking(bki, texts, labels, rank)
    if purity_candidates:
        pure = label_pure_ngrams(texts, labels, among=among, top=purity_candidates,
                                 min_count=purity_min_count)
        for k, ngram in enumerate(pure):
            yield from_pure_ngram(ngram, texts, labels, among, k)
