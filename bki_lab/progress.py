"""One progress bar for the whole library (tqdm; the notebook widget inside Jupyter)."""
from __future__ import annotations

from tqdm.auto import tqdm


def progress(iterable=None, *, desc: str = "", total: int | None = None, disable: bool = False,
             unit: str = "it"):
    return tqdm(iterable, desc=desc, total=total, disable=disable, unit=unit, leave=False,
                dynamic_ncols=True, mininterval=0.5)
