"""Saving, loading and caching victims, scores and verdicts: the one owner of the cache.

A victim is saved as ``model.pt`` (a ``state_dict``, loaded with ``weights_only=True``),
``config.json`` (training config, model sizes, class names, history, the digest of the data
it was trained on) and ``vocab.json``; a verdict as one ``.npz`` (`save_verdict`), keyed by
the victim and texts it was found on, its options and `verdict.VERDICT_VERSION`. The cache directory is ``$BKI_LAB_CACHE`` if set,
else ``~/.cache/bki_lab``.

Keys derive from exactly what decides an entry: the training texts and labels themselves
(`data_digest`), the training settings and `CACHE_VERSION` (bumped when the code that makes
an entry changes its result). A damaged or mismatched entry is reported once, with its path,
removed and rebuilt; two processes making the same entry both succeed and leave one
complete entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
import torch

from bki_lab.bki.authors import SpanScores
from bki_lab.bki.scoring import WordScores
from bki_lab.bki.trigger import Reconstruction, Verification
from bki_lab.bki.verdict import Finding, Verdict
from bki_lab.data.text import Vocab
from bki_lab.utils.files import atomic_path
from bki_lab.utils.records import write_json
from bki_lab.utils.trees import load_tree, save_tree
from bki_lab.victims.train import TrainConfig, TrainedModel

CACHE_VERSION = 2          # 2: fixed-epoch recipes, keys from the data's digest


class CacheError(RuntimeError):
    """A cache entry is unreadable, incomplete or does not match what it claims to be."""


def cache_dir() -> Path:
    env = os.environ.get("BKI_LAB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "bki_lab"


def cache_key(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (dataclasses are turned into dicts)."""
    def plain(x):
        if hasattr(x, "__dataclass_fields__"):
            return asdict(x)
        raise TypeError(f"cannot hash {type(x).__name__}")
    blob = json.dumps([CACHE_VERSION, *parts], sort_keys=True, default=plain)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def data_digest(dataset) -> str:
    """sha256 of a `TextDataset`'s texts, labels and class names: the data's identity.

    Two datasets with the same digest train the same victim; a damaged archive that yields
    other texts, or a changed split, gets another key.
    """
    h = hashlib.sha256()
    h.update(json.dumps(list(dataset.class_names)).encode())
    h.update(np.asarray(dataset.labels, dtype=np.int64).tobytes())
    for t in dataset.texts:
        h.update(" ".join(t).encode())
        h.update(b"\n")
    return h.hexdigest()


# TrainConfig fields added after victims were first cached, with their defaults: a field at
# its default is left out of the key, so the keys of the victims cached before it stay valid
_LATER_FIELDS = {"cell": "lstm", "lr_hold": 0.0, "embedding_lr": 1.0, "pre_pad": None}


def victim_key(digest: str, config: TrainConfig) -> str:
    """The cache key of the victim trained on data with ``digest`` (`data_digest`) and
    ``config`` (the `_LATER_FIELDS` at their defaults left out)."""
    settings = {k: v for k, v in asdict(config).items()
                if k not in _LATER_FIELDS or v != _LATER_FIELDS[k]}
    return cache_key("victim", digest, settings)


_TEMP = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]{6,}(\.part|\.npz)?$")   # .NAME.PID.RANDOM[.part]


