"""Any labelled CSV (a header row, a text column and a label column), read into a
`Split`; every error names the file and the row or column.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from bki_lab.data.datasets import DataError, Split, nonempty
from bki_lab.data.text import tokenize


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
        ds, n = nonempty(texts, [ids[l] for l in frame[label_column]], names, name)
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
