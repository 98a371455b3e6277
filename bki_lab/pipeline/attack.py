"""Experiments: one frozen config (`config.py`) -> data -> poisoning -> victim -> BKI ->
retrained victim.

The papers' stages are wired here (`run_attack`) and in `defence.py` (`run_defence`); every
trained model and every score table is cached under a hash of the settings that made it.
The configuration names stay importable from here.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bki_lab.attack.poison import backdoor_test_set, poison_dataset, poison_many
from bki_lab.data.csvfile import load_csv
from bki_lab.data.datasets import data_dir
from bki_lab.data.dbpedia import load_dbpedia
from bki_lab.data.imdb import load_imdb
from bki_lab.pipeline.cache import (
    cache_dir,
    data_digest,
    load_or_compute,
    load_victim,
    save_victim,
    victim_key,
)
from bki_lab.victims.train import attack_success_rate, evaluate, train_victim

if TYPE_CHECKING:
    from bki_lab.attack.poison import PoisonedDataset
    from bki_lab.data.datasets import Split, TextDataset
    from bki_lab.pipeline.config import DataConfig, ExperimentConfig
    from bki_lab.victims.train import TrainConfig, TrainedModel

def load_split(data: DataConfig) -> Split:
    """The train/test split of ``data``, kept in memory per data directory and per version
    of the user's files (a CSV edited since is read again)."""
    return _load_split(data, str(data_dir()), _stamps(data))


def _stamps(data: DataConfig) -> tuple:
    """(path, size, mtime) of the files a CSV dataset is read from: part of the memo key."""
    stamps = []
    for p in (data.path, data.test_path):
        if p is not None and os.path.exists(p):
            st = os.stat(p)
            stamps.append((str(Path(p).resolve()), st.st_size, st.st_mtime_ns))
    return tuple(stamps)


@lru_cache(maxsize=4)
def _load_split(data: DataConfig, root: str, stamps: tuple) -> Split:
    if data.dataset == "imdb":
        return load_imdb(n_train=data.n_train, n_test=data.n_test, max_words=data.max_words,
                         seed=data.seed)
    if data.dataset == "csv":
        split = load_csv(data.path, text_column=data.text_column,
                         label_column=data.label_column, test_path=data.test_path,
                         max_words=data.max_words, seed=data.seed)
    else:
        split = load_dbpedia(n_train_per_class=data.n_train, n_test_per_class=data.n_test,
                             seed=data.seed, max_words=data.max_words)
    for note in split.meta.get("notes", ()):
        print(f"bki_lab: {note}", file=sys.stderr)
    return split


def cached_victim(train: TextDataset, config: TrainConfig, *, digest: str | None = None,
                  use_cache: bool = True, show_progress: bool = True,
                  label: str = "training", device: str = "cpu") -> TrainedModel:
    """Train on ``train`` with ``config``, or load the victim cached for exactly these;
    the victim is returned on ``device``.

    The key is `cache.victim_key` (the data's digest and the settings, not the device: a
    victim trained on CUDA is the same experiment, not the same bits); a damaged or
    mismatched entry is reported once on stderr and retrained.
    """
    digest = digest or data_digest(train)

    def load(directory):
        victim = load_victim(directory, digest=digest)
        victim.model.to(device)
        return victim
    return load_or_compute(
        cache_dir() / "victims" / victim_key(digest, config), load=load,
        compute=lambda: train_victim(train, config=config, show_progress=show_progress,
                                     label=label, device=device),
        save=lambda victim, directory: save_victim(victim, directory, digest=digest),
        use_cache=use_cache)


