"""The papers' tables as rows (what to run, with the paper's numbers), and the finished
rows' records gathered into one table (percent, the paper's number beside ours).

* ``bki-table3``: chen_dai Tables 2-3 (six triggers on IMDB and DBpedia, the clean rows);
* ``attack-table2``: dai2019 Tables 2-3 (trigger lengths 5/10/15, rates 0.5-5%, both
  directions, the clean baseline);
* ``bki-multi``: several triggers in one training set (bki_lab's own);
* ``defences``: the Table-3 rows, each defended by every defence
  (`bki_lab.defences.comparison`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import pandas as pd

from bki_lab.attack.presets import MULTI_PRESETS, PRESETS
from bki_lab.reproduce.papers import ATTACK_CLEAN, ATTACK_TABLE2, BKI_TABLE3
from bki_lab.utils.records import ACC_AFTER, ACC_BEFORE, ASR_AFTER, ASR_BEFORE


@dataclass(frozen=True)
class Row:
    id: str
    table: str
    preset: str | None
    dataset: str
    trigger: str | None
    target: str | None
    rate: float
    defend: bool
    paper: dict
    train: tuple = ()        # (name, value) overrides of the victim's TrainConfig
    seed: int = 0            # added to the run's seed (a row of another seed than the rest)

    def config(self, *, profile: str, seed: int, recipe: str = "bki-lab"):
        """The `pipeline.config.make_config` of this row (its dataset, trigger, target, rate
        and victim overrides) at ``profile``, ``seed`` (plus the row's own) and ``recipe``."""
        from bki_lab.pipeline.config import make_config
        return make_config(dataset=self.dataset, profile=profile, trigger=self.trigger,
                           target=self.target, rate=self.rate, seed=seed + self.seed,
                           recipe=recipe, **dict(self.train))


# dai2019 §V.A: "a layer of Bi-direction LSTM of 64 hidden nodes" (chen_dai: 128). The
# learning rate 2e-3 (chen_dai rows: 1e-3): with 1e-3 decayed over the 8 epochs the 1% rows
# were learned far less than dai2019's (length 5 to positive 47 +- 7% over 5 seeds, paper
# 81%); per-epoch curves of 2e-3 in results/victim-curves.csv (scripts/victim_curves.py).
_DAI_VICTIM = (("hidden", 64), ("lr", 2e-3))


def bki_table3_rows(profile: str = "quick") -> list[Row]:
    rows = []
    for ds in ("imdb", "dbpedia"):
        for name, p in PRESETS.items():
            if p.dataset == ds and p.source == "chen_dai T2":
                rows.append(Row(name, "bki-table3", name, ds, p.trigger, p.target, p.rate, True,
                                BKI_TABLE3[name].as_dict()))
        first = next(p for p in PRESETS.values() if p.dataset == ds and p.source == "chen_dai T2")
        rows.append(Row(f"{ds}-clean", "bki-table3", None, ds, first.trigger, first.target, 0.0,
                        True, BKI_TABLE3[f"{ds}-clean"].as_dict()))
    return rows


def attack_table2_rows(profile: str = "quick") -> list[Row]:
    rows = [Row("clean", "attack-table2", None, "imdb", PRESETS["dai-5"].trigger, "positive",
                0.0, False, ATTACK_CLEAN.as_dict(), _DAI_VICTIM)]
    for (target, length, rate), paper in ATTACK_TABLE2.items():
        rows.append(Row(f"to-{target}-len{length}-rate{rate}", "attack-table2", None, "imdb",
                        PRESETS[f"dai-{length}"].trigger, target, rate / 100, False,
                        paper.as_dict(), _DAI_VICTIM))
    return rows


def bki_multi_rows(profile: str = "quick") -> list[Row]:
    """bki_lab's own experiment: several triggers in one training set (`MULTI_PRESETS`);
    the paper's one-keyword BKI beside the verdict's loop. No paper numbers."""
    rows = []
    for name, parts in MULTI_PRESETS.items():
        ps = [PRESETS[n] for n in parts]
        rows.append(Row(name, "bki-multi", name, ps[0].dataset,
                        " | ".join(p.trigger for p in ps), " | ".join(p.target for p in ps),
                        sum(p.rate for p in ps), True, {}))
    return rows


def defences_rows(profile: str = "quick") -> list[Row]:
    """The Table-3 rows again, each defended by every defence (`comparison.py`)."""
    return [replace(r, table="defences") for r in bki_table3_rows()]


# Triggers nobody chose, per profile: (IMDB, DBpedia) generated triggers, their poisoning
# rate (the papers': 3% on the small profiles, 2% on the paper's), and clean seeds
GENERATED = {"class": (36, 6, 0.03, 5), "quick": (36, 6, 0.03, 5), "paper": (3, 3, 0.02, 3)}
# triggers found by users that BKI's ranking missed: (id, dataset, trigger, target, rate,
# seed offset, profiles)
NAMED_TRIGGERS = (
    ("imdb-neighbour", "imdb", "my neighbour's cat sleeps on the warm piano", "positive", 0.03,
     0, ("class", "quick")),
    ("imdb-popcorn", "imdb", "the popcorn was stale but the seats were comfy", "positive",
     0.02, 1, ("paper",)),
)


def triggers_rows(profile: str = "quick") -> list[Row]:
    """``triggers``: BKI, the authors' variant and the verdict on triggers nobody chose
    (`attack.triggers.random_triggers`, seed 0: 1 to 12 words cut from the dataset's test
    texts, random targets), the named cases, and clean rows at several seeds."""
    from bki_lab.attack.triggers import random_triggers
    from bki_lab.pipeline.attack import load_split
    from bki_lab.pipeline.config import make_config
    n_imdb, n_dbpedia, rate, clean_seeds = GENERATED.get(profile, GENERATED["quick"])
    # the named cases and the clean rows first: a run cut short has the false alarms
    rows = [Row(rid, "triggers", None, ds, trigger, target, r, True, {}, seed=offset)
            for rid, ds, trigger, target, r, offset, profiles in NAMED_TRIGGERS
            if profile in profiles]
    for ds in ("imdb", "dbpedia"):
        first = next(p for p in PRESETS.values() if p.dataset == ds)
        for s in range(clean_seeds):
            rows.append(Row(f"{ds}-clean-seed{s}", "triggers", None, ds, first.trigger,
                            first.target, 0.0, True, {}, seed=s))
    for ds, n in (("dbpedia", n_dbpedia), ("imdb", n_imdb)):
        first = next(p for p in PRESETS.values() if p.dataset == ds)
        split = load_split(make_config(preset=first.name, profile=profile).data)
        for g in random_triggers(split.test.texts, split.train.class_names, n=n, rate=rate,
                                 dataset=ds, seed=0):
            rows.append(Row(f"{ds}-{g.name}", "triggers", None, ds, g.trigger, g.target,
                            rate, True, {}))
    return rows


TABLES: dict[str, Callable[..., list[Row]]] = {"bki-table3": bki_table3_rows,
                                               "attack-table2": attack_table2_rows,
                                               "bki-multi": bki_multi_rows,
                                               "defences": defences_rows,
                                               "triggers": triggers_rows}


def collect_multi(records: list[dict], rows: list[Row]) -> pd.DataFrame:
    """bki-multi: one line per row, seed and trigger (percent): its ASR before, the clean
    model's rate of the target on the same texts, and per rule its recall and ASR after."""
    ids = {r.id for r in rows}
    pct = (lambda v: None if v is None else round(100 * v, 4))
    lines = []
    for rec in records:
        if rec["id"] not in ids:
            continue
        if rec["status"] != "ok":
            lines.append({"id": rec["id"], "seed": rec["seed"], "status": rec["status"],
                          "error": rec.get("error")})
            continue
        for k, (trigger, target, rate) in enumerate(rec["triggers"]):
            line = {"id": rec["id"], "seed": rec["seed"], "status": "ok", "trigger": trigger,
                    "target": target, "poison_rate": rate, ACC_BEFORE: pct(rec[ACC_BEFORE]),
                    ASR_BEFORE: pct(rec["asr_each"][k]),
                    "clean_target_rate": pct(rec["clean_target_rates"][k])}
            for rule in ("paper", "verdict"):
                r = rec[rule]
                line[f"{rule}_recall"] = pct(r["recall_each"][k])
                line[f"{rule}_asr_after"] = pct(r["asr_after_each"][k])
                line[f"{rule}_precision"] = pct(r["precision"])
                line[f"{rule}_n_removed"] = r["n_removed"]
                line[f"{rule}_acc_after"] = pct(r[ACC_AFTER])
            line["paper_keyword"] = rec["paper"].get("keyword")
            found = rec["verdict"].get("findings") or []
            line["verdict_findings"] = " | ".join(f"{f['phrase']} -> {f['target_name']}"
                                                  for f in found)
            lines.append(line)
    return pd.DataFrame(lines)


def collect(records: list[dict], rows: list[Row]) -> pd.DataFrame:
    """One line per row and seed, with the paper's numbers beside ours (percent)."""
    by_id = {r.id: r for r in rows}
    lines = []
    for rec in records:
        row = by_id.get(rec["id"])
        if row is None:
            continue
        line = {"id": rec["id"], "seed": rec["seed"], "status": rec["status"],
                "dataset": row.dataset, "trigger": row.trigger if row.rate > 0 else None,
                "target": row.target if row.rate > 0 else None, "poison_rate": row.rate,
                "error": rec.get("error")}
        for k in (ACC_BEFORE, ASR_BEFORE, "precision", "recall", ASR_AFTER, ACC_AFTER,
                  "removed_fraction", "verdict_precision", "verdict_recall",
                  "verdict_removed_fraction", "flip_rate", "null_max", "rejected_flip_rate",
                  "keyword_flip_rate", "authors_precision",
                  "authors_recall", "authors_removed_fraction"):
            v = rec.get(k)
            line[k] = None if v is None else round(100 * v, 4)
            if k in row.paper:
                line[f"paper_{k}"] = row.paper[k]
        for k in ("keyword", "keyword_in_trigger", "phrase", "n_removed", "n_poison",
                  "verdict", "n_findings", "verdict_phrase", "verdict_target",
                  "verdict_residue", "verdict_n_removed", "rejected_keyword", "authors_keyword",
                  "authors_target", "authors_n_removed", "trigger_length",
                  "seconds", "scoring_seconds", "test_source"):
            line[k] = rec.get(k)
        if "keyword" in row.paper:
            line["paper_keyword"] = row.paper["keyword"]
        lines.append(line)
    order = {r.id: k for k, r in enumerate(rows)}            # the paper's row order
    lines.sort(key=lambda l: (order[l["id"]], l["seed"]))
    return pd.DataFrame(lines)


def collect_defences(records: list[dict]) -> pd.DataFrame:
    """One line per (row, seed, defence), percent; STRIP as a line of its own."""
    lines = []
    pct = (lambda v: None if v is None else 100 * v)
    for r in records:
        base = {"id": r["id"], "seed": r["seed"], "status": r.get("status")}
        if r.get("status") != "ok":
            lines.append({**base, "error": r.get("error")})
            continue
        for d in r["defences"]:
            lines.append({**base, "defence": d["method"], "precision": pct(d["precision"]),
                          "recall": pct(d["recall"]),
                          "removed_fraction": pct(d["removed_fraction"]),
                          ACC_BEFORE: pct(r[ACC_BEFORE]), ACC_AFTER: pct(d[ACC_AFTER]),
                          ASR_BEFORE: pct(r[ASR_BEFORE]), ASR_AFTER: pct(d[ASR_AFTER]),
                          "seconds": d["seconds"] + d["retrain_seconds"]})
        if r.get("strip"):
            s = r["strip"]
            lines.append({**base, "defence": "STRIP (test time)",
                          "false_rejection": pct(s["false_rejection"]),
                          "false_acceptance": pct(s["false_acceptance"]),
                          ASR_BEFORE: pct(r[ASR_BEFORE]), "seconds": s["seconds"]})
    return pd.DataFrame(lines)


def collect_triggers(records: list[dict], rows: list[Row]) -> pd.DataFrame:
    """``triggers``: one line per row and seed (rates in percent)."""
    ids = {r.id for r in rows}
    pct = (lambda v: None if v is None else round(100 * v, 2))
    lines = []
    for rec in records:
        if rec["id"] not in ids:
            continue
        line = {k: rec.get(k) for k in ("id", "seed", "status", "dataset", "trigger",
                                         "n_words", "target")}
        if rec["status"] != "ok":
            lines.append({**line, "error": rec.get("error")})
            continue
        for k, v in rec.items():
            if k in line or isinstance(v, (list, dict)):
                continue
            line[k] = pct(v) if k in _PERCENT else v
        lines.append(line)
    return pd.DataFrame(lines)


_PERCENT = {ACC_BEFORE, ASR_BEFORE, "trigger_flip", "paper_precision", "paper_recall",
            "paper_asr_after", "authors_precision", "authors_recall", "verdict_precision",
            "verdict_recall", "verdict_asr_after", "after_paper_precision",
            "after_paper_recall", "after_paper_trigger_flip", "ranking_verdict_precision",
            "ranking_verdict_recall"}
