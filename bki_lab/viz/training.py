"""Plotly figures of training: a victim's loss per epoch, and learning curves (test
accuracy and attack success rate after every epoch).
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def training_history(history: Sequence[dict], *, best_epoch: int | None = None) -> go.Figure:
    """Loss and accuracy per epoch of a training run (`TrainedModel.history`); any extra
    numbers logged by ``on_epoch`` (e.g. ``asr``) are drawn on the accuracy panel."""
    df = pd.DataFrame(list(history))
    if df.empty:
        raise ValueError("empty history")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy / rates"))
    for col in [c for c in ("train_loss", "val_loss") if c in df]:
        fig.add_trace(go.Scatter(x=df["epoch"], y=df[col], name=col.replace("_", " "),
                                 mode="lines+markers"), row=1, col=1)
    for col in [c for c in df.columns if c not in ("epoch", "train_loss", "val_loss", "seconds")
                and pd.api.types.is_numeric_dtype(df[c])]:
        fig.add_trace(go.Scatter(x=df["epoch"], y=100 * df[col], name=col.replace("_", " "),
                                 mode="lines+markers"), row=1, col=2)
    if best_epoch:
        for c in (1, 2):
            fig.add_vline(x=best_epoch, line_dash="dot", line_color="gray", row=1, col=c)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="%", row=1, col=2)
    fig.update_layout(title="Training the victim" + (
        " (dotted: the epoch kept by early stopping)" if "val_loss" in df else ""), height=380)
    return fig


def learning_curves(df: pd.DataFrame, *, rows: Sequence[str] | None = None) -> go.Figure:
    """Per-epoch test accuracy (top) and attack success rate (bottom), one column per row
    of the study and one colour per recipe, one line per seed when the frame has a ``seed``
    column (``results/victim-curves.csv``: columns row, recipe, [seed,] epoch, accuracy, asr)."""
    need = {"row", "recipe", "epoch", "accuracy", "asr"}
    if not need <= set(df.columns) or df.empty:
        raise ValueError(f"learning_curves needs a non-empty frame with columns {sorted(need)}")
    rows = list(dict.fromkeys(df["row"])) if rows is None else list(rows)
    recipes = list(dict.fromkeys(df["recipe"]))
    colours = dict(zip(recipes, px.colors.qualitative.D3))
    fig = make_subplots(rows=2, cols=len(rows), shared_xaxes=True, shared_yaxes=True,
                        subplot_titles=rows, vertical_spacing=0.08, horizontal_spacing=0.03)
    if "seed" not in df:
        df = df.assign(seed=0)
    shown = set()
    for c, row in enumerate(rows, start=1):
        for recipe in recipes:
            mine = df[(df["row"] == row) & (df["recipe"] == recipe)]
            for seed, d in mine.groupby("seed"):
                d = d.sort_values("epoch")
                for r, col in ((1, "accuracy"), (2, "asr")):
                    fig.add_trace(go.Scatter(
                        x=d["epoch"], y=100 * d[col], mode="lines+markers", name=recipe,
                        legendgroup=recipe, showlegend=recipe not in shown,
                        line=dict(color=colours[recipe]),
                        hovertemplate=f"{recipe}, seed {seed}<br>epoch %{{x}}: %{{y:.1f}}%"
                                      "<extra></extra>"), row=r, col=c)
                    shown.add(recipe)
    fig.update_yaxes(title_text="test accuracy %", row=1, col=1)
    fig.update_yaxes(title_text="attack success rate %", range=[0, 102], row=2, col=1)
    fig.update_xaxes(title_text="epoch", row=2)
    fig.update_layout(height=520, legend_title_text="recipe",
                      title="How the backdoor is learned, epoch by epoch")
    return fig
