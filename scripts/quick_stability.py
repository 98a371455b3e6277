"""The quick profile's outcome over seeds and torch thread counts (different thread counts
take different floating-point paths: the nearest check we have of "another CPU").

Each (seed, threads) runs in a fresh process with its own empty cache, so nothing computed
under one thread count is reused under another. Resumable: one JSON per run under
OUT/stability/; the table is rebuilt from all of them.

    python scripts/quick_stability.py --out results --seeds 0 1 2 3 4 --threads 1 2
    python scripts/quick_stability.py --out results --decide verdict   # BKI with its verdict

``--decide paper`` (chen_dai's rule: remove the top keyword's texts) writes
``quick-arrow--seed{S}--threads{T}.json``; ``--decide verdict`` (verified findings only,
the phrase's texts) writes ``...--verdict.json``. The table has a row per run and decision.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from bki_lab.utils.records import ACC_AFTER, ACC_BEFORE, ASR_AFTER, ASR_BEFORE

CHILD = r"""
import json, sys, time, torch
threads, seed, path, decide = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
torch.set_num_threads(threads)
from bki_lab import make_config
from bki_lab import run_attack
from bki_lab import run_defence
from bki_lab.utils.records import write_json
from pathlib import Path
from bki_lab.utils.records import ACC_AFTER, ACC_BEFORE, ASR_AFTER, ASR_BEFORE
t0 = time.perf_counter()
att = run_attack(make_config(preset="imdb-arrow", profile="quick", seed=seed), show_progress=False)
d = run_defence(att, p=5, decide=decide, show_progress=False)
s = d.to_record()
rec = {k: s[k] for k in ("seed", "keyword", "keyword_in_trigger", "precision", "recall",
                         "n_removed", ACC_BEFORE, ASR_BEFORE, ACC_AFTER, ASR_AFTER,
                         "n_poison", "n_train", "decide")}
if decide == "verdict":
    rec.update(verdict=s["verdict"], phrases=[f["phrase"] for f in s["findings"]])
rec.update(threads=torch.get_num_threads(), top5=[r["word"] for r in s["top10"][:5]],
           seconds=time.perf_counter() - t0)
write_json(Path(path), rec)
"""

TARGETS = {ASR_BEFORE: (">=", 0.95), "precision": (">=", 0.95), "recall": (">=", 0.95),
           ASR_AFTER: ("<=", 0.15)}


def table(out: Path) -> pd.DataFrame:
    recs = [json.loads(p.read_text()) for p in sorted((out / "stability").glob("*.json"))]
    df = pd.DataFrame(recs)
    if df.empty:
        return df
    df["decide"] = df.get("decide", pd.Series(index=df.index, dtype=object)).fillna("paper")
    df = df.sort_values(["decide", "seed", "threads"]).reset_index(drop=True)
    ok = df["keyword_in_trigger"].astype(bool)
    for k, (op, v) in TARGETS.items():
        ok &= (df[k] >= v) if op == ">=" else (df[k] <= v)
    df["meets_targets"] = ok
    df.to_csv(out / "quick-stability.csv", index=False)
    return df


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("results"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--decide", choices=["paper", "verdict"], default="paper",
                    help="BKI's decision: the paper's rule or the verdict")
    args = ap.parse_args(argv)
    (args.out / "stability").mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for threads in args.threads:
            tail = "" if args.decide == "paper" else f"--{args.decide}"
            path = args.out / "stability" / f"quick-arrow--seed{seed}--threads{threads}{tail}.json"
            if path.exists():
                continue
            with tempfile.TemporaryDirectory() as cache:
                env = {**os.environ, "BKI_LAB_CACHE": cache, "OMP_NUM_THREADS": str(threads)}
                r = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(seed),
                                    str(path), args.decide], env=env)
            print(f"seed {seed}, {threads} thread(s), {args.decide}: "
                  f"{'done' if r.returncode == 0 else f'failed ({r.returncode})'}", flush=True)
    df = table(args.out)
    if not df.empty:
        cols = ["decide", "seed", "threads", "keyword", ASR_BEFORE, "precision", "recall", ASR_AFTER,
                ACC_BEFORE, ACC_AFTER, "meets_targets"]
        print(df[cols].to_string(index=False))
        for decide, part in df.groupby("decide"):
            print(f"{decide}: {int(part['meets_targets'].sum())} of {len(part)} runs meet every target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
