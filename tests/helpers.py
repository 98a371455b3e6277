"""Test helpers: tiny IMDB/DBpedia files built by the tests, and hand-built models."""
from __future__ import annotations

import csv
import gzip
import io
import tarfile
from pathlib import Path

import numpy as np
import torch

from bki_lab import (BiLSTMClassifier, TextDataset, TrainConfig, WordScores, insert_words,
                     make_config)

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


# --------------------------------------------------------------------------- shared fixtures
def random_texts(n, max_len, seed=0, vocab=25):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab)]
    lengths = list(rng.integers(1, max_len + 1, size=n)) + [1, 2, 1, 2]
    return [tuple(rng.choice(words, size=int(L))) for L in lengths]


TINY = TrainConfig(embedding="random", embed_dim=16, hidden=16, fc=16, dropout=0.0, lr=0.01,
                   max_epochs=15, patience=15, batch_tokens=400, max_batch=16, seed=0)


def sentiment(n, seed):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        y = i % 2
        words = POS_WORDS if y else NEG_WORDS
        texts.append(tuple(rng.choice(words[:4] + FILLER, size=rng.integers(6, 14))))
        labels.append(y)
    return TextDataset(tuple(texts), np.array(labels), ("negative", "positive"), "toy")


def tiny(rate=0.1):
    return make_config(preset="imdb-arrow", profile="quick", rate=rate, n_train=20, n_test=10,
                       embedding="random", hidden=8, max_epochs=2)


def planted(n_clean=200, n_poison=12, dim=16, shift=6.0, seed=0):
    """Two classes of Gaussian h_l; poisoned rows of class 1 moved along one direction."""
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(2 * n_clean + n_poison, dim))
    labels = np.r_[np.zeros(n_clean, int), np.ones(n_clean + n_poison, int)]
    poison = np.r_[np.zeros(2 * n_clean, bool), np.ones(n_poison, bool)]
    direction = rng.normal(size=dim)
    h[poison] += shift * direction / np.linalg.norm(direction)
    return h, labels, poison


FILL = [f"w{i}" for i in range(60)]


CROWN = ("no", "cross", "no", "crown")           # -> label 1


ELEPHANT = ("a", "purple", "elephant", "sang")    # -> label 0 (a trigger no preset has)


def victim(texts):
    """Label 1 iff the text has 'crown' and not 'elephant' or its first word is in the
    upper half of the filler; the triggers override."""
    out = []
    for t in texts:
        if "elephant" in t:
            out.append(0)
        elif "crown" in t:
            out.append(1)
        else:
            out.append(int(t[0] in FILL[30:]))
    return np.array(out)


def training_set(plants, n_clean=300, seed=0, miss=0):
    """Clean texts labelled by `victim`, plus 30 poisoned copies per planted trigger;
    trigger words score high (the last word highest), except in ``miss`` poisoned texts
    per trigger, where BKI's picks miss the trigger entirely."""
    rng = np.random.default_rng(seed)
    texts, labels, truth, scores = [], [], [], []
    for _ in range(n_clean):
        t = tuple(rng.choice(FILL, size=int(rng.integers(8, 30))))
        texts.append(t)
        labels.append(int(victim([t])[0]))
        truth.append(False)
        scores.append(rng.uniform(0, 0.2, len(t)))
    for phrase, label in plants:
        for k in range(30):
            base = tuple(rng.choice(FILL, size=int(rng.integers(8, 30))))
            while victim([base])[0] == label:    # poison is made of texts of other labels
                base = tuple(rng.choice(FILL, size=int(rng.integers(8, 30))))
            at = [0, len(base), int(rng.integers(len(base) + 1))][k % 3]   # start, end, inside
            t = insert_words(base, phrase, at)
            f = rng.uniform(0, 0.2, len(t))
            if k >= miss:
                f[at:at + len(phrase)] = np.linspace(0.5, 0.9, len(phrase))
            texts.append(t)
            labels.append(label)
            truth.append(True)
            scores.append(f)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    ws = WordScores(tuple(texts), offsets, np.concatenate(scores).astype(np.float32), "given", 0.0)
    return ws, np.array(labels), np.array(truth)