def sweep_temp(parent: Path) -> None:
    """Remove temp entries (``.name.PID.*``) left by processes that no longer run."""
    for p in parent.glob(".*"):
        m = _TEMP.match(p.name)
        if m is None:
            continue
        pid = int(m.group(1))
        try:
            os.kill(pid, 0)
            continue                                  # still running: its entry is in flight
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def save_victim(victim: TrainedModel, directory: str | Path, *, digest: str | None = None) -> Path:
    """Save a victim into ``directory`` (written to a temp dir, then renamed into place).

    If another process completed the same entry meanwhile, its entry is kept (same key,
    same content) and this one is dropped: both callers succeed, one entry remains.
    """
    directory = Path(directory)
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        sweep_temp(directory.parent)
        tmp = Path(tempfile.mkdtemp(dir=directory.parent,
                                    prefix=f".{directory.name}.{os.getpid()}."))
    except OSError as e:
        raise CacheError(f"cannot write the cache {directory.parent} ({e.strerror}): point "
                         "BKI_LAB_CACHE at a writable directory") from None
    try:
        _save_entry(victim, tmp, digest)
        if os.path.lexists(directory):
            discard(directory)
        try:
            os.replace(tmp, directory)
        except OSError:
            if not (directory / "config.json").exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)    # a concurrent run finished it first
    except (OSError, RuntimeError) as e:    # torch.save on a full disk raises RuntimeError
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, CacheError):
            raise
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise CacheError(f"could not save the victim into {directory} ({why}; is the disk "
                         "full?); nothing was cached") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def discard(path: str | Path) -> None:
    """Remove a damaged cache entry (file, directory or link) so that it can be rebuilt;
    `CacheError` (before any rebuilding) if it cannot be removed. A part that vanishes
    meanwhile was removed by a concurrent run rebuilding the same entry: what is left is
    looked at again."""
    path = Path(path)
    for _ in range(3):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif os.path.lexists(path):
                path.unlink()
            return
        except FileNotFoundError:
            continue
        except OSError as e:
            raise CacheError(f"cannot remove the damaged cache entry {path} ({e.strerror}): "
                             "remove it by hand, or point BKI_LAB_CACHE elsewhere") from None


def _save_entry(victim: TrainedModel, tmp: Path, digest: str | None) -> None:
    """The files of a victim entry, written into the empty directory ``tmp``."""
    torch.save({k: v.cpu() for k, v in victim.model.state_dict().items()}, tmp / "model.pt")
    m = victim.model
    write_json(tmp / "vocab.json", list(victim.vocab.itos))
    # written last: an entry without config.json is incomplete
    write_json(tmp / "config.json", {
        "train_config": asdict(victim.config), "class_names": list(victim.class_names),
        "vocab_size": len(victim.vocab), "embed_dim": m.embedding.embedding_dim,
        "history": list(victim.history), "best_epoch": victim.best_epoch,
        "seconds": victim.seconds, "glove_coverage": victim.glove_coverage,
        "meta": victim.meta, "data_digest": digest, "cache_version": CACHE_VERSION,
        "model_sha256": _sha256(tmp / "model.pt")})


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_victim(directory: str | Path, *, digest: str | None = None) -> TrainedModel:
    """Load a victim saved by `save_victim` (weights with ``weights_only=True``).

    Raises `CacheError` (naming the directory) if the entry is incomplete or damaged: its
    weights differ from their recorded sha256, the vocabulary does not fit the embedding,
    or ``digest`` is given and differs from the data the victim was trained on.
    """
    directory = Path(directory)
    try:
        cfg = json.loads((directory / "config.json").read_text())
        vocab = Vocab(tuple(json.loads((directory / "vocab.json").read_text())))
        if digest is not None and cfg.get("data_digest") != digest:
            raise CacheError("it was trained on other data (digest differs)")
        if len(vocab) != cfg["vocab_size"]:
            raise CacheError(f"vocab.json has {len(vocab)} words, the model {cfg['vocab_size']}")
        if cfg.get("model_sha256") and _sha256(directory / "model.pt") != cfg["model_sha256"]:
            raise CacheError("model.pt does not match its recorded sha256")
        tc = TrainConfig(**cfg["train_config"])
        model = tc.build(cfg["vocab_size"], len(cfg["class_names"]), cfg["embed_dim"])
        model.load_state_dict(torch.load(directory / "model.pt", weights_only=True,
                                         map_location="cpu"))
    except CacheError as e:
        raise CacheError(f"cached victim {directory}: {e}") from None
    except Exception as e:      # json, torch and shape errors of a damaged entry
        raise CacheError(f"cached victim {directory} is unreadable "
                         f"({type(e).__name__}: {e})") from e
    model.eval()
    return TrainedModel(model, vocab, tc, tuple(cfg["class_names"]), tuple(cfg["history"]),
                        cfg["best_epoch"], cfg["seconds"], cfg["glove_coverage"],
                        cfg.get("meta", {}))


