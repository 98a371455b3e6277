"""How a backdoor is learned: test accuracy and attack success rate after every epoch.

A victim whose backdoor is only half learned makes every BKI result fragile (the same seed
gives another keyword on another CPU), so the training recipe is chosen on these curves:
the epoch at which the attack success rate settles, and whether accuracy pays for it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bki_lab.pipeline.attack import poisoned_split
from bki_lab.victims.train import attack_success_rate, evaluate, train_victim

if TYPE_CHECKING:
    from bki_lab.pipeline.config import ExperimentConfig

@dataclass(frozen=True)
class LearningCurve:
    """Per-epoch accuracy and ASR of one victim; ``frame`` has one row per epoch."""

    config: ExperimentConfig
    label: str
    frame: pd.DataFrame          # epoch, accuracy, asr, train_loss, seconds
    n_test: int
    n_backdoor: int

    def __post_init__(self):
        need = {"epoch", "accuracy", "asr", "train_loss", "seconds"}
        if not need <= set(self.frame.columns):
            raise ValueError(f"a learning curve needs the columns {sorted(need)}")

    def to_records(self) -> list[dict]:
        c = self.config
        extra = {"recipe": self.label, "dataset": c.data.dataset, "trigger": c.trigger,
                 "target": c.target, "rate": c.rate, "mode": c.mode, "seed": c.seed,
                 "n_test": self.n_test, "n_backdoor": self.n_backdoor}
        return [{**extra, **row} for row in self.frame.to_dict("records")]


def learning_curve(config: ExperimentConfig, *, label: str = "", n_test: int = 2000,
                   show_progress: bool = False) -> LearningCurve:
    """Train ``config``'s victim for ``config.train.max_epochs`` epochs, measuring after each.

    Test accuracy is taken on a fixed sample of ``n_test`` test texts (every class) and the
    ASR on the config's backdoor test set (``config.n_backdoor`` source-class test texts
    with the trigger). Nothing is cached: this is a measurement of training itself.
    """
    if n_test < 1:
        raise ValueError(f"n_test must be >= 1, got {n_test}")
    split, poisoned, backdoor = poisoned_split(config)
    pick = np.random.default_rng(config.seed).permutation(len(split.test))[:n_test]
    test = split.test.subset(np.sort(pick))

    def measure(epoch, victim):
        return {"accuracy": evaluate(victim, test).accuracy,
                "asr": attack_success_rate(victim, backdoor)}

    if config.train.early_stopping:
        raise ValueError("learning_curve trains a fixed number of epochs: "
                         "use a config without early stopping")
    t0 = time.perf_counter()
    victim = train_victim(poisoned.dataset, config=config.train, show_progress=show_progress,
                          on_epoch=measure)
    frame = pd.DataFrame(list(victim.history))
    frame["total_seconds"] = time.perf_counter() - t0
    return LearningCurve(config, label, frame, len(test), len(backdoor.dataset))
