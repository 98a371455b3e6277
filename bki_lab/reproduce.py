"""``bki-lab reproduce``: the papers' tables, row by row, resumable, with a side-by-side report.

* ``bki-table3``: chen_dai Tables 2-3 — six triggers on IMDB and on DBpedia (targets and
  rates of Table 2), plus BKI on the clean datasets.
* ``attack-table2``: dai2019 Tables 2-3 / Fig. 4 — trigger lengths 5/10/15, poisoning rates
  0.5-5%, both directions, and the clean baseline.

Every finished (row, seed) is written at once to ``OUT/rows/<id>.json``; a re-run skips
those, so an interrupted run loses at most the rows in progress. A failing row is recorded
with its error and does not stop the others. ``--jobs N`` runs rows in N processes.
"""
from __future__ import annotations

import argparse
import json
import time
from functools import partial
from pathlib import Path
from typing import Callable

import pandas as pd

from .config import RECIPES
from .papers import DEVIATIONS
from .poison import trigger_words
from .runner import describe_device, run_dask, run_pool, run_serial
from .tables import TABLES, Row, collect, collect_multi


def run_multi_row(row: Row, *, profile: str, seed: int, recipe: str = "bki-lab",
                  device: str = "cpu") -> dict:
    """One multi-trigger row: the attack (with the clean baseline), then the paper's rule and
    the verdict, each retrained; per trigger: ASR before/after, recall, clean target rate."""
    from .experiments import make_config, run_attack, run_defence
    t0 = time.perf_counter()
    cfg = make_config(preset=row.preset, profile=profile, seed=seed, recipe=recipe)
    att = run_attack(cfg, clean_baseline=True, show_progress=False, device=device)
    out = {"device": describe_device(device), "acc_before": att.clean_accuracy,
           "clean_model_accuracy": att.clean_model_accuracy,
           "n_train": len(att.poisoned.dataset), "n_poison": att.poisoned.n_poison,
           "recipe": recipe, "triggers": [list(b) for b in cfg.backdoors],
           "asr_each": list(att.asr_each), "clean_target_rates": list(att.clean_target_rates),
           "word_vectors": att.victim.meta.get("word_vectors")}
    for decide in ("paper", "verdict"):
        rec = run_defence(att, p=5, decide=decide, show_progress=False).to_record()
        keep = ("keyword", "n_removed", "precision", "recall", "acc_after", "asr_after_each",
                "recall_each", "verdict", "findings", "rejected")
        out[decide] = {k: rec[k] for k in keep if k in rec}
    out["seconds"] = time.perf_counter() - t0
    return out


def run_row(row: Row, *, profile: str, seed: int, recipe: str = "bki-lab",
            authors: bool = True, device: str = "cpu") -> dict:
    """Run one row (attack, and BKI + retraining when ``row.defend``); returns its record.

    A defended row also gets the verdict and, with ``authors``, the authors' variant
    (`_beyond_the_paper`). A ``bki-multi`` row goes to `run_multi_row`."""
    if row.table == "bki-multi":
        return run_multi_row(row, profile=profile, seed=seed, recipe=recipe, device=device)
    if row.table == "defences":
        from .comparison import run_defences_row
        return run_defences_row(row, profile=profile, seed=seed, recipe=recipe, device=device)
    from .experiments import run_attack, run_defence
    t0 = time.perf_counter()
    cfg = row.config(profile=profile, seed=seed, recipe=recipe)
    att = run_attack(cfg, show_progress=False, device=device)
    out = {"device": describe_device(device), "acc_before": att.clean_accuracy,
           "asr_before": att.attack_success_rate if row.rate > 0 else None,
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
                                      "n_removed", "removed_fraction", "acc_after",
                                      "scoring_seconds", "retrain_seconds")})
        out["asr_after"] = s["asr_after"] if row.rate > 0 else None
        out.update(_beyond_the_paper(att, d, authors=authors))
    out["seconds"] = time.perf_counter() - t0
    return out


def _beyond_the_paper(att, d, *, authors: bool = True) -> dict:
    """The verdict (the paper's dictionary, verified) and the authors' variant on the same
    victim; neither retrains (the row's retraining is the paper's rule)."""
    from .authors import identify_authors
    from .backdoors import find_backdoors, joined_phrases
    from .experiments import authors_spans
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
           if first and first.verification.n_texts else None,
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


