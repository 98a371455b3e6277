"""Typed results to a file and back: a tree of frozen dataclasses, tuples, dicts, numbers,
strings and numpy arrays saved as one ``.npz`` (the arrays, plus the tree as JSON), for
caching results that are not victims or scores (the verdict).

Only the dataclasses named in ``types`` are rebuilt; anything else in a file is refused, so
loading never runs code from the file (no pickle).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from bki_lab.utils.files import atomic_path


def save_tree(obj: Any, path: str | Path) -> None:
    """Save ``obj`` (see the module's docstring for what it may hold) to ``path`` (.npz),
    atomically."""
    arrays: dict[str, np.ndarray] = {}
    tree = json.dumps(_encode(obj, arrays), allow_nan=False)
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, __tree__=np.array(tree), **arrays)


def load_tree(path: str | Path, *, types: dict[str, type]) -> Any:
    """The object `save_tree` saved at ``path``; ``types`` names the dataclasses it may
    hold. ValueError on a file it did not write or a type not in ``types``."""
    with np.load(path, allow_pickle=False) as z:
        if "__tree__" not in z.files:
            raise ValueError(f"{path} holds no saved result")
        arrays = {k: z[k].copy() for k in z.files if k != "__tree__"}
        tree = json.loads(str(z["__tree__"]))
    return _decode(tree, arrays, types)


def _encode(x, arrays: dict):
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            raise TypeError("arrays of Python objects cannot be saved")
        key = f"a{len(arrays)}"
        arrays[key] = x
        return {"__array__": key}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {"__type__": type(x).__name__,
                "fields": {f.name: _encode(getattr(x, f.name), arrays)
                           for f in dataclasses.fields(x) if f.init}}
    if isinstance(x, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in x]}
    if isinstance(x, list):
        return [_encode(v, arrays) for v in x]
    if isinstance(x, dict):
        return {"__dict__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in x.items()]}
    raise TypeError(f"cannot save a {type(x).__name__}")


def _decode(x, arrays: dict, types: dict[str, type]):
    if isinstance(x, list):
        return [_decode(v, arrays, types) for v in x]
    if not isinstance(x, dict):
        return x
    if "__array__" in x:
        return arrays[x["__array__"]]
    if "__tuple__" in x:
        return tuple(_decode(v, arrays, types) for v in x["__tuple__"])
    if "__dict__" in x:
        return {_decode(k, arrays, types): _decode(v, arrays, types) for k, v in x["__dict__"]}
    if "__type__" in x:
        cls = types.get(x["__type__"])
        if cls is None:
            raise ValueError(f"unexpected type {x['__type__']!r} in a saved result")
        return cls(**{k: _decode(v, arrays, types) for k, v in x["fields"].items()})
    raise ValueError("not a saved result")
