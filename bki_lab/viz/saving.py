"""Notebooks saved without widget state still read well: a Jupyter server pre-save hook.

JupyterLab saves no widget state by default, so a widget's view in a saved notebook points
at a model that is gone when the notebook is reopened ("Error displaying widget: model not
found"). `drop_dead_widgets` replaces each such view, as the notebook is saved, by a line
saying how to get the controls back; the results the controls made are ordinary outputs
(`outputs.ResultArea`) and are saved as they are. ``scripts/setup.sh`` installs it for the
project's Jupyter server (``ContentsManager.pre_save_hook``).
"""
from __future__ import annotations

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
