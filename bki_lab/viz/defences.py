"""Plotly figures of the defences: precision against recall per defence and row, the
victim's h_l projected to 2-d with the poisoned texts marked, and a defence's per-text
score histogram.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

if TYPE_CHECKING:
    from bki_lab.bki.removal import Removal

def defences_figure(df: pd.DataFrame, *, profile: str | None = None) -> go.Figure:
    """Precision against recall of every training-set filter, one colour per defence, one
    point per row (clean rows have no recall and are left out); ``profile`` names the
    profile the rows ran at in the title."""
    fig = go.Figure()
    ok = df[df.get("defence", pd.Series(dtype=str)).notna()] if len(df) else df
    for name, g in (ok.groupby("defence", sort=False) if len(ok) else []):
        g = g.dropna(subset=["precision", "recall"])
        if g.empty:
            continue
        fig.add_trace(go.Scatter(x=g["recall"], y=g["precision"], mode="markers", name=name,
                                 text=g["id"], hovertemplate="%{text}<br>recall %{x:.1f}%"
                                 "<br>precision %{y:.1f}%<extra>" + html.escape(name) +
                                 "</extra>", marker=dict(size=10)))
    fig.update_layout(title="Which texts each defence removes: precision vs recall"
                      + (f" ({profile} profile)" if profile else ""),
                      xaxis=dict(title="recall (%)", range=[-5, 105]),
                      yaxis=dict(title="precision (%)", range=[-5, 105]),
                      template="plotly_white", height=460)
    return fig


def hidden_projection(hidden: np.ndarray, labels, is_poison, *, class_names=None,
                      max_points: int = 3000, seed: int = 0) -> go.Figure:
    """The victim's h_l in 2-D (its top two principal components), clean texts by label and
    the poisoned ones apart: where the filters that read h_l can, or cannot, separate them.
    At most ``max_points`` clean texts are drawn (a seeded sample); every poisoned one is."""
    hidden, labels = np.asarray(hidden, np.float64), np.asarray(labels)
    is_poison = np.asarray(is_poison, bool)
    centred = hidden - hidden.mean(0)
    xy = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    rng = np.random.default_rng(seed)
    clean = np.flatnonzero(~is_poison)
    clean = np.sort(rng.choice(clean, size=min(max_points, len(clean)), replace=False))
    names = class_names or [str(c) for c in range(int(labels.max()) + 1)]
    fig = go.Figure()
    for c in np.unique(labels[clean]):
        idx = clean[labels[clean] == c]
        fig.add_trace(go.Scatter(x=xy[idx, 0], y=xy[idx, 1], mode="markers",
                                   name=f"clean, {names[c]}", opacity=0.45,
                                   marker=dict(size=4)))
    idx = np.flatnonzero(is_poison)
    fig.add_trace(go.Scatter(x=xy[idx, 0], y=xy[idx, 1], mode="markers", name="poisoned",
                               marker=dict(size=6, color="crimson", symbol="x")))
    fig.update_layout(title="The victim's h_l, top two principal components",
                      xaxis_title="PC 1", yaxis_title="PC 2", template="plotly_white",
                      height=460)
    return fig


def score_histogram(removal: Removal, labels, is_poison, *, label: int) -> go.Figure:
    """One defence's per-text scores within one class, clean and poisoned texts apart, with
    the lowest score it removed (its cut) marked."""
    labels, is_poison = np.asarray(labels), np.asarray(is_poison, bool)
    in_class = labels == label
    fig = go.Figure()
    for name, mask, colour in (("clean", in_class & ~is_poison, "steelblue"),
                               ("poisoned", in_class & is_poison, "crimson")):
        fig.add_trace(go.Histogram(x=removal.scores[mask], name=name, opacity=0.7,
                                   marker_color=colour, nbinsx=60))
    cut = removal.scores[in_class & removal.removed]
    if len(cut):
        fig.add_vline(x=float(cut.min()), line_dash="dash", annotation_text="removed from here")
    fig.update_layout(barmode="overlay", title=f"{removal.method}: scores within the class",
                      xaxis_title="score", yaxis_title="texts", yaxis_type="log",
                      template="plotly_white", height=400)
    return fig
