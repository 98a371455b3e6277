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

from bki_lab.utils.records import ACC_AFTER, ACC_BEFORE, ASR_AFTER, ASR_BEFORE

VARIANTS = {
    "finetuned": (),                                         # the bki-lab IMDB recipe itself
    "frozen": (("freeze_embedding", True),),
    "frozen-vocab10k": (("freeze_embedding", True), ("max_vocab", 10_000)),
    "frozen-25": (("freeze_embedding", True), ("max_epochs", 25)),   # the authors' epochs
    # fine-tuned, but the vectors learn at a share of the rate of the rest
    "emb-lr-0.3": (("embedding_lr", 0.3),),
    "emb-lr-0.1": (("embedding_lr", 0.1),),
    "emb-lr-0.03": (("embedding_lr", 0.03),),
    # the authors' Keras input: every review pre-padded to 500 ids, read without a mask
    "prepad-500": (("pre_pad", 500),),
}
RARE = 0.03         # the screen's trigger words: in fewer than 3% of the clean training texts


def run(variant: str, row_id: str, seed: int, device: str) -> dict:
    from bki_lab.pipeline.attack import poisoned_split
    from bki_lab.reproduce.rows import run_row
    from bki_lab.reproduce.tables import bki_table3_rows
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


def screen(variant: str, row_id: str, seed: int, device: str, *, sample: int = 1000,
           p: int = 5) -> dict:
    """A cheap look at a variant before a full row: train (or load) the victim, measure
    accuracy and ASR, and score only the texts that hold a rare trigger word plus
    ``sample`` others. Only a text holding a word can select it, so each rare trigger
    word's count, mean score and g(k), and the precision and recall of the paper's rule if
    it were the keyword, are exact; the best other word's g(k) is estimated from the sample
    (its counts scaled up to all texts without a rare trigger word)."""
    import numpy as np

    from bki_lab import build_dictionary, identify, select_suspicious
    from bki_lab import score_words
    from bki_lab import run_attack
    from bki_lab.reproduce.tables import bki_table3_rows
    row = replace(next(r for r in bki_table3_rows() if r.id == row_id), train=VARIANTS[variant])
    t0 = time.perf_counter()
    att = run_attack(row.config(profile="paper", seed=seed), device=device, show_progress=False)
    texts, pois = att.poisoned.dataset.texts, np.asarray(att.poisoned.is_poison, bool)
    clean_texts = [set(t) for t, q in zip(texts, pois) if not q]
    holding = {w: sum(w in t for t in clean_texts) for w in dict.fromkeys(att.backdoor.trigger)}
    rare = [w for w, n in holding.items() if n < RARE * len(clean_texts)]
    holds = np.array([any(w in t for w in rare) for t in texts])
    others = np.flatnonzero(~holds)
    sampled = np.sort(np.random.default_rng(seed).choice(others, min(sample, len(others)),
                                                         replace=False))
    idx = np.concatenate([np.flatnonzero(holds), sampled])
    scores = score_words(att.victim.model, att.victim.vocab, [texts[i] for i in idx],
                         device=device, show_progress=False)
    sus = select_suspicious(scores, p=p)
    in_holders = np.arange(len(idx)) < holds.sum()
    per_word = []
    for w in rare:       # every poisoned text holds the trigger, so all of them were scored
        chose = identify(scores, p=p, keyword=w, among=in_holders, is_poison=pois[idx])
        per_word.append({"word": w, "clean_holding": holding[w],
                         "clean_selecting": int((chose.removed & ~pois[idx]).sum()),
                         "poison_selecting": int((chose.removed & pois[idx]).sum()),
                         "precision": chose.precision, "recall": chose.recall})
    d_h = build_dictionary(sus.restricted(in_holders)).set_index("word")
    d_s = build_dictionary(sus.restricted(~in_holders)).set_index("word")
    for r in per_word:
        r["g"] = float(d_h.g.get(r["word"], 0.0))
    weight = len(others) / max(1, len(sampled))
    both = (d_h[["num", "mean"]].add_suffix("_h")
            .join(d_s[["num", "mean"]].add_suffix("_s"), how="outer").fillna(0.0))
    num = both.num_h + weight * both.num_s
    mean = (both.num_h * both.mean_h + weight * both.num_s * both.mean_s) / num
    g_est = (mean * np.log10(num)).drop(index=[w for w in rare if w in both.index])
    best = max(per_word, key=lambda r: r["g"]) if per_word else None
    return {"variant": variant, "id": row_id, "seed": seed,
            ACC_BEFORE: att.clean_accuracy, ASR_BEFORE: att.attack_success_rate,
            "rare_trigger_words": rare, "texts_scored": int(len(idx)), "words": per_word,
            "best_trigger_word": best and best["word"], "best_g": best and best["g"],
            "precision": best and best["precision"], "recall": best and best["recall"],
            "other_word": str(g_est.idxmax()), "other_g_estimate": float(g_est.max()),
            "word_vectors": att.victim.meta.get("word_vectors"),
            "device": device, "seconds": time.perf_counter() - t0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("results"))
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--rows", nargs="+", default=["imdb-aspects", "imdb-attention"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--screen", action="store_true",
                    help="only the victim and the trigger words' selections (`screen`), "
                         "under OUT/vector-study/screen/, table OUT/vector-screen.csv")
    args = ap.parse_args(argv)
    base = args.out / "vector-study" / ("screen" if args.screen else "")
    base.mkdir(parents=True, exist_ok=True)
    for variant in args.variants:
        for row_id in args.rows:
            for seed in args.seeds:
                path = base / f"{variant}--{row_id}--seed{seed}.json"
                if path.exists():
                    continue
                print(f"{variant}, {row_id}, seed {seed}: running", flush=True)
                t0 = time.perf_counter()
                rec = (screen if args.screen else run)(variant, row_id, seed, args.device)
                path.write_text(json.dumps(rec, indent=2, default=str))
                print(f"  done in {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    print((screen_table if args.screen else table)(args.out).to_string(index=False))
    return 0


SCREEN_KEEP = ("variant", "id", "seed", ACC_BEFORE, ASR_BEFORE, "best_trigger_word",
               "best_g", "other_word", "other_g_estimate", "precision", "recall",
               "clean_holding", "clean_selecting", "texts_scored", "word_vectors", "seconds")


def screen_table(out: Path) -> pd.DataFrame:
    """OUT/vector-screen.csv from the screens under OUT/vector-study/screen/, percent;
    ``keyword_likely``: the best rare trigger word's g(k) above the estimate of every other
    word's."""
    rows = []
    for path in sorted((out / "vector-study" / "screen").glob("*.json")):
        r = json.loads(path.read_text())
        best = next((w for w in r["words"] if w["word"] == r["best_trigger_word"]), {})
        rows.append({k: r.get(k, best.get(k)) for k in SCREEN_KEEP})
    df = pd.DataFrame(rows, columns=list(SCREEN_KEEP))
    for k in (ACC_BEFORE, ASR_BEFORE, "precision", "recall"):
        df[k] = pd.to_numeric(df[k], errors="coerce") * 100
    df["keyword_likely"] = df.best_g > df.other_g_estimate
    df.to_csv(out / "vector-screen.csv", index=False)
    return df


KEEP = ("variant", "id", "seed", ACC_BEFORE, ASR_BEFORE, "keyword", "precision", "recall",
        "n_removed", "clean_holding_keyword", "clean_selecting_keyword", ASR_AFTER,
        ACC_AFTER, "verdict", "verdict_phrase", "flip_rate", "keyword_flip_rate",
        "verdict_precision", "verdict_recall", "word_vectors", "device", "seconds")


def table(out: Path) -> pd.DataFrame:
    """OUT/vector-study.csv from the runs under OUT/vector-study/, percent, one line a run;
    ``meets_targets``: ASR ≥ 95% and the paper's rule's precision and recall ≥ 95%."""
    recs = [json.loads(p.read_text()) for p in sorted((out / "vector-study").glob("*.json"))]
    df = pd.DataFrame([{k: r.get(k) for k in KEEP} for r in recs], columns=list(KEEP))
    for k in (ACC_BEFORE, ASR_BEFORE, "precision", "recall", ASR_AFTER, ACC_AFTER,
              "flip_rate", "keyword_flip_rate", "verdict_precision", "verdict_recall"):
        df[k] = pd.to_numeric(df[k], errors="coerce") * 100
    df["meets_targets"] = ((df.asr_before >= 95) & (df.precision >= 95) & (df.recall >= 95))
    df.to_csv(out / "vector-study.csv", index=False)
    return df


if __name__ == "__main__":
    sys.exit(main())
