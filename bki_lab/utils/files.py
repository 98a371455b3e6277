"""Safe file writes: atomic files, output directories that never lose a user's files.

* `atomic_path`: write to a temporary name beside the target, rename into place; an
  interrupted or failed write never leaves a file that looks complete.
* `output_dir`: a command's output directory. A new directory is written whole or not at
  all; an existing one is written into only when bki-lab itself wrote it (it holds the
  `MARKER` file, which lists what bki-lab wrote there), when it is empty, or with
  ``overwrite=True`` -- and then only the files of this run are replaced. Nothing else in
  it is ever deleted.
* `set_aside`: move a file out of the way under a new name instead of deleting it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(path: str | Path, *, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on error it is removed.

    >>> with atomic_path("out.json") as tmp:      # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                               suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())     # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


MARKER = ".bki-lab-output"          # in every output directory bki-lab wrote: what it wrote


class OutputError(ValueError):
    """An output directory that cannot or may not be written (one line for the user)."""


def _first_existing(path: Path) -> Path:
    return next((p for p in [path, *path.parents] if os.path.lexists(p)), Path("."))


def check_writable_dir(path: str | Path, *, what: str) -> None:
    """Raise `OutputError` unless ``path`` is, or can be created as, a writable directory."""
    path = Path(path)
    base = _first_existing(path)
    if base.exists() and not base.is_dir():
        raise OutputError(f"{what} {path}: {base} is a file, not a directory")
    if not base.exists():                # a dangling symbolic link
        raise OutputError(f"{what} {path}: {base} is a broken symbolic link")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {path}: {base} is not writable")


def written_by_us(path: str | Path) -> list[str] | None:
    """The files bki-lab recorded writing into directory ``path``, or None if it did not."""
    try:
        record = json.loads((Path(path) / MARKER).read_text())
        return [str(f) for f in record["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_output_dir(path: str | Path, *, overwrite: bool = False,
                     option: str = "--out") -> None:
    """Raise `OutputError` (one line, naming ``option``) if `output_dir` would refuse ``path``:
    checked before any work starts."""
    path = Path(path)
    if os.path.lexists(path) and not path.exists():
        raise OutputError(f"{option} {path} is a broken symbolic link")
    if not path.exists():
        check_writable_dir(path, what=option)
        return
    if not path.is_dir():
        raise OutputError(f"{option} {path} exists and is not a directory")
    real = path.resolve()
    if not os.access(real, os.R_OK | os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path} is not writable")
    entries = [e for e in real.iterdir() if not _TEMP_INSIDE.match(e.name)]
    if entries and written_by_us(real) is None and not overwrite:
        raise OutputError(
            f"{option} {path} is a directory bki-lab did not write ({len(entries)} entries, "
            f"e.g. {sorted(e.name for e in entries)[0]!r}): give a new directory, or add "
            f"--overwrite to write this run's files into it (nothing else there is touched)")


_TEMP_INSIDE = re.compile(r"^\.bki-lab\.(\d+)\.")


@contextmanager
def output_dir(path: str | Path, *, overwrite: bool = False, command: str = "bki-lab",
               option: str = "--out") -> Iterator[Path]:
    """Yield a temporary directory to fill with one run's files; on success they land in
    ``path``, on error nothing in ``path`` changes.

    * ``path`` does not exist: the filled directory is renamed to it (whole or not at all).
    * ``path`` is empty, was written by bki-lab (`MARKER`), or ``overwrite`` is True: each
      file is moved into it atomically; in a directory bki-lab wrote, the files of its
      previous run that this run does not write are removed (so it holds one run's files),
      and files anyone else put there are kept.
    * otherwise `OutputError`, before anything is written.

    A symbolic link is followed (the link stays a link). The marker lists the files written.
    """
    check_output_dir(path, overwrite=overwrite, option=option)
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}."))
        try:
            yield tmp
            _write_marker(tmp, command)
            os.chmod(tmp, 0o777 & ~_umask())
            try:
                os.rename(tmp, path)          # fails if someone made a non-empty `path` meanwhile
            except OSError as e:
                raise OutputError(f"{option} {path} appeared while this run wrote "
                                  f"({e.strerror}); nothing was written") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return
    real = path.resolve()
    _sweep_inside(real)
    previous = written_by_us(real) or []
    tmp = Path(tempfile.mkdtemp(dir=real, prefix=f".bki-lab.{os.getpid()}."))
    try:
        yield tmp
        names = sorted(p.name for p in tmp.iterdir())
        for name in names:
            target = real / name
            if target.is_dir() and not target.is_symlink():
                if name not in previous:
                    raise OutputError(f"{option} {path}: {name} is a directory bki-lab did "
                                      "not write; nothing was written")
                shutil.rmtree(target)
            os.replace(tmp / name, target)
        for name in previous:
            stale = real / name
            if name not in names and name != MARKER and stale.is_file() \
                    and not stale.is_symlink():
                stale.unlink()
        _write_marker(real, command, names)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_marker(directory: Path, command: str, names: list[str] | None = None) -> None:
    if names is None:
        names = sorted(p.name for p in directory.iterdir() if p.name != MARKER)
    with atomic_path(directory / MARKER) as tmp:
        tmp.write_text(json.dumps({"written_by": command, "files": names}, indent=1) + "\n")


def _sweep_inside(directory: Path) -> None:
    """Remove ``.bki-lab.PID.*`` temp directories of runs that no longer run."""
    for p in directory.iterdir():
        m = _TEMP_INSIDE.match(p.name)
        if m is None or not p.is_dir():
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except (PermissionError, OverflowError):
            continue


def set_aside(path: str | Path, *, tag: str = "kept") -> Path:
    """Rename ``path`` to ``<name>.<tag>`` (``<name>.<tag>-2``, ... if taken); return the new
    name. For a file that must make room but is not ours to delete."""
    path = Path(path)
    for k in range(1, 10_000):
        aside = path.with_name(f"{path.name}.{tag}" + ("" if k == 1 else f"-{k}"))
        if not os.path.lexists(aside):
            os.rename(path, aside)
            return aside
    raise OSError(f"no free name to set {path} aside")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
