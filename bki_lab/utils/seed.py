"""The one global-seeding helper, for notebooks and tests (the library itself never seeds a
global generator: every function takes ``seed``)."""
from __future__ import annotations


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
