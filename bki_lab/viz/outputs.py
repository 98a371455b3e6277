"""What a control shows, as ordinary outputs of its cell.

A control's results (text, tables, figures) are written into outputs of the cell that
displayed it, each a display with an id that later results replace in place -- not into an
ipywidgets ``Output``, whose content lives only in the kernel and the browser's widget
state. A notebook saved with JupyterLab's defaults keeps no widget state, so on reopening
an ``Output`` is gone ("Error displaying widget"), while these outputs are saved like any
other and stay visible.
"""
from __future__ import annotations

import sys
import time
import traceback


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:          # pragma: no cover - IPython comes with ipywidgets
        return None
    return get_ipython()


def collapse_redraws(text: str) -> str:
    """Each line as a terminal leaves it: what follows its last carriage return (progress
    bars redraw their line with ``\\r``)."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


class _Publisher:
    """Stands in for the shell's display publisher inside a `ResultArea`."""

    def __init__(self, area: "ResultArea"):
        self.area = area

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False,
                **kwargs):
        self.area.rich.append((dict(data), dict(metadata or {})))
        self.area.publish()

    def clear_output(self, wait=False):
        self.area.clear_output(wait=wait)


class ResultArea:
    """Text (live, progress bars included) and up to ``slots`` rich outputs (tables,
    figures) of the latest result, shown below the control that made it.

    Use it like an ``Output``: ``with area: area.clear_output(); print(...); display(...)``.
    `show` places its outputs (called when the control is displayed); before that, and
    outside Jupyter, it keeps the latest result in ``text`` and ``rich``.
    """

    jupyter_live = True          # `utils.progress.in_jupyter`: bars written here are Jupyter's

    def __init__(self, slots: int = 4):
        self.slots = slots
        self.text = ""
        self.rich: list[tuple[dict, dict]] = []
        self._handles: list = []
        self._published: list[dict] = []       # what each output shows now
        self._saved: list = []
        self._last = 0.0

    def show(self) -> None:
        """Place the area's outputs in the running cell, filled with the latest result
        (placed with it, not updated after: a saved or checked notebook holds it)."""
        from IPython.display import display
        contents = self._contents()
        self._handles = [display(data, metadata=md, raw=True, display_id=True)
                         for data, md in contents]
        self._published = [data for data, _ in contents]
        self._last = time.monotonic()

    def clear_output(self, wait: bool = False) -> None:
        self.text, self.rich = "", []
        if not wait:
            self.publish()

    def write(self, s: str) -> int:
        self.text = collapse_redraws(self.text + s)
        if time.monotonic() - self._last > 0.5:       # live, at most twice a second
            self.publish()
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def __enter__(self) -> "ResultArea":
        shell = _shell()
        self._saved.append((sys.stdout, shell, shell.display_pub if shell else None))
        sys.stdout = self
        if shell is not None:
            shell.display_pub = _Publisher(self)
        return self

    def __exit__(self, kind, value, tb) -> bool:
        stdout, shell, pub = self._saved.pop()
        sys.stdout = stdout
        if shell is not None:
            shell.display_pub = pub
        if kind is not None:                            # shown where the result would be
            self.text += "".join(traceback.format_exception(kind, value, tb))
        self.publish()
        return False

    def publish(self) -> None:
        """Write the latest result into the cell's outputs (when shown)."""
        self._last = time.monotonic()
        if not self._handles:
            return
        shell = _shell()
        inside = bool(self._saved) and shell is not None
        if inside:                  # the updates go to the kernel, not back into this area
            shell.display_pub, ours = self._saved[-1][2], shell.display_pub
        try:
            for k, (handle, (data, md)) in enumerate(zip(self._handles, self._contents())):
                if data == self._published[k]:
                    continue
                if k and set(data) == set(self._published[k]):
                    # the same kind of figure again: JupyterLab hands new data of the same
                    # type to the renderer it has, and plotly's does not redraw; a blank
                    # in between makes a new renderer
                    handle.update({"text/plain": ""}, raw=True)
                handle.update(data, metadata=md, raw=True)
                self._published[k] = data
        finally:
            if inside:
                shell.display_pub = ours

    def _contents(self) -> list[tuple[dict, dict]]:
        """The text, then ``slots`` rich outputs (empty text where there are fewer)."""
        text = self.text
        if len(self.rich) > self.slots:
            text += f"\n({len(self.rich) - self.slots} more outputs not shown)"
        rich = self.rich[:self.slots] + [({"text/plain": ""}, {})] * (self.slots - len(self.rich))
        return [({"text/plain": text.rstrip("\n")}, {}), *rich]
