"""The CUDA path, checked and timed in one run (on a GPU machine; CPU works too).

    python benchmarks/gpu_check.py --device cuda [--json OUT.json]

1. Exactness on the device: on a random victim and random texts (lengths 1-300), the fast
   scorers (paper's and authors' n = 1, 2, 3) against their references on the same device,
   and the device's fast scores against the CPU's; largest absolute differences, with
   cuDNN's TF32 allowed (torch's default) and not.
2. Timings with the IMDB paper-profile victim settings (hidden 128, the imdb-aspects
   poisoned training set, 10,200 reviews): one training epoch, scoring 10,000 reviews
   (fast), and the reference scorer's words/s on 100 reviews. The victim for the scoring
   timing is the one-epoch model (the time depends on the sizes, not the weights).
Numbers are printed (and written with --json), never asserted.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import torch

from bki_lab import score_spans
from bki_lab import make_config
from bki_lab.pipeline.attack import poisoned_split
from bki_lab import BiLSTMClassifier
from bki_lab import score_words
from bki_lab import Vocab
from bki_lab import train_victim


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def exactness(device: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    words = [f"w{i}" for i in range(400)]
    vocab = Vocab(("<pad>", "<unk>", *words))
    model = BiLSTMClassifier(len(vocab), 2, embed_dim=50, hidden=128)
    texts = [tuple(rng.choice(words, size=int(n))) for n in
             np.concatenate([[1, 2, 3, 300], rng.integers(1, 300, size=36)])]
    out = {}
    for tf32 in (True, False):
        with torch.backends.cudnn.flags(enabled=True, allow_tf32=tf32):
            ref = score_words(model, vocab, texts, scorer="reference", device=device,
                              show_progress=False).scores
            fast = score_words(model, vocab, texts, device=device, show_progress=False).scores
            cpu = score_words(model, vocab, texts, device="cpu", show_progress=False).scores
            row = {"paper fast vs reference": float(np.abs(fast - ref).max()),
                   "paper fast, device vs cpu": float(np.abs(fast - cpu).max())}
            for n in (1, 2, 3):
                r = score_spans(model, vocab, texts, n=n, scorer="reference", device=device,
                                show_progress=False)
                f = score_spans(model, vocab, texts, n=n, device=device, show_progress=False)
                row[f"authors n={n} fast vs reference"] = float(max(
                    np.abs(f.deletion - r.deletion).max(), np.abs(f.prefix - r.prefix).max()))
            out[f"cudnn tf32 {'on' if tf32 else 'off'}"] = row
    return out


def timings(device: str) -> dict:
    cfg = make_config(preset="imdb-aspects", profile="paper")
    _, poisoned, _ = poisoned_split(cfg)
    train = poisoned.dataset
    t0 = time.perf_counter()
    victim = train_victim(train, config=dataclasses.replace(cfg.train, max_epochs=1),
                          device=device, show_progress=False)
    _sync(device)
    epoch = time.perf_counter() - t0
    texts = train.texts[:10_000]
    n_words = sum(len(t) for t in texts)
    t0 = time.perf_counter()
    score_words(victim.model, victim.vocab, texts, device=device, show_progress=False)
    _sync(device)
    fast = time.perf_counter() - t0
    few = train.texts[:100]
    t0 = time.perf_counter()
    score_words(victim.model, victim.vocab, few, scorer="reference", device=device,
                show_progress=False)
    _sync(device)
    ref = time.perf_counter() - t0
    return {"epoch_seconds (incl. vocab, GloVe)": epoch,
            "epoch_seconds (history)": victim.history[0]["seconds"],
            "score_10000_fast_seconds": fast, "fast_words_per_s": n_words / fast,
            "reference_words_per_s": sum(len(t) for t in few) / ref,
            "n_train": len(train), "words_scored": n_words}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json", help="write the numbers here too")
    ap.add_argument("--skip-timings", action="store_true")
    args = ap.parse_args()
    info = {"device": args.device, "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None}
    print(info)
    res = {"info": info, "exactness": exactness(args.device)}
    for k, row in res["exactness"].items():
        print(k)
        for name, v in row.items():
            print(f"  {name:>32}: {v:.2e}")
    if not args.skip_timings:
        res["timings"] = timings(args.device)
        for name, v in res["timings"].items():
            print(f"  {name:>36}: {v:,.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
