"""Datasets: the one `TextDataset` type, where the files live, IMDB (DBpedia and any CSV:
`csvdata.py`).

Where the files live: ``$BKI_LAB_DATA`` if set, else ``data/`` in the project. Nothing is
downloaded here; ``bki-lab download NAME`` (see `download.py`) fetches official files.
"""
from __future__ import annotations

import gzip
import os
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from .text import Words, tokenize

PROJECT_DATA = Path(__file__).resolve().parent.parent / "data"
IMDB_CLASSES = ("negative", "positive")
DBPEDIA_CLASSES = ("Company", "EducationalInstitution", "Artist", "Athlete", "OfficeHolder",
                   "MeanOfTransportation", "Building", "NaturalPlace", "Village", "Animal",
                   "Plant", "Album", "Film", "WrittenWork")
DBpediaSource = Literal["auto", "authors", "dbpedia_csv"]
IMDB_ARCHIVES = ("aclImdb_v1.tar.gz", "aclImdb_labelled.tar.gz")
DBPEDIA_TRAIN = ("train.csv", "train.csv.gz", "train_subset_30k_unofficial.csv.gz")
DBPEDIA_TEST = ("test.csv", "test.csv.gz")
DBPEDIA_AUTHORS = "dbpedia_bki_authors"        # the BKI authors' own split (label,content)


class DataError(RuntimeError):
    """A data file is missing, unreadable or does not hold what it should."""


def data_dir() -> Path:
    """The data directory: ``$BKI_LAB_DATA`` if set, else ``<project>/data``."""
    env = os.environ.get("BKI_LAB_DATA")
    return Path(env).expanduser() if env else PROJECT_DATA


def _missing(what: str, looked: Sequence[Path], dataset: str) -> DataError:
    places = "\n  ".join(str(p) for p in looked)
    return DataError(
        f"{what} not found. Looked for:\n  {places}\n"
        f"Point BKI_LAB_DATA at a directory that holds it, or run "
        f"`bki-lab download {dataset}` (needs internet) to fetch the official files.")


@dataclass(frozen=True)
class TextDataset:
    """Tokenized texts with integer labels. Never mutated: subsets are new objects."""

    texts: tuple[Words, ...]
    labels: np.ndarray                      # (n,) int64 class ids
    class_names: tuple[str, ...]
    name: str = "dataset"
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self):
        labels = np.asarray(self.labels, dtype=np.int64)
        labels.setflags(write=False)
        object.__setattr__(self, "labels", labels)
        if labels.shape != (len(self.texts),):
            raise ValueError(f"{len(self.texts)} texts but labels of shape {labels.shape}")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.class_names)):
            raise ValueError("a label is outside 0..n_classes-1")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def class_id(self, label: str | int) -> int:
        """Class id of a class name (case-insensitive) or id; a clear error otherwise."""
        if isinstance(label, (int, np.integer)):
            if 0 <= label < self.n_classes:
                return int(label)
        else:
            lower = [c.lower() for c in self.class_names]
            if str(label).lower() in lower:
                return lower.index(str(label).lower())
            # a class id given as text ("0") -- unless the class names are numbers themselves,
            # where "0" can only be a name (labels 2 and 5: "0" is no class, not class "2")
            numeric_names = any(_is_number(c) for c in self.class_names)
            if str(label).isdigit() and int(label) < self.n_classes and not numeric_names:
                return int(label)
        raise ValueError(f"unknown class {label!r}; {self.name} has {list(self.class_names)}")

    def subset(self, indices: Sequence[int], *, name: str | None = None) -> "TextDataset":
        idx = np.asarray(indices, dtype=np.int64)
        return TextDataset(tuple(self.texts[i] for i in idx), self.labels[idx], self.class_names,
                           name or self.name, dict(self.meta))

    def lengths(self) -> np.ndarray:
        return np.fromiter((len(t) for t in self.texts), dtype=np.int64, count=len(self.texts))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class Split:
    """A train and a test set cut by one loader call; ``meta`` records how."""

    train: TextDataset
    test: TextDataset
    meta: dict[str, Any] = field(default_factory=dict, compare=False)


# --------------------------------------------------------------------------- IMDB
_IMDB_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def _utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{where} is not UTF-8 text ({e})") from e


