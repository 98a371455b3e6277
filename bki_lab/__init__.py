"""bki_lab: trigger-sentence backdoors on LSTM text classifiers and the BKI defence.

Modules: text, data, download, files, glove, poison, models, train, curves, scoring, bki,
authors, verdict, backdoors, filters, strip, comparison, store, experiments, defence, evidence, plots, widgets, papers,
reproduce, runner, report, notebook_files, progress, cli (see the README).
"""
__version__ = "0.1.0"


def set_seed(seed: int = 0) -> None:
    """Seed torch, numpy's legacy global and Python's random (for notebooks and tests).

    The library itself never relies on global seeds: every function takes ``seed``.
    """
    import random

    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
