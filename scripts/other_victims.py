"""The same attack and BKI on other victims: the papers' BiLSTM, a BiGRU and a CNN.

For each victim this runs ``bki-lab defend`` (the verdict, then retraining) on one preset
and keeps its ``bki.json`` and ``config.json`` under OUT/other-victims/<cell>-<profile>-
<preset>/ (resumable: a finished victim is not run again), then gathers one table,
OUT/other-victims.csv: is the backdoor learned (ASR), does BKI rank a trigger word first,
does the verdict find the phrase, and what is left after retraining.

    python scripts/other_victims.py --out results --cells lstm gru cnn --profile quick
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from bki_lab.utils.records import ACC_AFTER, ACC_BEFORE, ASR_AFTER, ASR_BEFORE


def run(cell: str, profile: str, preset: str, seed: int, dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        subprocess.run([sys.executable, "-m", "bki_lab.cli", "defend", "--trigger-preset", preset,
                        "--profile", profile, "--cell", cell, "--seed", str(seed), "--quiet",
                        "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("bki.json", "config.json"):            # the per-text CSVs stay out
            shutil.copy(out / name, dest / name)


def row(directory: Path) -> dict:
    b = json.loads((directory / "bki.json").read_text())
    c = json.loads((directory / "config.json").read_text())
    trigger = set(b["trigger"].split())
    top = [t["word"] for t in b["top10"]]
    found = b.get("findings") or []
    return {"cell": c["train"]["cell"], "profile": b["profile"], "trigger": b["trigger"],
            "seed": b["seed"], ACC_BEFORE: b[ACC_BEFORE], ASR_BEFORE: b[ASR_BEFORE],
            "top_word": top[0], "top_word_in_trigger": top[0] in trigger,
            "trigger_words_in_top5": sum(w in trigger for w in top[:5]),
            "verdict": b.get("verdict"),
            "phrase": " | ".join(f["phrase"] for f in found) or None,
            "flip_rate": found[0]["flip_rate"] if found else None,
            "precision": b["precision"], "recall": b["recall"], "n_removed": b["n_removed"],
            ACC_AFTER: b[ACC_AFTER], ASR_AFTER: b[ASR_AFTER],
            "scoring_seconds": b["scoring_seconds"], "seconds": b["seconds"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("results"))
    ap.add_argument("--cells", nargs="+", default=["lstm", "gru", "cnn"],
                    choices=["lstm", "gru", "cnn"])
    ap.add_argument("--profile", choices=["quick", "paper"], default="quick")
    ap.add_argument("--preset", default="imdb-arrow")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    base = args.out / "other-victims"
    for cell in args.cells:
        dest = base / f"{cell}-{args.profile}-{args.preset}-seed{args.seed}"
        if (dest / "bki.json").exists():
            continue
        print(f"{cell}, {args.profile}, {args.preset}: running", flush=True)
        run(cell, args.profile, args.preset, args.seed, dest)
    rows = [row(d) for d in sorted(base.glob("*")) if (d / "bki.json").exists()]
    df = pd.DataFrame(rows)
    df.to_csv(args.out / "other-victims.csv", index=False)
    print(df.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
