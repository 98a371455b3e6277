"""Reference vs fast BKI scorer on the same real IMDB texts, one trained victim, one run.

    python benchmarks/bench_bki.py --n 200 [--profile paper|quick] [--device cpu|cuda]

Prints words scored per second for each scorer, their ratio, and the largest score
difference. The victim is the cached IMDB "time flies like an arrow" victim of the profile
(hidden 128; trained first if not cached). Timings are printed, never asserted.

It also prints where the ratio comes from: the matrix arithmetic each scorer does (a flop
model of its LSTM steps), the rate it reaches, and the rate of one plain LSTM-step matrix
product measured in the same run (the machine's ceiling for this work). The ratio is
(reference flops / fast flops) x (fast rate / reference rate).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from bki_lab import make_config
from bki_lab import run_attack
from bki_lab.victims.lstm import length_buckets
from bki_lab.bki.scoring import default_rows, score_words


def flops(lengths: np.ndarray, *, hidden: int, embed: int, max_rows: int) -> dict[str, float]:
    """Matrix flops (2 per multiply-add) of each scorer's LSTM steps on texts of these lengths.

    reference: per text the full text and its L variants of L-1 words, both directions,
    input projection included. fast: per bucket of B texts right-aligned to T steps, step t
    runs (t+1)*B rows of the recurrent product, both directions, plus one input projection
    of every step; ``minimum`` is what state reuse needs without any bucket padding.
    """
    rec, inp = 2 * 4 * hidden * hidden, 2 * 4 * hidden * embed
    L = lengths.astype(np.float64)
    ref = float(np.sum(2 * (L * (L - 1) + L)) * (rec + inp))
    fast = 0.0
    for idx in length_buckets(lengths, max_tokens=max_rows, max_batch=max_rows):
        T, B = float(lengths[idx].max()), len(idx)
        fast += 2 * (B * T * (T + 1) / 2 * rec + B * T * inp)
    minimum = float(np.sum(2 * (L * (L + 1) / 2 * rec + L * inp)))
    return {"reference": ref, "fast": fast, "minimum": minimum}


def gemm_rate(hidden: int, device: str, rows: int = 2048, repeat: int = 200) -> float:
    """flop/s of one LSTM-step product (rows x H) @ (H x 4H) on this device, now."""
    h = torch.randn(rows, hidden, device=device)
    w = torch.randn(hidden, 4 * hidden, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for _ in range(10):
        torch.mm(h, w)
    sync()
    t0 = time.perf_counter()
    for _ in range(repeat):
        torch.mm(h, w)
    sync()
    return repeat * 2 * rows * hidden * 4 * hidden / (time.perf_counter() - t0)


def authors_per_variant_seconds(model, seqs, *, length: int = 500, chunk: int = 256,
                                device: str = "cpu") -> float:
    """Seconds the released code's way takes for these texts: every deletion variant and
    every prefix of each text pre-padded to ``length`` ids and run whole through both
    directions (no masking, no state reuse), ``chunk`` variants at a time."""
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    t0 = time.perf_counter()
    with torch.no_grad():
        for s in seqs:
            L = len(s)
            variants = [np.delete(s, j) for j in range(L)] + [s[:j + 1] for j in range(L)]
            ids = np.zeros((len(variants), length), dtype=np.int64)
            for r, v in enumerate(variants):
                v = v[-length:]
                if len(v):
                    ids[r, length - len(v):] = v          # Keras pre-padding
            for a in range(0, len(ids), chunk):
                x = model.embedding(torch.as_tensor(ids[a:a + chunk], device=device))
                model.fwd(x)
                model.bwd(x.flip(1))
    sync()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="texts to score")
    ap.add_argument("--profile", choices=["quick", "paper"], default="paper")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--authors-texts", type=int, default=5,
                    help="texts timed the authors' per-variant way (slow: 2 x 500-step runs per word)")
    ap.add_argument("--max-rows", type=int, default=None,
                    help="fast scorer bucket size (default: 4,096 on CPU, 32,768 on CUDA)")
    args = ap.parse_args()
    args.max_rows = args.max_rows or default_rows(args.device)

    cfg = make_config(preset="imdb-arrow", profile=args.profile, hidden=128)
    attack = run_attack(cfg, show_progress=False, device=args.device)
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
    lengths = np.array([len(t) for t in texts])
    fl = flops(lengths, hidden=model.hidden, embed=model.embedding.embedding_dim,
               max_rows=args.max_rows)
    peak = gemm_rate(model.hidden, args.device)
    print(f"matrix work: reference {fl['reference'] / 1e9:,.0f} GFLOP, fast "
          f"{fl['fast'] / 1e9:,.0f} GFLOP ({fl['fast'] / fl['minimum'] - 1:.0%} bucket padding), "
          f"ratio {fl['reference'] / fl['fast']:.2f}x")
    print(f"one LSTM-step matmul alone runs at {peak / 1e9:,.0f} GFLOP/s here")
    for scorer in ("reference", "fast"):
        rate = fl[scorer] / results[scorer][1]
        print(f"{scorer:>9}: {rate / 1e9:6,.0f} GFLOP/s = {rate / peak:.0%} of that")
    floor = fl["minimum"] / peak
    print(f"flop floor (state reuse without padding, at that rate): {floor:.2f} s; the fast "
          f"scorer takes {results['fast'][1] / floor:.1f}x the floor")
    few = [attack.victim.encode([t])[0] for t in texts[:args.authors_texts]]
    if few:
        dt = authors_per_variant_seconds(model, few, device=args.device)
        w = sum(len(t) for t in few)
        print(f"authors' per-variant way (every deletion and prefix padded to 500, run whole), "
              f"{len(few)} texts: {w / dt:,.0f} words/s; the fast scorer is "
              f"{(n_words / results['fast'][1]) / (w / dt):.0f}x faster")
    per_text = results["fast"][1] / len(texts)
    print(f"fast scorer, projected for 10,000 such texts: {per_text * 10_000 / 60:.1f} min")


if __name__ == "__main__":
    main()
