"""The committed results: the tables in ``<project>/results`` (`reproduce` writes them;
the notebooks and reports read them)."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

PROJECT_RESULTS = Path(__file__).resolve().parents[2] / "results"


def results_dir() -> Path:
    """``$BKI_LAB_RESULTS`` if set, else ``<project>/results``."""
    env = os.environ.get("BKI_LAB_RESULTS")
    return Path(env).expanduser() if env else PROJECT_RESULTS


def read_results(name: str) -> pd.DataFrame | None:
    """The table ``<results>/<name>.csv`` (e.g. ``"victim-curves"``, ``"defences-quick"``),
    or None when it has not been made yet."""
    path = results_dir() / f"{name}.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path)
