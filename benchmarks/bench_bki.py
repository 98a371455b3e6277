"""Reference vs fast BKI scorer on the same real IMDB texts, one trained victim, one run.

    python benchmarks/bench_bki.py --n 200 [--profile paper|quick] [--device cpu|cuda]

Prints words scored per second for each scorer, their ratio, and the largest score
difference. The victim is the cached IMDB "time flies like an arrow" victim of the profile
(hidden 128; trained first if not cached). Timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from bki_lab.experiments import make_config, run_attack
from bki_lab.scoring import score_words


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="texts to score")
    ap.add_argument("--profile", choices=["quick", "paper"], default="paper")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-rows", type=int, default=4096, help="fast scorer bucket size")
    args = ap.parse_args()

    cfg = make_config(preset="imdb-arrow", profile=args.profile, hidden=128)
    attack = run_attack(cfg, show_progress=False)
    model, vocab = attack.victim.model, attack.victim.vocab
    rng = np.random.default_rng(args.seed)
    idx = rng.choice(len(attack.poisoned.dataset), size=min(args.n, len(attack.poisoned.dataset)),
                     replace=False)
    texts = [attack.poisoned.dataset.texts[i] for i in idx]
    n_words = sum(len(t) for t in texts)
    print(f"victim: {args.profile} profile, hidden {model.hidden}, "
          f"{torch.get_num_threads()} threads, device {args.device}")
    print(f"texts: {len(texts)} real IMDB training texts, {n_words:,} words "
          f"(mean length {n_words / len(texts):.0f})")

    results = {}
    for scorer in ("reference", "fast"):
        t0 = time.perf_counter()
        s = score_words(model, vocab, texts, scorer=scorer, device=args.device,
                        max_rows=args.max_rows, show_progress=False)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        results[scorer] = (s, dt)
        print(f"{scorer:>9}: {dt:8.2f} s  {n_words / dt:10,.0f} words/s")
    ref, fast = results["reference"][0], results["fast"][0]
    ratio = results["reference"][1] / results["fast"][1]
    print(f"speed-up fast / reference: {ratio:.1f}x")
    print(f"largest |score difference|: {np.abs(ref.scores - fast.scores).max():.2e}")
    per_text = results["fast"][1] / len(texts)
    print(f"fast scorer, projected for 10,000 such texts: {per_text * 10_000 / 60:.1f} min")


if __name__ == "__main__":
    main()