@dataclass(frozen=True)
class AttackResult:
    config: ExperimentConfig
    split: Split
    poisoned: PoisonedDataset
    backdoor: PoisonedDataset
    victim: TrainedModel
    clean_accuracy: float
    per_class_accuracy: dict
    attack_success_rate: float | None
    seconds: float
    key: str
    clean_model_accuracy: float | None = None
    backdoors: tuple[PoisonedDataset, ...] = ()        # every trigger's backdoor test set
    asr_each: tuple[float | None, ...] = ()             # ASR of each trigger
    clean_target_rates: tuple[float | None, ...] | None = None   # the clean model's, same texts
    asr_note: str | None = None      # why the ASR is None, when it is

    def to_record(self) -> dict:
        """The one flat JSON/CSV record of this result (the edge where types end)."""
        c = self.config
        return {"dataset": c.data.dataset, "profile": c.profile,
                "n_train": len(self.poisoned.dataset), "n_test": len(self.split.test),
                "n_poison": self.poisoned.n_poison, "poison_rate": c.rate,
                "trigger": c.trigger, "target": c.target, "seed": c.seed,
                "clean_accuracy": self.clean_accuracy,
                "attack_success_rate": self.attack_success_rate,
                "clean_model_accuracy": self.clean_model_accuracy,
                "per_class_accuracy": self.per_class_accuracy,
                "best_epoch": self.victim.best_epoch, "glove_coverage": self.victim.glove_coverage,
                "test_source": self.split.meta.get("test_source"),
                "dropped_empty": self.split.meta.get("dropped_empty", 0),
                "cut_long": self.split.meta.get("cut_long", 0),
                **({"asr_note": self.asr_note} if self.asr_note else {}),
                **({"triggers": [list(b) for b in c.backdoors], "asr_each": list(self.asr_each),
                    "clean_target_rates": self.clean_target_rates} if c.extra else {}),
                "seconds": self.seconds}


def measure_asr(victim, backdoor) -> float | None:
    """The ASR of ``victim`` on ``backdoor``, or None when it cannot be measured."""
    return _asr_and_note(victim, backdoor)[0]


def _asr_and_note(victim, backdoor) -> tuple[float | None, str | None]:
    """The ASR, or None and why it cannot be measured (no trigger word is in the victim's
    vocabulary)."""
    try:
        return attack_success_rate(victim, backdoor), None
    except ValueError as e:
        return None, (f"{e} (a word enters it when it occurs in at least "
                      f"{victim.config.min_freq} training texts: poison more texts)")


def poisoned_split(config: ExperimentConfig) -> tuple[Split, PoisonedDataset, PoisonedDataset]:
    """The config's data split, its poisoned training set and its backdoor test set (the
    main trigger's; `backdoor_sets` gives every trigger's)."""
    split = load_split(config.data)
    if config.extra:
        poisoned = poison_many(split.train, backdoors=config.backdoors,
                               position=config.position, mode=config.mode, seed=config.seed)
    else:
        poisoned = poison_dataset(split.train, trigger=config.trigger, target=config.target,
                                  rate=config.rate, position=config.position,
                                  mode=config.mode, seed=config.seed)
    return split, poisoned, backdoor_sets(config, split)[0]


def backdoor_sets(config: ExperimentConfig, split: Split) -> tuple[PoisonedDataset, ...]:
    """One backdoor test set per trigger of the config (ASR of each)."""
    return tuple(backdoor_test_set(split.test, trigger=t, target=c, n=config.n_backdoor,
                                   position=config.position, seed=config.seed + k)
                 for k, (t, c, _) in enumerate(config.backdoors))


def run_attack(config: ExperimentConfig, *, clean_baseline: bool = False,
               use_cache: bool = True, show_progress: bool = True,
               device: str = "cpu") -> AttackResult:
    """Poison the training set, train (or load) the victim, measure accuracy and ASR.
    The victim is trained and kept on ``device`` ("cpu" or "cuda")."""
    t0 = time.perf_counter()
    split, poisoned, backdoor = poisoned_split(config)
    digest = data_digest(poisoned.dataset)
    victim = cached_victim(poisoned.dataset, config.train, digest=digest, use_cache=use_cache,
                           show_progress=show_progress, device=device)
    key = victim_key(digest, config.train)
    ev = evaluate(victim, split.test)
    sets = (backdoor, *backdoor_sets(config, split)[1:]) if config.extra else (backdoor,)
    clean_acc = clean_rates = None
    if clean_baseline:
        clean = cached_victim(split.train, config.train, use_cache=use_cache,
                              show_progress=show_progress, label="clean baseline",
                              device=device)
        clean_acc = evaluate(clean, split.test).accuracy
        # how often the clean model already predicts each target on the triggered texts
        clean_rates = tuple(measure_asr(clean, b) for b in sets)
    asr, note = _asr_and_note(victim, backdoor)
    each = (asr, *(measure_asr(victim, b) for b in sets[1:]))    # sets[0] is ``backdoor``
    if note:
        print(f"bki_lab: ASR not measured: {note}", file=sys.stderr)
    return AttackResult(config, split, poisoned, backdoor, victim, ev.accuracy,
                        ev.per_class_accuracy, asr,
                        time.perf_counter() - t0, key, clean_acc, sets,
                        each, clean_rates, note)
