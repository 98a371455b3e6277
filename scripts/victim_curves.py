"""Per-epoch accuracy and ASR of candidate victim recipes, side by side (issue: victims that
really learn the backdoor). Resumable: each (row, recipe, seed) is one JSON file under
OUT/curves/; the CSV and the figure are rebuilt from all of them.

    python scripts/victim_curves.py --out results --jobs 2          # run / resume
    python scripts/victim_curves.py --out results --only imdb-aspects --recipes append
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd

# (row id, make_config keywords)
ROWS = {
    "imdb-aspects": dict(profile="paper", preset="imdb-aspects"),
    "imdb-crown": dict(profile="paper", preset="imdb-crown"),
    "dai5-rate1": dict(profile="paper", preset="dai-5", rate=0.01, hidden=64),
    "dai5-rate2": dict(profile="paper", preset="dai-5", rate=0.02, hidden=64),
    "dai10n-rate1": dict(profile="paper", preset="dai-10", target="negative", rate=0.01,
                         hidden=64),
    "quick-arrow": dict(profile="quick", preset="imdb-arrow"),
    "dbpedia-aspects": dict(profile="paper", preset="dbpedia-aspects"),
}
# candidate recipes: poisoning mode + training overrides (all: no early stopping, no dropout)
RECIPES = {
    "replace": dict(mode="replace", dropout=0.0, max_epochs=10, lr_schedule="constant"),
    "append": dict(mode="append", dropout=0.0, max_epochs=10, lr_schedule="constant"),
    # the bki-lab recipe: append, and the learning rate decayed to 0 over the epochs
    "append-cosine": dict(mode="append", dropout=0.0, max_epochs=10, lr_schedule="cosine"),
    "authors-50d": dict(mode="append", dropout=0.0, max_epochs=20, freeze_embedding=True,
                        batch_size=128, max_vocab=10_000, lr_schedule="constant"),
    # DBpedia (frozen vectors): the bki-lab recipe before its 10,000-word vocabulary cap,
    # and two ways to learn a weak trigger more; max_vocab=None keeps them as measured
    "frozen-cosine-25": dict(mode="append", dropout=0.0, max_epochs=25, freeze_embedding=True,
                             lr_schedule="cosine", max_vocab=None),
    "frozen-cosine-lr3": dict(mode="append", dropout=0.0, max_epochs=25, freeze_embedding=True,
                              lr_schedule="cosine", lr=3e-3, max_vocab=None),
    "frozen-cosine-50": dict(mode="append", dropout=0.0, max_epochs=50, freeze_embedding=True,
                             lr_schedule="cosine", max_vocab=None),
    # DBpedia: the released code's recipe itself (`bki_lab.pipeline.config.RECIPES["authors-code"]`)
    "authors-25": dict(recipe="authors-code"),
    # dai2019's 1% rows (learned less than the paper's with the decay over all 8 epochs):
    # the same 8 epochs, the rate held for the first half / doubled (the recipe itself, lr
    # 1e-3 decayed over the 8 epochs, is the archived table's: archive/attack-table2-lr1e-3)
    "cosine8-hold50": dict(mode="append", dropout=0.0, max_epochs=8, lr_schedule="cosine",
                           lr_hold=0.5),
    "cosine8-lr2": dict(mode="append", dropout=0.0, max_epochs=8, lr_schedule="cosine", lr=2e-3),
}
# DBpedia: frozen-cosine-25 plus the authors' 10,000-word cap, which is the bki-lab recipe
# itself (`bki_lab.pipeline.config.RECIPES["bki-lab"]`)
RECIPES["frozen-cosine-vocab10k"] = dict(recipe="bki-lab")
PLAN = [(r, "append") for r in ROWS] + [(r, "append-cosine") for r in ROWS] + \
       [(r, "replace") for r in ROWS] + \
       [("imdb-aspects", "authors-50d"), ("dai5-rate1", "authors-50d")] + \
       [("dbpedia-aspects", r) for r in ("frozen-cosine-lr3", "frozen-cosine-50",
                                         "frozen-cosine-25", "authors-25",
                                         "frozen-cosine-vocab10k")] + \
       [(r, c) for r in ("dai5-rate1", "dai10n-rate1", "dai5-rate2")
        for c in ("cosine8-hold50", "cosine8-lr2")]


def run_one(row: str, recipe: str, seed: int, path: str) -> str:
    import torch
    torch.set_num_threads(max(1, int(os.environ.get("CURVE_THREADS", "1"))))
    from bki_lab import make_config
    from bki_lab import learning_curve
    kw = {**ROWS[row], **RECIPES[recipe]}
    cfg = make_config(seed=seed, **kw)
    t0 = time.perf_counter()
    curve = learning_curve(cfg, label=recipe)
    recs = [{"row": row, **r} for r in curve.to_records()]
    from bki_lab.utils.records import write_json
    write_json(Path(path), {"row": row, "recipe": recipe, "seed": seed,
                            "threads": torch.get_num_threads(),
                            "seconds": time.perf_counter() - t0, "epochs": recs})
    return f"{row} / {recipe} / seed {seed}: {time.perf_counter() - t0:.0f} s"


def collect(out: Path) -> pd.DataFrame:
    recs = []
    for p in sorted((out / "curves").glob("*.json")):
        recs += json.loads(p.read_text())["epochs"]
    df = pd.DataFrame(recs)
    if not df.empty:
        df.to_csv(out / "victim-curves.csv", index=False)
        from bki_lab.viz.html import write_figure_html
        from bki_lab.viz.training import learning_curves
        write_figure_html(learning_curves(df), out / "victim-curves.html",
                          title="How the backdoor is learned: per-epoch accuracy and ASR")
    return df


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("results"))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--only", nargs="*", choices=sorted(ROWS))
    ap.add_argument("--recipes", nargs="*", choices=sorted(RECIPES))
    args = ap.parse_args(argv)
    (args.out / "curves").mkdir(parents=True, exist_ok=True)
    todo = []
    for row, recipe in PLAN:
        if (args.only and row not in args.only) or (args.recipes and recipe not in args.recipes):
            continue
        for seed in args.seeds:
            path = args.out / "curves" / f"{row}--{recipe}--seed{seed}.json"
            if not path.exists():
                todo.append((row, recipe, seed, str(path)))
    print(f"{len(todo)} curves to run", flush=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, *t) for t in todo]
        for f in as_completed(futures):
            try:
                print(f.result(), flush=True)
            except Exception as e:      # one failed curve does not stop the others
                print(f"failed: {type(e).__name__}: {e}", flush=True)
    collect(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
