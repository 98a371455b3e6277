"""Frozen or fine-tuned word vectors for the IMDB victims: does fine-tuning make a common
trigger word (``aspects``, ``people's``) a trigger on its own, so that clean texts holding it
select it too and the paper's rule loses precision?

Each (variant, Table-3 row, seed) is the `reproduce.run_row` of that row with the variant's
victim settings on top of the ``bki-lab`` recipe (no authors' variant): the attack, the
paper's rule with retraining, and the verdict. One JSON per run under
OUT/vector-study/<variant>--<row>--seed<N>.json (resumable: a finished run is not run
again), then one table, OUT/vector-study.csv, with how many clean training texts hold the
keyword and how many of them selected it.

    python scripts/vector_study.py --out results --variants frozen --rows imdb-aspects
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

VARIANTS = {
    "finetuned": (),                                         # the bki-lab IMDB recipe itself
    "frozen": (("freeze_embedding", True),),
    "frozen-vocab10k": (("freeze_embedding", True), ("max_vocab", 10_000)),
    "frozen-25": (("freeze_embedding", True), ("max_epochs", 25)),   # the authors' epochs
}


def run(variant: str, row_id: str, seed: int, device: str) -> dict:
    from bki_lab.experiments import poisoned_split
    from bki_lab.reproduce import run_row
    from bki_lab.tables import bki_table3_rows
    row = next(r for r in bki_table3_rows() if r.id == row_id)
    row = replace(row, train=VARIANTS[variant])
    rec = run_row(row, profile="paper", seed=seed, authors=False, device=device)
    if rec.get("keyword"):                                   # who holds the keyword, who chose it
        _, pois, _ = poisoned_split(row.config(profile="paper", seed=seed))
        holds = [rec["keyword"] in set(t) for t in pois.dataset.texts]
        clean = [h and not p for h, p in zip(holds, pois.is_poison)]
        rec["clean_holding_keyword"] = int(sum(clean))
        rec["clean_selecting_keyword"] = int(round(rec["n_removed"] * (1 - rec["precision"])))
    return {"variant": variant, "id": row_id, "seed": seed, **rec}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("results"))
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--rows", nargs="+", default=["imdb-aspects", "imdb-attention"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    base = args.out / "vector-study"
    base.mkdir(parents=True, exist_ok=True)
    for variant in args.variants:
        for row_id in args.rows:
            for seed in args.seeds:
                path = base / f"{variant}--{row_id}--seed{seed}.json"
                if path.exists():
                    continue
                print(f"{variant}, {row_id}, seed {seed}: running", flush=True)
                t0 = time.perf_counter()
                rec = run(variant, row_id, seed, args.device)
                path.write_text(json.dumps(rec, indent=2, default=str))
                print(f"  done in {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    print(table(args.out).to_string(index=False))
    return 0


KEEP = ("variant", "id", "seed", "acc_before", "asr_before", "keyword", "precision", "recall",
        "n_removed", "clean_holding_keyword", "clean_selecting_keyword", "asr_after",
        "acc_after", "verdict", "verdict_phrase", "flip_rate", "keyword_flip_rate",
        "verdict_precision", "verdict_recall", "word_vectors", "device", "seconds")


def table(out: Path) -> pd.DataFrame:
    """OUT/vector-study.csv from the runs under OUT/vector-study/, percent, one line a run;
    ``meets_targets``: ASR ≥ 95% and the paper's rule's precision and recall ≥ 95%."""
    recs = [json.loads(p.read_text()) for p in sorted((out / "vector-study").glob("*.json"))]
    df = pd.DataFrame([{k: r.get(k) for k in KEEP} for r in recs], columns=list(KEEP))
    for k in ("acc_before", "asr_before", "precision", "recall", "asr_after", "acc_after",
              "flip_rate", "keyword_flip_rate", "verdict_precision", "verdict_recall"):
        df[k] = pd.to_numeric(df[k], errors="coerce") * 100
    df["meets_targets"] = ((df.asr_before >= 95) & (df.precision >= 95) & (df.recall >= 95))
    df.to_csv(out / "vector-study.csv", index=False)
    return df


if __name__ == "__main__":
    sys.exit(main())
