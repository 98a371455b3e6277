"""Where a victim trains, predicts and is scored: ``"cpu"``, ``"cuda"`` or ``"auto"``."""
from __future__ import annotations

from typing import Literal

DeviceChoice = Literal["auto", "cpu", "cuda"]


def resolve_device(name: DeviceChoice) -> str:
    """``"cpu"`` or ``"cuda"`` for ``name``; ``"auto"`` is CUDA when available.

    Raises ValueError for ``"cuda"`` where no CUDA device is available, or an unknown name.
    """
    import torch
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available here (use cpu or auto)")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {name!r}")
    return name
