"""Notebooks saved without widget state still read well: a Jupyter server pre-save hook.

JupyterLab saves no widget state by default, so a widget's view in a saved notebook points
at a model that is gone when the notebook is reopened ("Error displaying widget: model not
found"). `drop_dead_widgets` replaces each such view, as the notebook is saved, by a line
saying how to get the controls back; the results the controls made are ordinary outputs
(`outputs.ResultArea`) and are saved as they are. ``scripts/setup.sh`` installs it for the
project's Jupyter server (``ContentsManager.pre_save_hook``) with ``python -m
bki_lab.viz.saving install <prefix>/etc/jupyter/jupyter_server_config.json``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CONTROLS_GONE = "(the controls: run this cell again to use them)"


def drop_dead_widgets(model: dict, **kwargs) -> None:
    """Pre-save hook (``ContentsManager.pre_save_hook``): in a notebook ``model``, each
    widget view whose state is not saved with it becomes the text `CONTROLS_GONE`."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    nb = model["content"]
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.get("cells", []):
        for out in cell.get("outputs") or []:
            view = (out.get("data") or {}).get(WIDGET_VIEW)
            if view and view.get("model_id") and view["model_id"] not in state:
                out["data"] = {"text/plain": CONTROLS_GONE}


HOOK = "bki_lab.viz.saving.drop_dead_widgets"


def install(config: str | Path) -> None:
    """Set the hook in a Jupyter server JSON config file, keeping everything else in it."""
    config = Path(config)
    try:
        settings = json.loads(config.read_text()) if config.exists() else {}
    except ValueError as e:
        raise SystemExit(f"{config}: not JSON ({e}); not changed") from None
    settings.setdefault("ContentsManager", {})["pre_save_hook"] = HOOK
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(settings, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "install":
        raise SystemExit("usage: python -m bki_lab.viz.saving install CONFIG.json")
    install(sys.argv[2])
