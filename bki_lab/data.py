"""Datasets: IMDB, DBpedia and any CSV, read into one `TextDataset` type.

Where the files live: ``$BKI_LAB_DATA`` if set, else ``data/`` in the project. Nothing is
downloaded here; ``bki-lab download NAME`` (see `download.py`) fetches official files.
"""
from __future__ import annotations

import csv
import gzip
import os
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence, get_args

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
            if str(label).isdigit() and int(label) < self.n_classes:
                return int(label)
        raise ValueError(f"unknown class {label!r}; {self.name} has {list(self.class_names)}")

    def subset(self, indices: Sequence[int], *, name: str | None = None) -> "TextDataset":
        idx = np.asarray(indices, dtype=np.int64)
        return TextDataset(tuple(self.texts[i] for i in idx), self.labels[idx], self.class_names,
                           name or self.name, dict(self.meta))

    def lengths(self) -> np.ndarray:
        return np.fromiter((len(t) for t in self.texts), dtype=np.int64, count=len(self.texts))


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


# --------------------------------------------------------------------------- DBpedia
def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8", newline="") if path.suffix == ".gz" \
        else open(path, encoding="utf-8", newline="")


def _read_labelled_csv(path: Path, n_classes: int, *, fields: int, first: int,
                       layout: str) -> tuple[list[str], np.ndarray]:
    """Contents (last field) and 0-based labels (field 0, numbered from ``first``) of a
    headerless CSV of ``fields`` fields per row; errors name the file and line."""
    contents, labels = [], []
    try:
        with _open_text(path) as f:
            for lineno, row in enumerate(csv.reader(f), 1):
                if len(row) != fields or not row[0].strip().isdigit():
                    raise DataError(f"{path}:{lineno}: expected {layout}")
                c = int(row[0])
                if not first <= c < first + n_classes:
                    raise DataError(f"{path}:{lineno}: label {c} outside "
                                    f"{first}..{first + n_classes - 1}")
                labels.append(c - first)
                contents.append(row[-1])
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error) as e:
        raise DataError(f"{path} is not a readable {layout} CSV ({e})") from e
    return contents, np.asarray(labels, dtype=np.int64)


def read_dbpedia_csv(path: Path, n_classes: int) -> tuple[list[str], np.ndarray]:
    """Contents and 0-based labels of a ``class,"title","content"`` file (no header)."""
    return _read_labelled_csv(path, n_classes, fields=3, first=1,
                              layout='class,"title","content"')


def _per_class(rng, labels: np.ndarray, take: int, n_classes: int, where: str) -> np.ndarray:
    out = []
    for c in range(n_classes):
        idx = np.flatnonzero(labels == c)
        if len(idx) < take:
            raise DataError(f"{where}: class {c + 1} has {len(idx)} rows, {take} needed")
        out.append(rng.permutation(idx)[:take])
    return np.concatenate(out)


def read_authors_csv(path: Path, n_classes: int) -> tuple[list[str], np.ndarray]:
    """Contents and labels of the BKI authors' ``label,content`` file (0-based, no header)."""
    return _read_labelled_csv(path, n_classes, fields=2, first=0, layout="label,content")


def _authors_files(root: Path) -> tuple[Path, Path] | None:
    found = [next((root / f"{part}{ext}" for ext in (".csv", ".csv.gz")
                   if (root / f"{part}{ext}").exists()), None) for part in ("train", "test")]
    return None if None in found else (found[0], found[1])


def load_dbpedia(*, n_train_per_class: int = 1000, n_test_per_class: int = 500, seed: int = 0,
                 path: str | Path | None = None,
                 source: DBpediaSource = "auto") -> Split:
    """DBpedia-14 with chen_dai's protocol: per class 1,000 train and 500 test contents.

    Sources, in the order ``source="auto"`` tries them (``meta['source']`` and
    ``meta['test_source']`` record which was used):

    * ``authors``: ``<data>/dbpedia_bki_authors/{train,test}.csv[.gz]``, the BKI authors'
      split (1,000 texts per class from the official train.csv and 1,000 from the official
      test.csv; rows ``label,content`` with 0-based labels);
    * ``dbpedia_csv``: ``<data>/dbpedia_csv/`` with the official ``test.csv`` when present,
      otherwise test texts cut from the train file, disjoint from the training texts.
    """
    if source not in get_args(DBpediaSource):
        raise ValueError(f"source must be one of {get_args(DBpediaSource)}, got {source!r}")
    base = Path(path) if path is not None else data_dir()
    authors = _authors_files(base / DBPEDIA_AUTHORS)
    if source == "authors" and authors is None:
        raise _missing("The BKI authors' DBpedia split (train.csv[.gz] and test.csv[.gz])",
                       [base / DBPEDIA_AUTHORS / f for f in ("train.csv.gz", "test.csv.gz")],
                       "dbpedia")
    rng = np.random.default_rng(seed)
    if authors is not None and source != "dbpedia_csv":
        names = DBPEDIA_CLASSES
        contents, labels = read_authors_csv(authors[0], len(names))
        t_contents, t_labels = read_authors_csv(authors[1], len(names))
        tr = _per_class(rng, labels, n_train_per_class, len(names), str(authors[0]))
        te = _per_class(rng, t_labels, n_test_per_class, len(names), str(authors[1]))
        test_texts, test_labels = [t_contents[i] for i in te], t_labels[te]
        train_file = authors[0]
        test_source = f"BKI authors' split of the official test.csv ({authors[1].name})"
    else:
        root = base / "dbpedia_csv" if path is None or (base / "dbpedia_csv").is_dir() else base
        classes_file = root / "classes.txt"
        train_file = next((root / f for f in DBPEDIA_TRAIN if (root / f).exists()), None)
        if not classes_file.exists() or train_file is None:
            raise _missing("DBpedia (dbpedia_csv/classes.txt and train.csv)",
                           [classes_file, *(root / f for f in DBPEDIA_TRAIN)], "dbpedia")
        names = tuple(l.strip() for l in classes_file.read_text(encoding="utf-8").splitlines()
                      if l.strip())
        contents, labels = read_dbpedia_csv(train_file, len(names))
        test_file = next((root / f for f in DBPEDIA_TEST if (root / f).exists()), None)
        if test_file is not None:
            tr = _per_class(rng, labels, n_train_per_class, len(names), str(train_file))
            t_contents, t_labels = read_dbpedia_csv(test_file, len(names))
            te = _per_class(rng, t_labels, n_test_per_class, len(names), str(test_file))
            test_texts, test_labels = [t_contents[i] for i in te], t_labels[te]
            test_source = f"official {test_file.name}"
        else:
            both = _per_class(rng, labels, n_train_per_class + n_test_per_class, len(names),
                              str(train_file)).reshape(len(names), -1)
            tr, te = both[:, :n_train_per_class].ravel(), both[:, n_train_per_class:].ravel()
            test_texts, test_labels = [contents[i] for i in te], labels[te]
            test_source = f"cut from {train_file.name} (disjoint from train; no official test.csv)"
    tr = tr[rng.permutation(len(tr))]
    tperm = rng.permutation(len(test_labels))
    train, d1 = _nonempty([tokenize(contents[i]) for i in tr], labels[tr], names, "dbpedia-train")
    test, d2 = _nonempty([tokenize(test_texts[i]) for i in tperm], test_labels[tperm], names,
                         "dbpedia-test")
    meta = {"dataset": "dbpedia", "source": str(train_file), "test_source": test_source,
            "n_train": len(train), "n_test": len(test), "seed": seed,
            "dropped_empty": d1 + d2}
    return Split(train, test, meta)


