"""``reproduce()``: the papers' tables, row by row, resumable, with a side-by-side report.

* ``bki-table3``: chen_dai Tables 2-3 — six triggers on IMDB and on DBpedia (targets and
  rates of Table 2), plus BKI on the clean datasets.
* ``attack-table2``: dai2019 Tables 2-3 / Fig. 4 — trigger lengths 5/10/15, poisoning rates
  0.5-5%, both directions, and the clean baseline.

Every finished (row, seed) is written at once to ``OUT/rows/<id>.json``; a re-run skips
those, so an interrupted run loses at most the rows in progress. A failing row is recorded
with its error and does not stop the others. ``jobs=N`` runs rows in N processes.
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pandas as pd

from bki_lab.bki.verdict import VERDICT_VERSION
from bki_lab.reproduce.papers import DEVIATIONS
from bki_lab.reproduce.rows import run_row
from bki_lab.reproduce.runner import experiment_digest, run_dask, run_pool, run_serial
from bki_lab.reproduce.tables import TABLES, collect, collect_multi

if TYPE_CHECKING:
    from bki_lab.reproduce.tables import Row

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
    every = TABLES[table](profile)
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
            if path.exists() and row_done(_read_record(path, log), row, real, authors,
                                          experiment_digest(row, profile, seed, recipe)):
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
    from bki_lab.reproduce.report import write_multi_report, write_report
    if table == "defences":
        from bki_lab.reproduce.report import write_defences_report
        from bki_lab.reproduce.tables import collect_defences
        df = collect_defences(records)
        df.to_csv(out / f"{table}-{tag}.csv", index=False)
        write_defences_report(df, out / f"{table}-{tag}.html", profile=tag)
        return df
    if table == "triggers":
        from bki_lab.reproduce.report import write_triggers_report
        from bki_lab.reproduce.tables import collect_triggers
        df = collect_triggers(records, rows)
        df.to_csv(out / f"{table}-{tag}.csv", index=False)
        write_triggers_report(df, out / f"{table}-{tag}.html", profile=tag)
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


def row_done(rec: dict | None, row: Row, real: bool, authors: bool,
             experiment: str | None = None) -> bool:
    """A finished record of the row as it is now (a record whose victim overrides or whose
    ``experiment`` digest (`runner.experiment_digest`: data sizes and training recipe)
    differ runs again); a real defended row also needs the columns asked for (an older
    record without them runs again, from the cached victim and scores)."""
    if not rec or rec.get("status") != "ok":
        return False
    if experiment is not None and rec.get("experiment", experiment) != experiment:
        return False                    # the profile's data or recipe changed since
    if real and rec.get("train_overrides", dict(row.train)) != dict(row.train):
        return False                    # the row's victim changed since: run it again
    if real and has_verdict(rec) and rec.get("verdict_version", 0) != VERDICT_VERSION:
        return False                    # the verdict changed since: run it again (cached victim)
    if real and row.defend and row.table == "bki-table3":
        return "verdict" in rec and (not authors or "authors_keyword" in rec)
    return True


def has_verdict(rec: dict) -> bool:
    """Whether a record holds a verdict: its own column (bki-table3, bki-multi, triggers)
    or one among its defences (defences)."""
    return "verdict" in rec or any("verdict" in d for d in rec.get("defences") or ())


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
