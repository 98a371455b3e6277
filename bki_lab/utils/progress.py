"""Progress, in one place: tqdm's *text* bar for long loops (`progress`), also inside
Jupyter, and one line per finished item with the time left for runs of many items
(`Progress`, the reproduction tables' rows).

A text bar survives saving and reopening a notebook (the last state is plain text), where
tqdm's notebook widget leaves dead widget models behind ("Error displaying widget: model
not found" on reopening). In a terminal it adapts to the width and goes to stderr; in a
notebook it goes to stdout, is 80 columns wide, stays when done, and is redrawn at most
twice a second.
"""
from __future__ import annotations

import sys
import time
from typing import Callable

from tqdm.std import tqdm


def in_jupyter() -> bool:
    """Whether output goes to a Jupyter kernel: its stdout is ipykernel's stream, or a
    stream that shows in a notebook (``jupyter_live``, e.g. a control's result area)."""
    return (type(sys.stdout).__module__.startswith("ipykernel")
            or getattr(sys.stdout, "jupyter_live", False))


def progress(iterable=None, *, desc: str = "", total: int | None = None, disable: bool = False,
             unit: str = "it", leave: bool = False):
    """``tqdm`` over ``iterable`` (disabled with ``disable=True``): on stderr in a terminal
    or a log, where ``leave=False`` clears it when done; in Jupyter on stdout, always left
    as its last state -- one line of plain text saying what ran, how much and how long
    (JupyterLab draws stderr on pink, which students read as an error)."""
    if in_jupyter():
        return tqdm(iterable, desc=desc, total=total, disable=disable, unit=unit, leave=True,
                    file=sys.stdout, ncols=80, mininterval=0.5)
    tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    return tqdm(iterable, desc=desc, total=total, disable=disable, unit=unit, leave=leave,
                file=sys.stderr, dynamic_ncols=tty, ncols=None if tty else 80,
                mininterval=0.5)


class Progress:
    """'id seed s: ok [3/14 done, 11 left, ~12 min left]' lines for a run of ``total`` rows."""

    def __init__(self, total: int, log: Callable[[str], None]):
        self.total, self.done, self.log, self.t0 = total, 0, log, time.perf_counter()

    def finished(self, rid: str, seed: int, rec: dict) -> None:
        self.done += 1
        left = self.total - self.done
        spent = time.perf_counter() - self.t0
        minutes = spent / self.done * left / 60
        eta = "" if not left else (f", ~{minutes:.0f} min left" if minutes >= 1
                                   else ", <1 min left")
        err = f" ({rec['error']})" if rec.get("status") != "ok" and rec.get("error") else ""
        self.log(f"  {rid} seed {seed}: {rec.get('status')}{err} "
                 f"[{self.done}/{self.total} done, {left} left{eta}]")
