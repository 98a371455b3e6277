"""Progress, in one place: tqdm's *text* bar for long loops (`progress`), also inside
Jupyter, and one line per finished item with the time left for runs of many items
(`Progress`, the reproduction tables' rows).

A text bar on stderr survives saving and reopening a notebook (the last state is plain
text), where tqdm's notebook widget leaves dead widget models behind ("Error displaying
widget: model not found" / "Loading widget..." on reopening). In a terminal it adapts to
the width; in a notebook it is 80 columns wide and redrawn at most twice a second.
"""
from __future__ import annotations

import sys
import time
from typing import Callable

from tqdm.std import tqdm


def progress(iterable=None, *, desc: str = "", total: int | None = None, disable: bool = False,
             unit: str = "it", leave: bool = False):
    """``tqdm`` over ``iterable`` on stderr (disabled with ``disable=True``)."""
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
