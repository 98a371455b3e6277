"""One row of each reproduction table, as a record: the attack and the paper's BKI
(``bki-table3``, ``attack-table2``), several triggers in one set (``bki-multi``) and every
defence on one victim (``defences``). Each function takes a `Row`, a profile and a seed.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from bki_lab.attack.poison import trigger_words
from bki_lab.defences.comparison import compare_defences
from bki_lab.reproduce.runner import describe_device
from bki_lab.utils.records import ACC_AFTER, ACC_BEFORE, ASR_AFTER, ASR_BEFORE

if TYPE_CHECKING:
    from bki_lab.reproduce.tables import Row

def run_multi_row(row: Row, *, profile: str, seed: int, recipe: str = "bki-lab",
                  device: str = "cpu") -> dict:
    """One multi-trigger row: the attack (with the clean baseline), then the paper's rule and
    the verdict, each retrained; per trigger: ASR before/after, recall, clean target rate."""
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.config import make_config
    from bki_lab.pipeline.defence import run_defence
    t0 = time.perf_counter()
    cfg = make_config(preset=row.preset, profile=profile, seed=seed, recipe=recipe)
    att = run_attack(cfg, clean_baseline=True, show_progress=False, device=device)
    out = {"device": describe_device(device), ACC_BEFORE: att.clean_accuracy,
           "clean_model_accuracy": att.clean_model_accuracy,
           "n_train": len(att.poisoned.dataset), "n_poison": att.poisoned.n_poison,
           "recipe": recipe, "triggers": [list(b) for b in cfg.backdoors],
           "asr_each": list(att.asr_each), "clean_target_rates": list(att.clean_target_rates),
           "word_vectors": att.victim.meta.get("word_vectors")}
    for decide in ("paper", "verdict"):
        rec = run_defence(att, p=5, decide=decide, show_progress=False).to_record()
        keep = ("keyword", "n_removed", "precision", "recall", ACC_AFTER, "asr_after_each",
                "recall_each", "verdict", "findings", "rejected")
        out[decide] = {k: rec[k] for k in keep if k in rec}
    out["seconds"] = time.perf_counter() - t0
    return out


def run_row(row: Row, *, profile: str, seed: int, recipe: str = "bki-lab",
            authors: bool = True, device: str = "cpu") -> dict:
    """Run one row (attack, and BKI + retraining when ``row.defend``); returns its record.

    A defended row also gets the verdict and, with ``authors``, the authors' variant
    (`beyond_the_paper`). A ``bki-multi`` row goes to `run_multi_row`."""
    if row.table == "bki-multi":
        return run_multi_row(row, profile=profile, seed=seed, recipe=recipe, device=device)
    if row.table == "triggers":
        return run_trigger_row(row, profile=profile, seed=seed, recipe=recipe,
                               authors=authors, device=device)
    if row.table == "defences":
        return run_defences_row(row, profile=profile, seed=seed, recipe=recipe, device=device)
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.defence import run_defence
    t0 = time.perf_counter()
    cfg = row.config(profile=profile, seed=seed, recipe=recipe)
    att = run_attack(cfg, show_progress=False, device=device)
    out = {"device": describe_device(device), ACC_BEFORE: att.clean_accuracy,
           ASR_BEFORE: att.attack_success_rate if row.rate > 0 else None,
           "n_train": len(att.poisoned.dataset), "n_poison": att.poisoned.n_poison,
           "recipe": recipe, "mode": cfg.mode, "epochs": cfg.train.max_epochs,
           "train_overrides": dict(row.train),
           "word_vectors": att.victim.meta.get("word_vectors"),
           "train_source": att.split.meta.get("source"),
           "test_source": att.split.meta.get("test_source"),
           "trigger_length": len(trigger_words(row.trigger)) if row.trigger else 0}
    if row.defend:
        d = run_defence(att, p=5, show_progress=False)
        s = d.to_record()
        out.update({k: s[k] for k in ("keyword", "keyword_in_trigger", "phrase",
                                      "phrase_support", "precision", "recall",
                                      "n_removed", "removed_fraction", ACC_AFTER,
                                      "scoring_seconds", "retrain_seconds")})
        out[ASR_AFTER] = s[ASR_AFTER] if row.rate > 0 else None
        out.update(beyond_the_paper(att, d, authors=authors))
    out["seconds"] = time.perf_counter() - t0
    return out


def beyond_the_paper(att, d, *, authors: bool = True) -> dict:
    """The verdict (the paper's dictionary, verified) and the authors' variant on the same
    victim; neither retrains (the row's retraining is the paper's rule)."""
    from bki_lab.bki.authors import identify_authors
    from bki_lab.bki.verdict import find_backdoors, joined_phrases
    from bki_lab.pipeline.defence import authors_spans
    ds, truth = att.poisoned.dataset, att.poisoned.is_poison
    t0 = time.perf_counter()
    v = find_backdoors(d.scores, ds.labels, predict=att.victim.predict, p=5, is_poison=truth)
    names = att.victim.class_names
    first = v.findings[0] if v.findings else v.rejected
    out = {"verdict": v.verdict, "n_findings": len(v.findings),
           "verdict_phrase": v.phrases,
           "verdict_target": " | ".join(names[f.target] for f in v.findings) or None,
           "flip_rate": first.verification.flip_rate if first else None,
           "keyword_flip_rate": first.keyword_verification.flip_rate if first else None,
           "null_max": float(first.verification.null_rates.max())
           if first and first.verification.null_rates.size else None,
           "threshold": first.verification.threshold if first else None,
           "verdict_residue": joined_phrases(v.residues),
           "rejected_keyword": v.rejected.keyword if v.rejected else None,
           "rejected_flip_rate": v.rejected.verification.flip_rate if v.rejected else None,
           "verdict_n_removed": v.n_removed, "verdict_removed_fraction": v.removed_fraction,
           "verdict_precision": v.precision, "verdict_recall": v.recall,
           "verdict_seconds": time.perf_counter() - t0}
    if not authors:
        return out
    spans = authors_spans(att, show_progress=False)
    b = identify_authors(spans, ds.labels, p=5, is_poison=truth)
    out.update(authors_keyword=b.keyword, authors_target=names[b.target],
               authors_n_removed=b.n_removed, authors_removed_fraction=b.removed_fraction,
               authors_precision=b.precision, authors_recall=b.recall,
               authors_scoring_seconds=spans.seconds)
    return out


def run_defences_row(row, *, profile: str, seed: int, recipe: str = "bki-lab",
                     device: str = "cpu") -> dict:
    """One row of the `defences` table: the Table-3 row's attack, then every defence."""
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.reproduce.runner import describe_device
    t0 = time.perf_counter()
    att = run_attack(row.config(profile=profile, seed=seed, recipe=recipe), show_progress=False,
                     device=device)
    outcomes, strip = compare_defences(att, device=device, seed=seed)
    return {"device": describe_device(device), ACC_BEFORE: att.clean_accuracy,
            ASR_BEFORE: att.attack_success_rate if row.rate > 0 else None,
            "n_train": len(att.poisoned.dataset), "n_poison": att.poisoned.n_poison,
            "defences": [o.to_record() for o in outcomes],
            "strip": strip.to_record() if strip is not None else None,
            "seconds": time.perf_counter() - t0}


def recovered(findings, trigger: tuple[str, ...], trigger_flip: float | None) -> bool:
    """Whether a verdict's findings recover ``trigger``: a finding's phrase holds the whole
    trigger, or is a run of its words that flips the victim at least 90% as often as the
    whole trigger does (``trigger_flip``)."""
    from bki_lab.bki.trigger import contains
    for f in findings:
        phrase = tuple(f.phrase.phrase)
        if contains(phrase, trigger):
            return True
        if trigger_flip and contains(trigger, phrase) \
                and f.verification.flip_rate >= 0.9 * trigger_flip:
            return True
    return False


def run_trigger_row(row: Row, *, profile: str, seed: int, recipe: str = "bki-lab",
                    authors: bool = True, device: str = "cpu") -> dict:
    """One ``triggers`` row: the victim; the paper's rule (its keyword, the trigger words'
    best g(k) rank, precision, recall, ASR after retraining); the authors' variant; the
    verdict before any defence (with and without the label-purity candidates) and after
    the paper's rule, each with whether it recovered the trigger."""
    from bki_lab.bki.authors import identify_authors
    from bki_lab.bki.dictionary import identify
    from bki_lab.bki.trigger import verify_trigger
    from bki_lab.bki.verdict import find_backdoors, word_counts
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.defence import authors_spans, bki_scores, judge_retrained, run_defence
    t0 = time.perf_counter()
    cfg = row.config(profile=profile, seed=seed, recipe=recipe)
    att = run_attack(cfg, show_progress=False, device=device)
    ds, truth, names = att.poisoned.dataset, att.poisoned.is_poison, att.victim.class_names
    poisoned = row.rate > 0
    words = trigger_words(row.trigger)

    def flip(victim, texts, labels):
        """How often the whole trigger flips ``victim`` on clean texts of other labels."""
        if not poisoned:
            return None
        target = att.backdoor.target
        v = verify_trigger(victim.predict, texts, labels, phrase=words, target=target,
                           counts=word_counts(texts), n_texts=500, n_null=1, seed=seed)
        return v.flip_rate

    clean = ~truth
    clean_texts = [t for t, c in zip(ds.texts, clean) if c]
    out = {"device": describe_device(device), "dataset": row.dataset, "trigger": row.trigger,
           "n_words": len(words), "target": row.target, "rate": row.rate,
           "run_seed": cfg.seed, ACC_BEFORE: att.clean_accuracy,
           ASR_BEFORE: att.attack_success_rate if poisoned else None,
           "trigger_flip": flip(att.victim, clean_texts, ds.labels[clean])}
    scores = bki_scores(att, show_progress=False, device=device)
    b = identify(scores, p=5, is_poison=truth)
    # the paper's rule retrained (unless it leaves fewer than two texts to train on)
    # (a clean row needs no retraining: what the rule removes is its false alarm)
    paper = (run_defence(att, p=5, decide="paper", show_progress=False, device=device)
             if poisoned and (~b.removed).sum() >= 2 else None)
    ranks = b.ranking.set_index("word")["rank"]
    best = min((int(ranks[w]) for w in set(words) if w in ranks.index), default=None)
    out.update(paper_keyword=b.keyword, best_trigger_rank=best if poisoned else None,
               paper_in_trigger=b.keyword in words if poisoned else None,
               paper_n_removed=b.n_removed, paper_precision=b.precision,
               paper_recall=b.recall, paper_asr_after=paper.asr_after if paper else None)
    if authors:
        a = identify_authors(authors_spans(att, show_progress=False), ds.labels, p=5,
                             is_poison=truth)
        out.update(authors_keyword=a.keyword, authors_target=names[a.target],
                   authors_in_trigger=bool(set(a.keyword.split()) & set(words))
                   if poisoned else None,
                   authors_precision=a.precision, authors_recall=a.recall)
    ranking_only = find_backdoors(scores, ds.labels, predict=att.victim.predict, p=5,
                                  is_poison=truth, purity_candidates=0, seed=seed)
    verdict = run_defence(att, p=5, decide="verdict", show_progress=False, device=device,
                          seed=seed)
    v = verdict.verdict
    out.update(ranking_verdict=ranking_only.verdict,
               ranking_verdict_phrase=ranking_only.phrases,
               ranking_verdict_recovered=recovered(ranking_only.findings, words,
                                                   out["trigger_flip"]) if poisoned else None,
               ranking_verdict_precision=ranking_only.precision,
               ranking_verdict_recall=ranking_only.recall,
               verdict=v.verdict, verdict_phrase=v.phrases,
               verdict_source=" | ".join(f.source for f in v.findings) or None,
               verdict_recovered=recovered(v.findings, words, out["trigger_flip"])
               if poisoned else None,
               verdict_n_removed=v.n_removed, verdict_precision=v.precision,
               verdict_recall=v.recall,
               verdict_asr_after=verdict.asr_after if poisoned else None)
    if poisoned and paper is not None:
        again = judge_retrained(paper, p=5, seed=seed, show_progress=False)
        kept = ~paper.removed
        kept_clean = kept & clean
        out.update(after_paper_verdict=again.verdict, after_paper_phrase=again.phrases,
                   after_paper_trigger_flip=flip(paper.retrained,
                                                 [ds.texts[i] for i in np.flatnonzero(kept_clean)],
                                                 ds.labels[kept_clean]),
                   after_paper_precision=again.precision, after_paper_recall=again.recall)
        out["after_paper_recovered"] = recovered(again.findings, words,
                                                 out["after_paper_trigger_flip"])
    out["seconds"] = time.perf_counter() - t0
    return out
