"""DBpedia-14 (the BKI authors' split or dbpedia_csv), read into `Split`s.

Headerless files (``class,"title","content"`` or the authors' ``label,content``); every
error names the file and the line.
"""
from __future__ import annotations

import csv
import gzip
import zlib
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from bki_lab.data.datasets import DataError, Split, data_dir, missing_data, nonempty
from bki_lab.data.text import tokenize

DBPEDIA_CLASSES = ("Company", "EducationalInstitution", "Artist", "Athlete", "OfficeHolder",
                   "MeanOfTransportation", "Building", "NaturalPlace", "Village", "Animal",
                   "Plant", "Album", "Film", "WrittenWork")


DBpediaSource = Literal["auto", "authors", "dbpedia_csv"]


DBPEDIA_TRAIN = ("train.csv", "train.csv.gz", "train_subset_30k_unofficial.csv.gz")


DBPEDIA_TEST = ("test.csv", "test.csv.gz")


DBPEDIA_AUTHORS = "dbpedia_bki_authors"        # the BKI authors' own split (label,content)


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


def authors_files(root: Path) -> tuple[Path, Path] | None:
    found = [next((root / f"{part}{ext}" for ext in (".csv", ".csv.gz")
                   if (root / f"{part}{ext}").exists()), None) for part in ("train", "test")]
    return None if None in found else (found[0], found[1])


def load_dbpedia(*, n_train_per_class: int = 1000, n_test_per_class: int = 500, seed: int = 0,
                 path: str | Path | None = None, source: DBpediaSource = "auto",
                 max_words: int | None = None) -> Split:
    """DBpedia-14 with chen_dai's protocol: per class 1,000 train and 500 test contents.

    Sources, in the order ``source="auto"`` tries them (``meta['source']`` and
    ``meta['test_source']`` record which was used):

    * ``authors``: ``<data>/dbpedia_bki_authors/{train,test}.csv[.gz]``, the BKI authors'
      split (1,000 texts per class from the official train.csv and 1,000 from the official
      test.csv; rows ``label,content`` with 0-based labels);
    * ``dbpedia_csv``: ``<data>/dbpedia_csv/`` with the official ``test.csv`` when present,
      otherwise test texts cut from the train file, disjoint from the training texts.

    A text longer than ``max_words`` words is cut to its first ``max_words``
    (``meta['cut_long']`` counts them).
    """
    if source not in get_args(DBpediaSource):
        raise ValueError(f"source must be one of {get_args(DBpediaSource)}, got {source!r}")
    base = Path(path) if path is not None else data_dir()
    authors = authors_files(base / DBPEDIA_AUTHORS)
    if source == "authors" and authors is None:
        raise missing_data("The BKI authors' DBpedia split (train.csv[.gz] and test.csv[.gz])",
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
            raise missing_data("DBpedia (dbpedia_csv/classes.txt and train.csv)",
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
    tr_texts = [tokenize(contents[i]) for i in tr]
    te_texts = [tokenize(test_texts[i]) for i in tperm]
    n_cut = 0
    if max_words is not None:
        n_cut = sum(len(t) > max_words for t in tr_texts + te_texts)
        tr_texts, te_texts = ([t[:max_words] for t in ts] for ts in (tr_texts, te_texts))
    train, d1 = nonempty(tr_texts, labels[tr], names, "dbpedia-train")
    test, d2 = nonempty(te_texts, test_labels[tperm], names, "dbpedia-test")
    meta = {"dataset": "dbpedia", "source": str(train_file), "test_source": test_source,
            "n_train": len(train), "n_test": len(test), "seed": seed,
            "dropped_empty": d1 + d2, "cut_long": n_cut,
            "notes": (f"DBpedia: {n_cut} text(s) longer than {max_words} words cut to their "
                      f"first {max_words}",) if n_cut else ()}
    return Split(train, test, meta)
