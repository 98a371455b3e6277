"""DBpedia (the BKI authors' split or dbpedia_csv) and any labelled CSV, read into `Split`s.

Headerless DBpedia files (``class,"title","content"`` or the authors' ``label,content``) and
a user's CSV with a header row; every error names the file and the line or row.
"""
from __future__ import annotations

import csv
import gzip
import zlib
from pathlib import Path
from typing import get_args

import numpy as np

from .data import (DBPEDIA_AUTHORS, DBPEDIA_CLASSES, DBPEDIA_TEST, DBPEDIA_TRAIN, DataError,
                   DBpediaSource, Split, TextDataset, _missing, data_dir)
from .text import tokenize


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
    tr_texts = [tokenize(contents[i]) for i in tr]
    te_texts = [tokenize(test_texts[i]) for i in tperm]
    n_cut = 0
    if max_words is not None:
        n_cut = sum(len(t) > max_words for t in tr_texts + te_texts)
        tr_texts, te_texts = ([t[:max_words] for t in ts] for ts in (tr_texts, te_texts))
    train, d1 = _nonempty(tr_texts, labels[tr], names, "dbpedia-train")
    test, d2 = _nonempty(te_texts, test_labels[tperm], names, "dbpedia-test")
    meta = {"dataset": "dbpedia", "source": str(train_file), "test_source": test_source,
            "n_train": len(train), "n_test": len(test), "seed": seed,
            "dropped_empty": d1 + d2, "cut_long": n_cut,
            "notes": (f"DBpedia: {n_cut} text(s) longer than {max_words} words cut to their "
                      f"first {max_words}",) if n_cut else ()}
    return Split(train, test, meta)


def _nonempty(texts, labels, names, name) -> tuple[TextDataset, int]:
    """Drop texts with no words (empty or whitespace/punctuation only); say how many."""
    keep = [i for i, t in enumerate(texts) if t]
    return (TextDataset(tuple(texts[i] for i in keep), np.asarray(labels)[keep], names, name),
            len(texts) - len(keep))


# --------------------------------------------------------------------------- any CSV
def load_csv(path: str | Path, *, text_column: str, label_column: str,
             test_path: str | Path | None = None, test_fraction: float = 0.2,
             max_words: int | None = None, seed: int = 0) -> Split:
    """A user's dataset: a CSV (header row) with a text column and a label column.

    Labels may be any strings; surrounding spaces are dropped, and classes are sorted by
    name. Without ``test_path`` a ``test_fraction`` of the rows (drawn with ``seed``) becomes
    the test set. Rows whose text has no words are dropped and texts longer than
    ``max_words`` words are cut to their first ``max_words``; ``meta['dropped_empty']`` and
    ``meta['cut_long']`` count them and ``meta['notes']`` says so in words. Errors
    (`DataError`, naming the file and row or column): duplicate column names, the text
    column used as the label column, an empty label, labels that differ only in case
    (``pos`` / ``Pos``) or only in how a number is written (``1`` / ``1.0``), a test label
    never seen in training, ``test_path`` the training file itself, fewer than two
    classes, or no texts left.
    """
    import pandas as pd

    if text_column == label_column:
        raise DataError(f"{path}: the text column and the label column are both "
                        f"{text_column!r}; name two different columns")
    if max_words is not None and max_words < 1:
        raise ValueError(f"max_words must be >= 1, got {max_words}")

    def read(p):
        p = Path(p)
        if not p.exists():
            raise DataError(f"{p} not found")
        if not p.is_file():
            raise DataError(f"{p} is a directory, not a CSV file")
        try:
            with open(p, encoding="utf-8", newline="") as f:
                header = next(csv.reader(f), [])
            df = pd.read_csv(p, dtype=str, keep_default_na=False)
        except Exception as e:  # pandas raises many types for bad files
            raise DataError(f"{p} is not a readable CSV ({e})") from e
        dups = sorted({c for c in header if header.count(c) > 1})
        if dups:
            raise DataError(f"{p}: the header names the column(s) {dups} more than once; "
                            "rename them so that each column has its own name")
        for col in (text_column, label_column):
            if col not in df.columns:
                raise DataError(f"{p} has no column {col!r}; columns: {list(df.columns)}")
        df = df.assign(**{label_column: df[label_column].str.strip()})
        empty = np.flatnonzero((df[label_column] == "").to_numpy())
        if len(empty):
            raise DataError(f"{p}: row {empty[0] + 2} has an empty label "
                            f"({len(empty)} such rows; a short row?)")
        return df

    if test_path is not None and Path(test_path).exists() and Path(path).exists() \
            and Path(test_path).resolve() == Path(path).resolve():
        raise DataError(f"--test-path {test_path} is the training file itself: the test set "
                        "must be other texts (leave --test-path out to hold out 20%)")
    df = read(path)
    test_df = read(test_path) if test_path is not None else None
    names = tuple(sorted(set(df[label_column])))
    folded: dict[str, str] = {}
    numbers: dict[float, str] = {}
    for n in names:
        if n.casefold() in folded:
            raise DataError(f"{path}: labels {folded[n.casefold()]!r} and {n!r} differ only "
                            "in case; make them one label")
        folded[n.casefold()] = n
        try:
            value = float(n)
        except ValueError:
            continue
        if value in numbers:
            raise DataError(f"{path}: labels {numbers[value]!r} and {n!r} are the same number "
                            "written two ways; write every label the same way")
        numbers[value] = n
    if test_df is not None:
        unseen = sorted(set(test_df[label_column]) - set(names))
        if unseen:
            raise DataError(f"{test_path}: labels {unseen} never occur in {path}")
    if len(names) < 2:
        raise DataError(f"{path}: need at least two classes, found {list(names)}")
    ids = {n: i for i, n in enumerate(names)}

    dropped, cut = [], []

    def to_ds(frame, name):
        texts = [tokenize(t) for t in frame[text_column]]
        if max_words is not None:
            cut.append(sum(len(t) > max_words for t in texts))
            texts = [t[:max_words] for t in texts]
        ds, n = _nonempty(texts, [ids[l] for l in frame[label_column]], names, name)
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
    notes = []
    if sum(dropped):
        notes.append(f"{path}: {sum(dropped)} of {sum(dropped) + len(train) + len(test)} rows "
                     "have no words in the text column and were left out")
    if sum(cut):
        notes.append(f"{path}: {sum(cut)} text(s) longer than {max_words} words cut to their "
                     f"first {max_words} (the profile's max_words)")
    meta = {"dataset": Path(path).stem, "source": str(path), "seed": seed,
            "test_source": str(test_path) if test_path else f"{test_fraction:.0%} of {path}",
            "dropped_empty": sum(dropped), "cut_long": sum(cut), "max_words": max_words,
            "notes": tuple(notes)}
    return Split(train, test, meta)
