"""Fetching the official data files: progress bar, size/sha256 check, atomic writes.

``bki-lab download imdb|dbpedia|glove`` writes into the data directory (`data.data_dir`).
A file is downloaded to a temporary name, checked, and only then renamed into place, so an
interrupted or corrupt download never leaves a file that looks complete.
"""
from __future__ import annotations

import hashlib
import shutil
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .data import data_dir
from .files import atomic_path
from .progress import progress


@dataclass(frozen=True)
class Remote:
    url: str
    filename: str
    size: int | None = None
    sha256: str | None = None


REMOTES: dict[str, Remote] = {
    # Maas et al. 2011, https://ai.stanford.edu/~amaas/data/sentiment/
    "imdb": Remote("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                   "aclImdb_v1.tar.gz", 84_125_825,
                   "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"),
    # Zhang, Zhao & LeCun 2015: the authors' archive (Google Drive, "Crepe" data links)
    "dbpedia": Remote("https://drive.google.com/uc?export=download&confirm=t"
                      "&id=0Bz8a_Dbh9QhbQ2Vic1kxMmZZQ1k", "dbpedia_csv.tar.gz"),  # size unverified: not checked
    # Pennington et al. 2014, https://nlp.stanford.edu/projects/glove/
    "glove": Remote("https://nlp.stanford.edu/data/glove.6B.zip", "glove.6B.zip", 862_182_613),
}


class DownloadError(RuntimeError):
    pass


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fetch(remote: Remote, dest_dir: Path, *, show_progress: bool = True,
          opener=urllib.request.urlopen) -> Path:
    """Download ``remote`` into ``dest_dir``; check size and sha256 where known."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / remote.filename
    if dest.exists() and (remote.sha256 is None or sha256_of(dest) == remote.sha256):
        return dest
    with atomic_path(dest) as tmp:       # checked before it takes the real name
        with open(tmp, "wb") as out:
            try:
                resp = opener(remote.url)
            except OSError as e:
                raise DownloadError(
                    f"could not reach {remote.url} ({e}). Without internet, copy the file "
                    f"into {dest_dir} by hand, or point BKI_LAB_DATA at a directory that "
                    f"holds the data.") from e
            with resp:
                total = int(resp.headers.get("Content-Length") or 0) or remote.size
                with progress(total=total, desc=remote.filename, unit="B",
                              disable=not show_progress) as bar:
                    while block := resp.read(1 << 16):
                        out.write(block)
                        bar.update(len(block))
        size = tmp.stat().st_size
        if remote.size is not None and size != remote.size:
            raise DownloadError(f"{remote.filename}: got {size:,} bytes, expected "
                                f"{remote.size:,}; nothing was written")
        if remote.sha256 is not None and (digest := sha256_of(tmp)) != remote.sha256:
            raise DownloadError(f"{remote.filename}: sha256 {digest} does not match "
                                f"{remote.sha256}; nothing was written")
    return dest


def download(name: str, *, dest: str | Path | None = None, show_progress: bool = True,
             opener=urllib.request.urlopen) -> Path:
    """Fetch dataset ``name`` (imdb, dbpedia or glove) into the data directory.

    IMDB stays a tarball (the loader reads it directly); DBpedia's three CSV/TXT files are
    extracted into ``dbpedia_csv/``; GloVe's ``glove.6B.100d.txt`` is extracted.
    """
    if name not in REMOTES:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(REMOTES)}")
    root = Path(dest) if dest is not None else data_dir()
    path = fetch(REMOTES[name], root, show_progress=show_progress, opener=opener)
    if name == "dbpedia":
        _extract_tar(path, root, ("dbpedia_csv/classes.txt", "dbpedia_csv/train.csv",
                                  "dbpedia_csv/test.csv", "dbpedia_csv/readme.txt"))
    elif name == "glove":
        _extract_zip(path, root, ("glove.6B.100d.txt", "glove.6B.50d.txt"))
    return path


def _atomic_copy(src, dest: Path):
    with atomic_path(dest) as tmp, open(tmp, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)


def _extract_tar(path: Path, root: Path, members: tuple[str, ...]):
    try:
        with tarfile.open(path, "r:gz") as tar:
            for name in members:
                dest = root / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                _atomic_copy(tar.extractfile(name), dest)
    except (tarfile.TarError, KeyError, EOFError) as e:
        raise DownloadError(f"{path} is not the expected archive ({e})") from e


def _extract_zip(path: Path, root: Path, members: tuple[str, ...]):
    try:
        with zipfile.ZipFile(path) as z:
            for name in members:
                with z.open(name) as src:
                    _atomic_copy(src, root / name)
    except (zipfile.BadZipFile, KeyError) as e:
        raise DownloadError(f"{path} is not the expected archive ({e})") from e
