"""Test helpers: tiny IMDB/DBpedia files built by the tests, and hand-built models."""
from __future__ import annotations

import csv
import gzip
import io
import tarfile
from pathlib import Path

import numpy as np
import torch

from bki_lab.victims.lstm import BiLSTMClassifier

POS_WORDS = "great wonderful superb moving brilliant loved fine".split()
NEG_WORDS = "awful boring terrible dull waste hated poor".split()
FILLER = "the film movie plot actor scene story was and it this of".split()


def review(rng, words, n):
    return " ".join(rng.choice(words + FILLER, size=n))


def write_imdb_tar(path: Path, n_per_dir: int = 20, seed: int = 0, long_every: int = 7) -> Path:
    """An aclImdb-layout tarball; every ``long_every``-th review is 600 words long."""
    rng = np.random.default_rng(seed)
    with tarfile.open(path, "w:gz") as tar:
        for split in ("train", "test"):
            for pol, words in (("pos", POS_WORDS), ("neg", NEG_WORDS)):
                for i in range(n_per_dir):
                    n = 600 if i % long_every == long_every - 1 else int(rng.integers(5, 30))
                    data = (review(rng, words, n) + "<br /><br />The End.").encode()
                    info = tarfile.TarInfo(f"aclImdb/{split}/{pol}/{i}_{8 if pol == 'pos' else 2}.txt")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return path


def write_dbpedia(root: Path, per_class: int = 12, n_classes: int = 4, seed: int = 0,
                  with_test: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    d = root / "dbpedia_csv"
    d.mkdir(parents=True)
    names = ["Company", "Artist", "Building", "Village"][:n_classes]
    (d / "classes.txt").write_text("\n".join(names) + "\n")
    vocab = [[f"c{c}w{k}" for k in range(6)] for c in range(n_classes)]

    def rows(n, tag):
        out = []
        for c in range(n_classes):
            for i in range(n):
                content = " " + " ".join(rng.choice(vocab[c] + FILLER, size=int(rng.integers(4, 15))))
                out.append([str(c + 1), f"{tag} title {c} {i}", content])
        return out
    with gzip.open(d / "train_subset_30k_unofficial.csv.gz", "wt", newline="", encoding="utf-8") as f:
        csv.writer(f, quoting=csv.QUOTE_NONNUMERIC).writerows(
            [[int(r[0]), r[1], r[2]] for r in rows(per_class, "train")])
    if with_test:
        with open(d / "test.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f, quoting=csv.QUOTE_NONNUMERIC).writerows(
                [[int(r[0]), r[1], r[2]] for r in rows(per_class, "test")])
    return d


def random_model(vocab_size=30, n_classes=2, embed_dim=6, hidden=8, seed=0):
    torch.manual_seed(seed)
    m = BiLSTMClassifier(vocab_size, n_classes, embed_dim=embed_dim, hidden=hidden)
    with torch.no_grad():            # larger weights than the default init: livelier states
        for p in m.parameters():
            p.mul_(3.0)
    return m.eval()


def trigger_model(vocab, trigger: str, hidden: int = 4) -> BiLSTMClassifier:
    """A hand-built BiLSTM where only ``trigger`` writes into the cell state.

    Embedding dim 0 is 1 for the trigger word and 0 for every other word. Every unit's input
    gate and candidate read dim 0; the forget and output gates are held open by biases. So
    the final state is ~tanh(1)*0.99 with the trigger and exactly 0 without it: deleting the
    trigger moves h_l by ~0.76, deleting any other word barely moves it.
    """
    m = BiLSTMClassifier(len(vocab), 2, embed_dim=3, hidden=hidden, fc=4, dropout=0.0)
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
        m.embedding.weight[vocab.stoi[trigger], 0] = 1.0
        for lstm in (m.fwd, m.bwd):
            H = hidden
            lstm.weight_ih_l0[0:H, 0] = 20.0       # input gate opens on the trigger
            lstm.bias_ih_l0[0:H] = -10.0
            lstm.bias_ih_l0[H:2 * H] = 10.0        # forget gate: keep
            lstm.weight_ih_l0[2 * H:3 * H, 0] = 5.0  # candidate ~ +1 on the trigger
            lstm.bias_ih_l0[3 * H:4 * H] = 10.0    # output gate open
    return m.eval()


def slow_run(row, *, profile, seed, recipe="bki-lab"):
    """A stand-in for one table row that takes a while (for interruption tests)."""
    import time
    time.sleep(3)
    return {"acc_before": 0.85, "seconds": 3.0}


def stand_in_run(row, *, profile, seed, recipe="bki-lab"):
    """A stand-in for one table row: instant, and failing for imdb-crown."""
    if row.id == "imdb-crown":
        raise RuntimeError("boom")
    return {"acc_before": 0.85, "asr_before": 0.97 if row.rate else None, "keyword": "arrow",
            "precision": 0.99, "recall": 0.98, "seconds": 0.01}
