"""One progress bar for the whole library: tqdm's *text* bar, also inside Jupyter.

A text bar on stderr survives saving and reopening a notebook (the last state is plain
text), where tqdm's notebook widget leaves dead widget models behind ("Error displaying
widget: model not found" / "Loading widget..." on reopening). In a terminal it adapts to
the width; in a notebook it is 80 columns wide and redrawn at most twice a second.
"""
from __future__ import annotations

import sys

from tqdm.std import tqdm


def progress(iterable=None, *, desc: str = "", total: int | None = None, disable: bool = False,
             unit: str = "it", leave: bool = False):
    """``tqdm`` over ``iterable`` on stderr (disabled with ``disable=True``)."""
    tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    return tqdm(iterable, desc=desc, total=total, disable=disable, unit=unit, leave=leave,
                file=sys.stderr, dynamic_ncols=tty, ncols=None if tty else 80,
                mininterval=0.5)