def _nonempty(texts, labels, names, name) -> tuple[TextDataset, int]:
    """Drop texts with no words (empty or whitespace/punctuation only); say how many."""
    keep = [i for i, t in enumerate(texts) if t]
    return (TextDataset(tuple(texts[i] for i in keep), np.asarray(labels)[keep], names, name),
            len(texts) - len(keep))


# --------------------------------------------------------------------------- any CSV
def load_csv(path: str | Path, *, text_column: str, label_column: str,
             test_path: str | Path | None = None, test_fraction: float = 0.2,
             seed: int = 0) -> Split:
    """A user's dataset: a CSV (header row) with a text column and a label column.

    Labels may be any strings; surrounding spaces are dropped, and classes are sorted by
    name. Without ``test_path`` a ``test_fraction`` of the rows (drawn with ``seed``) becomes
    the test set. Rows whose text has no words are dropped; ``meta['dropped_empty']``
    counts them. Errors (`DataError`, naming the file and row): an empty label, labels that
    differ only in case (``pos`` / ``Pos``), a test label never seen in training, fewer
    than two classes, or no texts left.
    """
    import pandas as pd

    def read(p):
        p = Path(p)
        if not p.exists():
            raise DataError(f"{p} not found")
        try:
            df = pd.read_csv(p, dtype=str, keep_default_na=False)
        except Exception as e:  # pandas raises many types for bad files
            raise DataError(f"{p} is not a readable CSV ({e})") from e
        for col in (text_column, label_column):
            if col not in df.columns:
                raise DataError(f"{p} has no column {col!r}; columns: {list(df.columns)}")
        df = df.assign(**{label_column: df[label_column].str.strip()})
        empty = np.flatnonzero((df[label_column] == "").to_numpy())
        if len(empty):
            raise DataError(f"{p}: row {empty[0] + 2} has an empty label "
                            f"({len(empty)} such rows; a short row?)")
        return df

    df = read(path)
    test_df = read(test_path) if test_path is not None else None
    names = tuple(sorted(set(df[label_column])))
    folded: dict[str, str] = {}
    for n in names:
        if n.casefold() in folded:
            raise DataError(f"{path}: labels {folded[n.casefold()]!r} and {n!r} differ only "
                            "in case; make them one label")
        folded[n.casefold()] = n
    if test_df is not None:
        unseen = sorted(set(test_df[label_column]) - set(names))
        if unseen:
            raise DataError(f"{test_path}: labels {unseen} never occur in {path}")
    if len(names) < 2:
        raise DataError(f"{path}: need at least two classes, found {list(names)}")
    ids = {n: i for i, n in enumerate(names)}

    dropped = []

    def to_ds(frame, name):
        ds, n = _nonempty([tokenize(t) for t in frame[text_column]],
                          [ids[l] for l in frame[label_column]], names, name)
        dropped.append(n)
        return ds

    if test_df is None:
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
        perm = np.random.default_rng(seed).permutation(len(df))
        n_test = max(1, int(round(test_fraction * len(df))))
        test_df, df = df.iloc[perm[:n_test]], df.iloc[perm[n_test:]]
    train, test = to_ds(df, f"{Path(path).stem}-train"), to_ds(test_df, f"{Path(path).stem}-test")
    for ds, p in ((train, path), (test, test_path or path)):
        if len(ds) == 0:
            raise DataError(f"{p}: no text with at least one word")
    meta = {"dataset": Path(path).stem, "source": str(path), "seed": seed,
            "test_source": str(test_path) if test_path else f"{test_fraction:.0%} of {path}",
            "dropped_empty": sum(dropped)}
    return Split(train, test, meta)
