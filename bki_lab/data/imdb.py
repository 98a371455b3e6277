"""IMDB (Maas et al. 2011): the archive read without unpacking, texts drawn per
polarity with a seed (chen_dai §V.A: 10,000 + 10,000 reviews of under 500 words).
"""
from __future__ import annotations

import gzip
import re
import tarfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bki_lab.data.datasets import DataError, Split, TextDataset, data_dir, missing_data
from bki_lab.data.text import tokenize

if TYPE_CHECKING:
    from bki_lab.data.text import Words

IMDB_CLASSES = ("negative", "positive")


IMDB_ARCHIVES = ("aclImdb_v1.tar.gz", "aclImdb_labelled.tar.gz")


# --------------------------------------------------------------------------- IMDB
_IMDB_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def _utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{where} is not UTF-8 text ({e})") from e


def read_imdb_raw(path: Path) -> dict[tuple[str, str], list[tuple[int, str]]]:
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
            raise missing_data(f"IMDB at {p}", [p], "imdb")
        return p
    d = data_dir()
    looked = [d / "aclImdb", *(d / a for a in IMDB_ARCHIVES)]
    for p in looked:
        if p.exists():
            return p
    raise missing_data("IMDB (aclImdb directory or tarball)", looked, "imdb")


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
    raw = read_imdb_raw(src)
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
