"""What an experiment is: data sizes, the named training recipes, one frozen
`ExperimentConfig` per attack (and defence), and `make_config` from a profile, a recipe, a
trigger preset and overrides.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal, get_args

from bki_lab.attack.poison import Mode, Position
from bki_lab.attack.presets import MULTI_PRESETS, PRESETS
from bki_lab.data.glove import find_glove
from bki_lab.victims.train import TrainConfig

Profile = Literal["class", "quick", "paper"]


SEED_MAX = 2**32 - 1              # numpy's and torch's seeds: 0 .. 2**32 - 1


DatasetName = Literal["imdb", "dbpedia", "csv"]


@dataclass(frozen=True)
class DataConfig:
    """Which texts. ``per_class`` says how ``n_train``/``n_test`` count: totals for IMDB
    (half per class), per class for DBpedia (chen_dai: 1,000 + 500 per class); a CSV is
    used whole (``path`` with ``text_column``/``label_column``; 20% of it, or ``test_path``,
    is the test set)."""

    dataset: DatasetName = "imdb"
    n_train: int = 10_000
    n_test: int = 10_000
    per_class: bool = False
    max_words: int = 500
    seed: int = 0
    path: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    test_path: str | None = None

    def __post_init__(self):
        if self.dataset not in get_args(DatasetName):
            raise ValueError(f"dataset must be one of {get_args(DatasetName)}, "
                             f"got {self.dataset!r}")
        if (self.dataset == "csv") != (self.path is not None):
            raise ValueError("a CSV dataset needs a path, and only a CSV dataset takes one")
        if self.per_class != (self.dataset == "dbpedia"):
            raise ValueError(f"{self.dataset} sizes are counted "
                             f"{'per class' if self.dataset == 'dbpedia' else 'in total'}: "
                             f"per_class={self.dataset == 'dbpedia'}")
        for name in ("n_train", "n_test", "max_words"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


# The papers' sizes, and a quick profile that runs in a few minutes on a 2-core CPU.
_DATA = {
    ("imdb", "paper"): dict(n_train=10_000, n_test=10_000, max_words=500),
    # small sets of long texts make the model memorise the poisoned texts instead of
    # learning the trigger (2,000 reviews: ASR ~30%); many short reviews learn it quickly
    ("imdb", "quick"): dict(n_train=8_000, n_test=2_000, max_words=150),
    # a lesson's profile: the quick profile's reviews, a smaller victim; a new trigger
    # trains in under a minute on one CPU thread and is still learned fully
    # (benchmarks/class_profile.py). 4,000 reviews < 120 words learned triggers of common
    # words only to ASR 70-94% (8 of 20 under 95%): the number of poisoned copies counts
    ("imdb", "class"): dict(n_train=8_000, n_test=1_000, max_words=150),
    ("dbpedia", "paper"): dict(n_train=1_000, n_test=500, max_words=500),
    ("dbpedia", "quick"): dict(n_train=300, n_test=100, max_words=500),
    ("dbpedia", "class"): dict(n_train=150, n_test=50, max_words=120),
    ("csv", "paper"): dict(), ("csv", "quick"): dict(), ("csv", "class"): dict(),  # used whole
}


Recipe = Literal["bki-lab", "authors-code", "early-stopping"]


# How the victim is trained and poisoned: named recipes, each (dataset, profile) -> the
# poisoning mode and the `TrainConfig` fields it sets. Measured per epoch in
# results/victim-curves.csv (scripts/victim_curves.py); see results/victim-curves.md.
# * "bki-lab" (default): the BKI authors' protocol -- poisoned copies *appended* (each keeps
#   its clean twin with the true label), no dropout, a fixed number of epochs and the last
#   weights kept, the learning rate decayed to 0 (cosine) so that the last weights have
#   settled -- with our fine-tuned vectors and small batches on IMDB, which learn the
#   backdoor fully; frozen vectors on DBpedia (fine-tuned vectors let every rare trigger
#   word carry the backdoor alone, and BKI then misses it).
# * "authors-code": the released Keras code as far as it is a training recipe: frozen
#   GloVe, 10,000-word vocabulary, batch 128, 25 epochs, no dropout, append.
# * "early-stopping": our earlier recipe (replace, early stopping on validation accuracy),
#   kept to show what a half-learned backdoor does to BKI.
RECIPES: dict[str, dict[tuple[str, str], dict]] = {
    "bki-lab": {
        ("imdb", "paper"): dict(mode="append", hidden=128, dropout=0.0, max_epochs=8,
                                lr_schedule="cosine"),
        ("imdb", "quick"): dict(mode="append", hidden=64, dropout=0.0, max_epochs=10,
                                lr_schedule="cosine"),
        # the authors' 10,000-word cap: without it dbpedia-aspects reaches ASR 45-54%
        # (results/curves/, victim-curves.*), with it 95.9 / 98.6% at seeds 0 / 1
        ("dbpedia", "paper"): dict(mode="append", hidden=128, dropout=0.0, max_epochs=25,
                                   freeze_embedding=True, lr_schedule="cosine",
                                   max_vocab=10_000),
        ("dbpedia", "quick"): dict(mode="append", hidden=64, dropout=0.0, max_epochs=25,
                                   freeze_embedding=True, lr_schedule="cosine"),
        # a lesson's victim: BiLSTM-32 at 4x the learning rate, held for the first half of
        # 14 epochs, then decayed, in batches of up to 64 reviews (~6,400 words): fewer,
        # larger steps buy 14 epochs in less time than 12 in batches of 32, and lift the
        # triggers learned last (benchmarks/class_profile.py)
        ("imdb", "class"): dict(mode="append", hidden=32, dropout=0.0, max_epochs=14,
                                lr=4e-3, lr_schedule="cosine", lr_hold=0.5, max_batch=64,
                                batch_tokens=6400),
        ("dbpedia", "class"): dict(mode="append", hidden=32, dropout=0.0, max_epochs=25,
                                   freeze_embedding=True, lr_schedule="cosine"),
    },
    "authors-code": {(d, p): dict(mode="append", hidden=128 if p == "paper" else 64,
                                  dropout=0.0, max_epochs=25, freeze_embedding=True,
                                  batch_size=128, max_vocab=10_000)
                     for d in ("imdb", "dbpedia") for p in get_args(Profile)},
    "early-stopping": {
        (d, p): dict(mode="replace", hidden=128 if p == "paper" else 64, dropout=0.0,
                     early_stopping=True, monitor="val_accuracy",
                     max_epochs=30 if d == "dbpedia" else 12, patience=4 if d == "dbpedia" else 3,
                     freeze_embedding=d == "dbpedia")
        for d in ("imdb", "dbpedia") for p in get_args(Profile)},
}


@dataclass(frozen=True)
class ExperimentConfig:
    """One attack (and defence) setting; saved as ``config.json`` next to its results.

    One ``seed`` drives everything: which texts are drawn (``data.seed``), which are
    poisoned and where, the backdoor test set, and training (``train.seed``). The two
    sub-configs' seeds are set from it here, so ``dataclasses.replace(config, seed=1)``
    changes all of them (the derivation: every stage uses ``seed`` itself, each with its
    own generator).
    """

    data: DataConfig = DataConfig()
    trigger: str = "time flies like an arrow"
    target: str = "negative"
    rate: float = 0.03
    position: Position = "random"
    mode: Mode = "append"
    n_backdoor: int = 1000
    seed: int = 0
    train: TrainConfig = TrainConfig()
    profile: Literal["class", "quick", "paper", "custom"] = "custom"
    recipe: Literal["bki-lab", "authors-code", "early-stopping", "custom"] = "custom"
    # more backdoors in the same training set: (trigger, target, rate) each (`poison_many`)
    extra: tuple[tuple[str, str, float], ...] = ()

    @property
    def backdoors(self) -> tuple[tuple[str, str, float], ...]:
        """Every (trigger, target, rate) of this config, the main one first."""
        return ((self.trigger, self.target, self.rate), *self.extra)

    def __post_init__(self):
        object.__setattr__(self, "extra", tuple((str(t), str(c), float(r))
                                                for t, c, r in self.extra))
        if self.extra and self.rate == 0:
            raise ValueError("extra backdoors need a main one (rate > 0)")
        for name, allowed in (("position", get_args(Position)), ("mode", get_args(Mode)),
                              ("profile", (*get_args(Profile), "custom")),
                              ("recipe", (*get_args(Recipe), "custom"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not 0 <= self.rate < 1:
            raise ValueError(f"rate must be in [0, 1), got {self.rate}")
        if not isinstance(self.seed, int) or not 0 <= self.seed <= SEED_MAX:
            raise ValueError(f"seed must be an integer between 0 and {SEED_MAX}, got "
                             f"{self.seed!r}")
        if self.n_backdoor < 1:
            raise ValueError(f"n_backdoor must be >= 1, got {self.n_backdoor}")
        if self.data.seed != self.seed:
            object.__setattr__(self, "data", replace(self.data, seed=self.seed))
        if self.train.seed != self.seed:
            object.__setattr__(self, "train", replace(self.train, seed=self.seed))


def make_config(*, dataset: DatasetName = "imdb", profile: Profile = "quick",
                preset: str | None = None, trigger: str | None = None,
                target: str | None = None, rate: float | None = None, seed: int = 0,
                n_train: int | None = None, n_test: int | None = None,
                n_backdoor: int = 1000, position: Position = "random",
                mode: Mode | None = None, recipe: Recipe = "bki-lab",
                csv: dict | None = None, **train_overrides) -> ExperimentConfig:
    """An `ExperimentConfig` from a profile, a recipe, a trigger preset and overrides.

    ``preset`` names one of `attack.presets.PRESETS` (its dataset, trigger, target and rate);
    explicit ``trigger``/``target``/``rate`` win over it. ``n_train``/``n_test`` override
    the profile's data sizes (IMDB: totals; DBpedia: per class). ``dataset="csv"`` takes
    ``csv=dict(path=..., text_column=..., label_column=..., test_path=...)`` and trains
    like IMDB (fine-tuned vectors). ``recipe`` names one of
    `RECIPES` (poisoning mode and training settings); ``mode`` and ``train_overrides``
    (`TrainConfig` fields, e.g. ``hidden=64``, ``max_epochs=5``) win over it. On the paper
    profile the papers' GloVe 6B 100-d vectors are used when `glove.find_glove` finds the
    file, else the bundled 50-d (the victim records which).
    """
    for name, value, allowed in (("profile", profile, Profile), ("recipe", recipe, Recipe),
                                 ("dataset", dataset, DatasetName)):
        if value not in get_args(allowed):
            raise ValueError(f"{name} must be one of {get_args(allowed)}, got {value!r}")
    extra: tuple = ()
    if preset in MULTI_PRESETS:
        first, *more = (PRESETS[n] for n in MULTI_PRESETS[preset])
        extra = tuple((p.trigger, p.target, p.rate) for p in more)
        preset = first.name
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; presets: "
                             f"{sorted(PRESETS) + sorted(MULTI_PRESETS)}")
        ps = PRESETS[preset]
        dataset = ps.dataset
        trigger = trigger if trigger is not None else ps.trigger
        target = target if target is not None else ps.target
        rate = rate if rate is not None else ps.rate
    if trigger is None or target is None or rate is None:
        raise ValueError("give a preset, or a trigger, a target and a rate")
    sizes = dict(_DATA[(dataset, profile)])
    sizes.update({k: v for k, v in (("n_train", n_train), ("n_test", n_test)) if v is not None})
    if (dataset == "csv") != (csv is not None):
        raise ValueError("dataset='csv' needs csv=dict(path=..., text_column=..., "
                         "label_column=...), and only it")
    data = DataConfig(dataset=dataset, seed=seed, per_class=dataset == "dbpedia", **sizes,
                      **(csv or {}))
    settings = dict(RECIPES[recipe][("imdb" if dataset == "csv" else dataset, profile)])
    recipe_mode = settings.pop("mode")
    if profile == "paper" and "glove_path" not in train_overrides:
        found = find_glove(100)
        if found is not None:
            settings["glove_path"] = str(found)
    if train_overrides.get("early_stopping") and "lr_schedule" not in train_overrides:
        settings["lr_schedule"] = "constant"      # a schedule needs a known end
    train = TrainConfig(seed=seed, **{**settings, **train_overrides})
    return ExperimentConfig(data=data, trigger=trigger, target=target, rate=float(rate),
                            position=position, mode=mode or recipe_mode, recipe=recipe,
                            seed=seed, train=train, profile=profile, n_backdoor=n_backdoor,
                            extra=extra)


def config_dict(config: ExperimentConfig) -> dict:
    return asdict(config)
