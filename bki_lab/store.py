"""Saving, loading and caching victims and scores.

A victim is saved as ``model.pt`` (a ``state_dict``, loaded with ``weights_only=True``),
``config.json`` (training config, model sizes, class names, history) and ``vocab.json``.
The cache directory is ``$BKI_LAB_CACHE`` if set, else ``~/.cache/bki_lab``; entries are
keyed by a hash of everything that decides them, so notebooks never retrain needlessly.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .files import atomic_path
from .models import BiLSTMClassifier
from .scoring import WordScores
from .text import Vocab
from .train import TrainConfig, TrainedModel

CACHE_VERSION = 1


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


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (temp file + rename): no partial file is ever left."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    if hasattr(x, "__dataclass_fields__"):
        return asdict(x)
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def save_victim(victim: TrainedModel, directory: str | Path) -> Path:
    """Save a victim into ``directory`` (written to a temp dir, then renamed into place)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
    try:
        torch.save(victim.model.state_dict(), tmp / "model.pt")
        m = victim.model
        write_json(tmp / "config.json", {
            "train_config": asdict(victim.config), "class_names": list(victim.class_names),
            "vocab_size": len(victim.vocab), "embed_dim": m.embedding.embedding_dim,
            "history": list(victim.history), "best_epoch": victim.best_epoch,
            "seconds": victim.seconds, "glove_coverage": victim.glove_coverage,
            "meta": victim.meta})
        write_json(tmp / "vocab.json", list(victim.vocab.itos))
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def load_victim(directory: str | Path) -> TrainedModel:
    """Load a victim saved by `save_victim` (weights with ``weights_only=True``)."""
    directory = Path(directory)
    cfg = json.loads((directory / "config.json").read_text())
    vocab = Vocab(tuple(json.loads((directory / "vocab.json").read_text())))
    tc = TrainConfig(**cfg["train_config"])
    model = BiLSTMClassifier(cfg["vocab_size"], len(cfg["class_names"]),
                             embed_dim=cfg["embed_dim"], hidden=tc.hidden, fc=tc.fc,
                             dropout=tc.dropout)
    model.load_state_dict(torch.load(directory / "model.pt", weights_only=True,
                                     map_location="cpu"))
    model.eval()
    return TrainedModel(model, vocab, tc, tuple(cfg["class_names"]), tuple(cfg["history"]),
                        cfg["best_epoch"], cfg["seconds"], cfg["glove_coverage"],
                        cfg.get("meta", {}))


def save_scores(scores: WordScores, path: str | Path) -> None:
    """Save word scores to ``path`` (.npz; the texts are stored as joined words)."""
    with atomic_path(path, suffix=".npz") as tmp:     # savez wants the .npz suffix
        np.savez_compressed(tmp, offsets=scores.offsets, scores=scores.scores,
                            words=np.asarray([w for t in scores.texts for w in t], dtype=str),
                            scorer=scores.scorer, seconds=scores.seconds)


def load_scores(path: str | Path) -> WordScores:
    with np.load(path, allow_pickle=False) as z:
        offsets, words = z["offsets"], z["words"].tolist()
        texts = tuple(tuple(words[offsets[i]:offsets[i + 1]]) for i in range(len(offsets) - 1))
        return WordScores(texts, offsets.copy(), z["scores"].copy(), str(z["scorer"]),
                          float(z["seconds"]))
