"""How long a new trigger takes on the class profile, stage by stage, from the button to the
verdict -- and whether the victim learns it -- on trigger sentences nobody chose.

    python benchmarks/class_profile.py --n 3 [--threads 1] [--profile class]
    python benchmarks/class_profile.py --n 20 --part 1/2 --csv a.csv   # and --part 2/2 ...
    python benchmarks/class_profile.py --summarise a.csv b.csv          # ... beside it

For each of ``n`` triggers of 3-10 words (`random_triggers`, seed 0, random targets, rate
3%), cut from the profile's test texts, the stages a notebook runs are timed from an empty
cache: poisoning, training the victim, scoring every word + the dictionary (heatmaps and
g(k)), retraining by the paper's rule, and the verdict. The table also gives each victim's
clean accuracy and ASR, the paper rule's keyword, precision P and recall R, and the
verdict before and after that rule; the last lines are the median seconds per stage and the cumulative
times the lesson targets refer to (victim <= 60 s, dictionary <= 2 min, verdict <= 4 min).
Compare the ratios between profiles (``--profile quick``), not the seconds, across
machines. ``--part K/N`` times every N-th trigger from the K-th (to run N processes side
by side, one thread each) and ``--csv`` keeps the rows; ``--summarise`` prints the table
of several such files together.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace

import pandas as pd


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3, help="triggers to time")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--profile", default="class")
    ap.add_argument("--part", default="1/1", help="K/N: every N-th trigger from the K-th")
    ap.add_argument("--csv", help="also write the rows here")
    ap.add_argument("--summarise", nargs="+", metavar="CSV",
                    help="print the table of these files (written by --csv) and stop")
    args = ap.parse_args(argv)
    if args.summarise:
        summarise(pd.concat([pd.read_csv(f) for f in args.summarise], ignore_index=True),
                  args.profile, args.threads)
        return 0
    try:
        k, n = (int(x) for x in args.part.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError:
        ap.error(f"--part must be K/N with 1 <= K <= N, got {args.part!r}")
    os.environ["BKI_LAB_CACHE"] = tempfile.mkdtemp(prefix="bki-class-bench-")   # cold cache
    import torch
    torch.set_num_threads(args.threads)
    import bki_lab as bl
    from bki_lab import judge_retrained

    base = bl.make_config(preset="imdb-arrow", profile=args.profile)
    split = bl.load_split(base.data)
    triggers = bl.random_triggers(split.test.texts, split.train.class_names, n=args.n,
                                  rate=0.03, dataset="imdb", seed=0, min_words=3,
                                  max_words=10)[k - 1::n]
    rows = []
    for g in triggers:
        cfg = replace(base, trigger=g.trigger, target=g.target, rate=g.rate)
        t = {}
        t0 = time.perf_counter()
        poisoned = bl.poison_dataset(split.train, trigger=cfg.trigger, target=cfg.target,
                                     rate=cfg.rate, mode=cfg.mode, seed=cfg.seed)
        t["poison"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        att = bl.run_attack(cfg, show_progress=False)
        t["victim"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = bl.bki_scores(att, show_progress=False)
        bki = bl.identify(scores, p=5, is_poison=att.poisoned.is_poison)
        t["scores + dictionary"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        d = bl.run_defence(att, p=5, show_progress=False)
        t["retraining"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        v = bl.judge(att, p=5, show_progress=False)
        after = judge_retrained(d, p=5, show_progress=False)
        t["verdict (before and after)"] = time.perf_counter() - t0
        rows.append({"trigger": g.trigger, "target": g.target, "n_poison": poisoned.n_poison,
                     "acc": att.clean_accuracy, "asr": att.attack_success_rate,
                     "keyword": bki.keyword, "P": round(bki.precision, 3),
                     "R": round(bki.recall, 3), "verdict": v.verdict,
                     "after": after.verdict, **{k: round(x, 1) for k, x in t.items()}})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    df = pd.DataFrame(rows)
    if args.csv:
        df.to_csv(args.csv, index=False)
    summarise(df, args.profile, args.threads)
    return 0


def summarise(df: pd.DataFrame, profile: str, threads: int) -> None:
    stages = ["poison", "victim", "scores + dictionary", "retraining",
              "verdict (before and after)"]
    med = df[stages].median()
    print(f"\n{profile} profile, {threads} torch thread(s), {len(df)} triggers:")
    print(df.to_string(index=False))
    print("\nmedian seconds per stage:", med.round(1).to_dict())
    cum = med.cumsum()
    print(f"cumulative (median): victim {cum['victim']:.0f} s, dictionary "
          f"{cum['scores + dictionary']:.0f} s, verdict {cum.iloc[-1]:.0f} s")
    worst = df[stages].sum(axis=1).max()
    print(f"slowest trigger, all stages: {worst:.0f} s")
    print(f"ASR >= 95%: {int((df['asr'] >= 0.95).sum())} of {len(df)}")


if __name__ == "__main__":
    sys.exit(main())