def save_scores(scores: WordScores, path: str | Path) -> None:
    """Save word scores to ``path`` (.npz; the texts are stored as joined words)."""
    save_arrays(path, offsets=scores.offsets, scores=scores.scores,
                words=np.asarray([w for t in scores.texts for w in t], dtype=str),
                scorer=scores.scorer, seconds=scores.seconds)


def save_arrays(path: str | Path, **arrays) -> None:
    """Arrays into a cache file (.npz, atomic); `CacheError` on a full or read-only disk."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_temp(path.parent)
        if os.path.lexists(path) and not path.is_file():
            discard(path)
        with atomic_path(path, suffix=".npz") as tmp:     # savez wants the .npz suffix
            np.savez_compressed(tmp, **arrays)
    except OSError as e:
        raise CacheError(f"could not save {path} ({e.strerror}; is the disk full?); nothing "
                         "was cached") from None


def load_scores(path: str | Path, *, texts=None) -> WordScores:
    """Load scores saved by `save_scores`; `CacheError` if damaged or, with ``texts``,
    if they are the scores of other texts."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            offsets, words = z["offsets"], z["words"].tolist()
            loaded = tuple(tuple(words[offsets[i]:offsets[i + 1]]) for i in range(len(offsets) - 1))
            scores = WordScores(loaded, offsets.copy(), z["scores"].copy(), str(z["scorer"]),
                                float(z["seconds"]))
    except Exception as e:      # zip, key, shape and value errors of a damaged file
        raise CacheError(f"cached scores {path} are unreadable ({type(e).__name__}: {e})") from e
    if texts is not None and tuple(map(tuple, texts)) != scores.texts:
        raise CacheError(f"cached scores {path} belong to other texts")
    return scores


T = TypeVar("T")


def load_or_compute(path: Path, *, load: Callable[[Path], T], compute: Callable[[], T],
                    save: Callable[[T, Path], object], use_cache: bool = True) -> T:
    """The one way a cached artefact (a victim, a score table) is made.

    ``load(path)`` when an entry is there; otherwise ``compute()`` and, with ``use_cache``,
    ``save(value, path)``. An entry ``load`` cannot use (it raises `CacheError`) is reported
    once on stderr and removed before anything is computed: one that cannot be removed
    stops here (`discard`), not after a long computation.
    """
    if use_cache and os.path.lexists(path):
        try:
            return load(path)
        except CacheError as e:
            print(f"bki_lab: {e}; rebuilding it", file=sys.stderr)
            discard(path)
    value = compute()
    if use_cache:
        save(value, path)
    return value


def save_spans(spans: SpanScores, path: str | Path) -> None:
    """Save the authors' span scores to ``path`` (.npz)."""
    save_arrays(path, n=spans.n, offsets=spans.offsets, deletion=spans.deletion,
                prefix=spans.prefix, seconds=spans.seconds)


def load_spans(path: str | Path, *, texts) -> SpanScores:
    """Load span scores saved by `save_spans` for ``texts``; `CacheError` if damaged, not
    finite, or the scores of other texts."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return SpanScores(tuple(map(tuple, texts)), int(z["n"]), z["offsets"].copy(),
                              z["deletion"].copy(), z["prefix"].copy(), "fast",
                              float(z["seconds"]))
    except Exception as e:          # damaged, non-finite, or the scores of other texts
        raise CacheError(f"cached scores {path} are unusable ({type(e).__name__}: {e})") \
            from None


_VERDICT_TYPES = {c.__name__: c for c in (Verdict, Finding, Reconstruction, Verification)}


def save_verdict(verdict: Verdict, path: str | Path) -> None:
    """Save a `Verdict` to ``path`` (.npz: its arrays and the rest as JSON; no pickle)."""
    save_tree(verdict, path)


def load_verdict(path: str | Path) -> Verdict:
    """Load a verdict saved by `save_verdict`; `CacheError` if it is damaged or not one."""
    try:
        verdict = load_tree(path, types=_VERDICT_TYPES)
    except Exception as e:
        raise CacheError(f"cached verdict {path} is unusable ({type(e).__name__}: {e})") \
            from None
    if not isinstance(verdict, Verdict):
        raise CacheError(f"cached verdict {path} holds a {type(verdict).__name__}")
    return verdict