def reproduce(table: str, *, out: str | Path, profile: str = "quick", seeds: int = 1,
              jobs: int = 1, only: list[str] | None = None, run: Callable = run_row,
              recipe: str = "bki-lab", authors: bool = True, device: str = "cpu",
              scheduler: str | None = None, log: Callable[[str], None] = print,
              **dask_options) -> pd.DataFrame:
    """Run (or resume) ``table``; write ``OUT/<table>-<tag>.csv`` and ``.html``.

    ``tag`` is the profile, followed by the recipe when it is not the default ``bki-lab``
    (e.g. ``paper-early-stopping``): each recipe has its own records and report.
    ``run(row, profile=, seed=, recipe=)`` computes one row (`run_row`; tests pass a
    stand-in). ``device``: where victims train and score ("cuda": parallel ``jobs`` share
    the GPU); each record says where it ran. ``scheduler`` ("local" or a Dask scheduler's
    address) runs the rows as Dask tasks instead of ``jobs`` processes (`runner.run_dask`;
    ``dask_options`` go to it).
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; choose from {sorted(TABLES)}")
    if seeds < 1 or jobs < 1:
        raise ValueError(f"--seeds and --jobs must be >= 1 (got {seeds} and {jobs})")
    out = Path(out)
    tag = profile if recipe == "bki-lab" else f"{profile}-{recipe}"
    every = TABLES[table]()
    unknown = sorted(set(only or ()) - {r.id for r in every})
    if unknown:
        raise ValueError(f"unknown row ids for {table}: {', '.join(unknown)}; "
                         f"rows: {', '.join(r.id for r in every)}")
    rows = [r for r in every if only is None or r.id in only]
    real = run is run_row
    if real:
        run = partial(run_row, authors=authors, device=device)
    todo = []
    for row in rows:
        for seed in range(seeds):
            path = out / "rows" / f"{table}--{tag}--{row.id}--seed{seed}.json"
            if path.exists() and _done(_read_record(path, log), row, real, authors):
                continue
            todo.append((row, seed, path))
    log(f"{table} ({tag}): {len(rows) * seeds - len(todo)} rows done, {len(todo)} to run")
    if scheduler is not None and todo:
        run_dask(todo, scheduler, profile, run, recipe, log, **dask_options)
    elif jobs > 1 and len(todo) > 1:
        run_pool(todo, jobs, profile, run, recipe, log, device)
    else:
        run_serial(todo, profile, run, recipe, log)
    records = [r for p in sorted((out / "rows").glob(f"{table}--{tag}--*.json"))
               if (r := _read_record(p, log)) is not None]
    from .report import write_multi_report, write_report
    if table == "defences":
        from .comparison import collect_defences, write_defences_report
        df = collect_defences(records)
        df.to_csv(out / f"{table}-{tag}.csv", index=False)
        write_defences_report(df, out / f"{table}-{tag}.html", profile=tag)
        return df
    if table == "bki-multi":
        df = collect_multi(records, rows)
        df.to_csv(out / f"{table}-{tag}.csv", index=False)
        write_multi_report(df, out / f"{table}-{tag}.html", profile=tag)
        return df
    df = collect(records, rows)
    df.to_csv(out / f"{table}-{tag}.csv", index=False)
    write_report(df, out / f"{table}-{tag}.html", table=table, profile=tag,
                 deviations=DEVIATIONS)
    return df


def _done(rec: dict | None, row: Row, real: bool, authors: bool) -> bool:
    """A finished record of the row as it is now (a record whose victim overrides differ
    runs again); a real defended row also needs the columns asked for (an older record
    without them runs again, from the cached victim and scores)."""
    if not rec or rec.get("status") != "ok":
        return False
    if real and rec.get("train_overrides", dict(row.train)) != dict(row.train):
        return False                    # the row's victim changed since: run it again
    if real and row.defend and row.table == "bki-table3":
        return "verdict" in rec and (not authors or "authors_keyword" in rec)
    return True


def _read_record(path: Path, log: Callable[[str], None]) -> dict | None:
    """A row record, or None (said once, naming the file) when it is unreadable: the row
    is then run again."""
    try:
        rec = json.loads(path.read_text())
        if not isinstance(rec, dict) or "id" not in rec:
            raise ValueError("not a row record")
        return rec
    except (OSError, ValueError) as e:
        log(f"  unreadable row record {path} ({e}): the row will run again")
        return None


def add_parser(sub) -> None:
    p = sub.add_parser("reproduce", help="re-run the papers' tables (resumable) with a report")
    p.add_argument("table", choices=sorted(TABLES))
    p.add_argument("--profile", choices=["quick", "paper"], default="quick")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="bki-lab",
                   help="victim training recipe (default bki-lab)")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--jobs", type=int, default=1, help="rows run in parallel processes")
    p.add_argument("--scheduler", metavar="local|ADDRESS",
                   help="run the rows as Dask tasks: 'local' = a LocalCluster of this machine, "
                        "or a running scheduler's address (pip install 'bki_lab[cluster]')")
    p.add_argument("--authors", action=argparse.BooleanOptionalAction, default=True,
                   help="bki-table3: also the authors' BKI variant (scores every text again)")
    p.add_argument("--only", nargs="*", help="row ids to run (default: all)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu",
                   help="where victims train and score (auto: CUDA when available)")
    p.add_argument("--out", type=Path, default=Path("results"))
    p.set_defaults(func=_cmd)


def _cmd(args) -> None:
    from .cli import _device
    args.device = _device(args.device)
    df = reproduce(args.table, out=args.out, profile=args.profile, seeds=args.seeds,
                   recipe=args.recipe, authors=args.authors, device=args.device,
                   scheduler=args.scheduler,
                   jobs=args.jobs, only=args.only)
    tag = args.profile if args.recipe == "bki-lab" else f"{args.profile}-{args.recipe}"
    print(f"wrote {args.out / f'{args.table}-{tag}.csv'} and .html "
          f"({len(df)} lines, {int((df['status'] != 'ok').sum()) if len(df) else 0} failed)")
