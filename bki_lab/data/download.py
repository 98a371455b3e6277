"""Fetching the official data files: progress bar, size/sha256 check, atomic writes.

``bki-lab download imdb|dbpedia|glove`` writes into the data directory (`datasets.data_dir`).
A file is downloaded to a temporary name, checked, and only then renamed into place, so an
interrupted or corrupt download never leaves a file that looks complete.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bki_lab.data.datasets import data_dir
from bki_lab.utils.files import atomic_path, set_aside
from bki_lab.utils.progress import progress


@dataclass(frozen=True)
class Remote:
    url: str
    filename: str
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None            # where only an MD5 is published


TIMEOUT = 60.0                        # seconds without a byte before a download fails


REMOTES: dict[str, Remote] = {
    # Maas et al. 2011, https://ai.stanford.edu/~amaas/data/sentiment/
    "imdb": Remote("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                   "aclImdb_v1.tar.gz", 84_125_825,
                   "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
                   "7c2ac02c03563afcf9b574c7e56c153a"),
    # Zhang, Zhao & LeCun 2015: the authors' archive (Google Drive, "Crepe" data links); its
    # MD5 as published with torchtext's DBpedia loader (no size or sha256 is published)
    "dbpedia": Remote("https://drive.google.com/uc?export=download&confirm=t"
                      "&id=0Bz8a_Dbh9QhbQ2Vic1kxMmZZQ1k", "dbpedia_csv.tar.gz",
                      md5="dca7b1ae12b1091090db52aa7ec5ca64"),
    # Pennington et al. 2014, https://nlp.stanford.edu/projects/glove/ (size and the MD5
    # that loaders of this archive check; no sha256 is published)
    "glove": Remote("https://nlp.stanford.edu/data/glove.6B.zip", "glove.6B.zip", 862_182_613,
                    md5="056ea991adb4740ac6bf1b6d9b50408b"),
}


class DownloadError(RuntimeError):
    pass


def sha256_of(path: Path, chunk: int = 1 << 20, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def check(remote: Remote, path: Path) -> str | None:
    """Why ``path`` is not ``remote``'s file (size, sha256, md5), or None if it is."""
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        return f"got {size:,} bytes, expected {remote.size:,}"
    for algorithm in ("sha256", "md5"):
        want = getattr(remote, algorithm)
        if want is not None and (got := sha256_of(path, algorithm=algorithm)) != want:
            return f"{algorithm} {got} does not match {want}"
    return None


def fetch(remote: Remote, dest_dir: Path, *, show_progress: bool = True,
          opener=urllib.request.urlopen, timeout: float = TIMEOUT) -> Path:
    """Download ``remote`` into ``dest_dir``; check its size and checksums.

    A file already there is used if it passes the same checks. One that does not (a
    damaged file, an error page saved under the file's name, or someone's own copy) is
    never deleted: it stays where it is until the official file has been fetched and
    checked, and is then renamed to ``<name>.kept`` (named on stderr). A server silent for
    ``timeout`` seconds, an HTML page instead of the file, or a failed check raise
    `DownloadError`, leave nothing behind and leave the existing file as it was.
    """
    dest = dest_dir / remote.filename
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"cannot create {dest_dir} ({e.strerror}): give --dest a "
                            "writable directory") from None
    if not os.access(dest_dir, os.W_OK | os.X_OK):
        raise DownloadError(f"{dest_dir} is not writable: give --dest a writable directory")
    existing = None
    if dest.is_file():
        existing = check(remote, dest)
        if existing is None:
            return dest
    elif dest.exists():
        raise DownloadError(f"{dest} exists and is not a file; move it away first")
    kept = (f" Your existing {dest} (not the official file: {existing}) was left as it "
            "was." if existing else "")
    with atomic_path(dest) as tmp:       # checked before it takes the real name
        with open(tmp, "wb") as out:
            try:
                resp = opener(remote.url, timeout=timeout)
            except OSError as e:
                raise DownloadError(
                    f"could not reach {remote.url} ({e}). Without internet, copy the file "
                    f"into {dest_dir} by hand, or point BKI_LAB_DATA at a directory that "
                    f"holds the data.{kept}") from e
            with resp:
                kind = str(resp.headers.get("Content-Type") or "")
                if kind.startswith("text/html"):
                    raise DownloadError(f"{remote.url} answered with a web page ({kind}), "
                                        f"not {remote.filename}; nothing was written.{kept}")
                total = int(resp.headers.get("Content-Length") or 0) or remote.size
                try:
                    with progress(total=total, desc=remote.filename, unit="B",
                                  disable=not show_progress) as bar:
                        while block := resp.read(1 << 16):
                            out.write(block)
                            bar.update(len(block))
                except OSError as e:      # includes socket timeouts
                    raise DownloadError(f"{remote.filename}: download failed ({e}); "
                                        f"nothing was written.{kept}") from e
        problem = check(remote, tmp)
        if problem is not None:
            raise DownloadError(f"{remote.filename}: {problem}; nothing was written.{kept}")
        if existing is not None:
            aside = set_aside(dest)
            print(f"{dest} was not the official file ({existing}); kept as {aside}",
                  file=sys.stderr)
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
    if root.exists() and not root.is_dir():
        raise DownloadError(f"--dest {root} is a file, not a directory")
    path = fetch(REMOTES[name], root, show_progress=show_progress, opener=opener)
    if name == "dbpedia":
        _extract_tar(path, root, ("dbpedia_csv/classes.txt", "dbpedia_csv/train.csv",
                                  "dbpedia_csv/test.csv", "dbpedia_csv/readme.txt"))
    elif name == "glove":
        _extract_zip(path, root, ("glove.6B.100d.txt", "glove.6B.50d.txt"))
    return path


def _atomic_copy(src, dest: Path):
    """Write ``src`` to ``dest``; a different file already there is kept aside, not lost."""
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        if dest.is_file() and sha256_of(dest) != sha256_of(tmp):
            aside = set_aside(dest)
            print(f"{dest} differed from the archive's; kept as {aside}", file=sys.stderr)


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
