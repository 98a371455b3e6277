"""The experiment the notebooks show: chosen once (a widget, or ``bki-lab use``), followed
by every notebook.

The choice -- trigger sentence, target, poisoning rate, p, dataset, profile, seed -- is kept
in ``experiment.json`` in the cache directory (``$BKI_LAB_CACHE``), so that every notebook
and every kernel of one user reads the same one; without it (or after
``bki-lab use --default``) the default experiment is shown: chen_dai's "time flies like an
arrow" on IMDB, quick profile.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import get_args

from bki_lab.bki.dictionary import MAX_P
from bki_lab.pipeline.cache import cache_dir
from bki_lab.pipeline.config import SEED_MAX, DatasetName, ExperimentConfig, Profile, make_config
from bki_lab.utils.files import atomic_path

FILE = "experiment.json"


@dataclass(frozen=True)
class Experiment:
    """One experiment as a user chooses it; `config` turns it into an `ExperimentConfig`."""

    trigger: str = "time flies like an arrow"
    target: str = "negative"
    rate: float = 0.03
    p: int = 5
    dataset: DatasetName = "imdb"
    profile: Profile = "quick"
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "trigger", " ".join(str(self.trigger).split()))
        if not self.trigger:
            raise ValueError("the trigger sentence is empty: give at least one word")
        if self.dataset not in get_args(DatasetName) or self.dataset == "csv":
            raise ValueError(f"dataset must be imdb or dbpedia, got {self.dataset!r}")
        if self.profile not in get_args(Profile):
            raise ValueError(f"profile must be one of {get_args(Profile)}, got {self.profile!r}")
        if not 0 < self.rate < 1:
            raise ValueError(f"rate must be in (0, 1), got {self.rate}")
        if not 1 <= self.p <= MAX_P:
            raise ValueError(f"p must be between 1 and {MAX_P}, got {self.p}")
        if not 0 <= self.seed <= SEED_MAX:
            raise ValueError(f"seed must be between 0 and {SEED_MAX}, got {self.seed}")

    @property
    def is_default(self) -> bool:
        return self == Experiment()

    def config(self, **overrides) -> ExperimentConfig:
        """The `ExperimentConfig` of this experiment (``overrides`` go to `make_config`)."""
        return make_config(dataset=self.dataset, profile=self.profile, trigger=self.trigger,
                           target=self.target, rate=self.rate, seed=self.seed, **overrides)

    def describe(self) -> str:
        """One line for the top of a notebook."""
        tag = "the default experiment" if self.is_default else "your experiment"
        return (f"{tag}: trigger {self.trigger!r} -> {self.target}, rate {self.rate:.1%}, "
                f"p = {self.p}, {self.dataset}, {self.profile} profile, seed {self.seed}")


def experiment_file() -> Path:
    return cache_dir() / FILE


def current_experiment() -> Experiment:
    """The chosen experiment, or the default when none was chosen. A damaged file is an
    error naming it (fix it with ``bki-lab use --default``)."""
    path = experiment_file()
    if not path.exists():
        return Experiment()
    try:
        fields = json.loads(path.read_text())
        return Experiment(**fields)
    except (OSError, ValueError, TypeError) as e:
        raise ValueError(f"{path} does not hold an experiment ({e}); choose one again, or "
                         f"`bki-lab use --default`") from None


def use_experiment(experiment: Experiment | None = None, **changes) -> Experiment:
    """Make ``experiment`` (or the current one with ``changes``) the one every notebook shows;
    ``use_experiment(Experiment())`` goes back to the default. The target is checked against
    the dataset's classes before anything is written."""
    chosen = replace(experiment or current_experiment(), **changes)
    chosen.config()                     # a bad trigger, target or rate fails here, not later
    _check_target(chosen)
    path = experiment_file()
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(asdict(chosen), indent=1) + "\n")
    return chosen


def _check_target(e: Experiment) -> None:
    from bki_lab.data.dbpedia import DBPEDIA_CLASSES
    from bki_lab.data.imdb import IMDB_CLASSES
    names = IMDB_CLASSES if e.dataset == "imdb" else DBPEDIA_CLASSES
    if e.target.lower() not in [n.lower() for n in names]:
        raise ValueError(f"unknown target {e.target!r} for {e.dataset}; choose one of "
                         f"{list(names)}")
