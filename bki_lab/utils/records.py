"""Records at the edge where types end: strict JSON (no ``NaN``), written atomically, and
the column names every attack and defence record shares (each spelled here only).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bki_lab.utils.files import atomic_path

# The columns of every defence record: the victim before the defence and retrained after it
ACC_BEFORE = "acc_before"          # clean test accuracy of the poisoned victim
ASR_BEFORE = "asr_before"          # its attack success rate
ACC_AFTER = "acc_after"            # clean test accuracy of the victim retrained after removal
ASR_AFTER = "asr_after"            # its attack success rate


def write_json(path: Path, obj: Any) -> None:
    """Write strict JSON atomically (temp file + rename): no partial file is ever left, and
    a number that is not finite (a rate of nothing, say) is written as ``null``, never as
    ``NaN`` or ``Infinity``, which JSON does not have."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(finite(obj), indent=2, default=_json_default,
                                  allow_nan=False) + "\n")


def finite(obj: Any) -> Any:
    """``obj`` with every non-finite float (nested in dicts, lists, tuples) as None."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def _json_default(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, np.ndarray):
        return finite(x.tolist())
    if hasattr(x, "__dataclass_fields__"):
        return finite(asdict(x))
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