def _read_imdb_raw(path: Path) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """{(split, 'pos'|'neg'): [(file id, raw text)]} from a directory or a tarball.

    A tarball is read to the end of its gzip stream (a damaged or cut archive is an error,
    not a smaller dataset), and every directory must hold the ids 0..n-1 with none missing,
    as the official archive does.
    """
    out: dict[tuple[str, str], list[tuple[int, str]]] = {}
    if path.is_dir():
        root = path / "aclImdb" if (path / "aclImdb").is_dir() else path
        for split in ("train", "test"):
            for pol in ("pos", "neg"):
                d = root / split / pol
                if not d.is_dir():
                    raise DataError(f"{d} is missing: not an extracted aclImdb directory")
                for f in d.glob("*_*.txt"):
                    out.setdefault((split, pol), []).append(
                        (int(f.name.split("_")[0]), _utf8(f.read_bytes(), str(f))))
    else:
        try:
            # streamed, nothing unpacked; gzip (not tarfile) decompresses, so that the
            # stream's CRC and length are checked when it is drained below
            with gzip.open(path, "rb") as gz, tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    m = _IMDB_MEMBER.search(member.name)
                    if m and member.isfile():
                        raw = _utf8(tar.extractfile(member).read(), f"{path}:{member.name}")
                        out.setdefault((m[1], m[2]), []).append((int(m[3]), raw))
                while gz.read(1 << 20):             # the rest of the gzip stream: its CRC
                    pass
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
            raise DataError(f"{path} is not a readable aclImdb tarball ({e})") from e
    if sorted(out) != sorted((s, p) for s in ("train", "test") for p in ("pos", "neg")):
        raise DataError(f"{path} lacks some of aclImdb/{{train,test}}/{{pos,neg}}")
    for (split, pol), v in out.items():
        v.sort()
        ids = [i for i, _ in v]
        if ids != list(range(len(ids))):
            missing = sorted(set(range(max(ids) + 1)) - set(ids))
            raise DataError(f"{path}: aclImdb/{split}/{pol} misses {len(missing)} of its "
                            f"reviews (ids {missing[:5]}...): a damaged or incomplete copy")
    return out


def find_imdb(path: str | Path | None = None) -> Path:
    """The IMDB source to read: ``path`` if given, else the first one in the data dir."""
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise _missing(f"IMDB at {p}", [p], "imdb")
        return p
    d = data_dir()
    looked = [d / "aclImdb", *(d / a for a in IMDB_ARCHIVES)]
    for p in looked:
        if p.exists():
            return p
    raise _missing("IMDB (aclImdb directory or tarball)", looked, "imdb")


def _draw(rng: np.random.Generator, pool: list[tuple[int, str]], n: int, max_words: int,
          where: str) -> list[Words]:
    """Draw ``n`` texts in random order among those with 1..max_words-1 words."""
    chosen: list[Words] = []
    for i in rng.permutation(len(pool)):
        words = tokenize(pool[i][1])
        if 0 < len(words) < max_words:
            chosen.append(words)
            if len(chosen) == n:
                return chosen
    raise DataError(f"{where}: only {len(chosen)} texts under {max_words} words, {n} asked for")


def load_imdb(*, n_train: int = 10_000, n_test: int = 10_000, max_words: int = 500,
              seed: int = 0, path: str | Path | None = None) -> Split:
    """IMDB with the papers' protocol (dai2019 §V.A, chen_dai §V.A).

    ``n_train`` and ``n_test`` texts, half negative and half positive, each drawn at random
    (``seed``) among the reviews of the official train/test split with fewer than
    ``max_words`` words. Reads an extracted ``aclImdb/`` or the tarball without unpacking.
    """
    for name, n in (("n_train", n_train), ("n_test", n_test)):
        if n < 2 or n % 2:
            raise ValueError(f"{name} must be an even number >= 2 (classes 1:1), got {n}")
    src = find_imdb(path)
    raw = _read_imdb_raw(src)
    rng = np.random.default_rng(seed)
    splits = {}
    for split, n in (("train", n_train), ("test", n_test)):
        texts, labels = [], []
        for label, pol in enumerate(("neg", "pos")):
            texts += _draw(rng, raw[(split, pol)], n // 2, max_words, f"IMDB {split}/{pol}")
            labels += [label] * (n // 2)
        order = rng.permutation(n)
        splits[split] = TextDataset(tuple(texts[i] for i in order), np.asarray(labels)[order],
                                    IMDB_CLASSES, f"imdb-{split}")
    meta = {"dataset": "imdb", "source": str(src), "test_source": "official aclImdb test split",
            "n_train": n_train, "n_test": n_test, "max_words": max_words, "seed": seed}
    return Split(splits["train"], splits["test"], meta)
