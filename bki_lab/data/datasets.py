"""The one dataset type and where the data files live.

`TextDataset` (tokenized texts, labels, class names) and `Split` (a train and a test set
cut by one loader) are what every loader returns and every later stage takes. Files are
read from ``$BKI_LAB_DATA`` if set, else ``data/`` in the project; nothing is downloaded
here (``bki-lab download NAME``, `bki_lab.data.download`, fetches official files).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:
    from bki_lab.data.text import Words

PROJECT_DATA = Path(__file__).resolve().parents[2] / "data"      # <project>/data


class DataError(RuntimeError):
    """A data file is missing, unreadable or does not hold what it should."""


def data_dir() -> Path:
    """The data directory: ``$BKI_LAB_DATA`` if set, else ``<project>/data``."""
    env = os.environ.get("BKI_LAB_DATA")
    return Path(env).expanduser() if env else PROJECT_DATA


def missing_data(what: str, looked: Sequence[Path], dataset: str) -> DataError:
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
            numeric_names = any(is_number(c) for c in self.class_names)
            if str(label).isdigit() and int(label) < self.n_classes and not numeric_names:
                return int(label)
        raise ValueError(f"unknown class {label!r}; {self.name} has {list(self.class_names)}")

    def subset(self, indices: Sequence[int], *, name: str | None = None) -> "TextDataset":
        idx = np.asarray(indices, dtype=np.int64)
        return TextDataset(tuple(self.texts[i] for i in idx), self.labels[idx], self.class_names,
                           name or self.name, dict(self.meta))

    def lengths(self) -> np.ndarray:
        return np.fromiter((len(t) for t in self.texts), dtype=np.int64, count=len(self.texts))


def is_number(text: str) -> bool:
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


def nonempty(texts, labels, names, name) -> tuple[TextDataset, int]:
    """Drop texts with no words (empty or whitespace/punctuation only); say how many."""
    keep = [i for i, t in enumerate(texts) if t]
    return (TextDataset(tuple(texts[i] for i in keep), np.asarray(labels)[keep], names, name),
            len(texts) - len(keep))
