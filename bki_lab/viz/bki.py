"""Plotly figures of BKI. Every function returns a figure (never shows it).

* `word_impact` / `impact_pair`: a text as a grid of words coloured by f, the top-p outlined,
  the true trigger words marked.
* `dictionary_scatter` / `top_g_bar`: the BKI dictionary, log10(num) against mean f with
  lines of equal g, and the top-k words by g.
* `before_after`: accuracy and ASR before/after retraining, precision/recall of the removal.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bki_lab.utils.records import ACC_AFTER, ACC_BEFORE, ASR_AFTER, ASR_BEFORE

TRIGGER_COLOR = "#d62728"


TOP_COLOR = "#111111"


def _grid(words: Sequence[str], scores: np.ndarray, per_row: int):
    n = len(words)
    rows = max(1, -(-n // per_row))
    z = np.full((rows, per_row), np.nan)
    text = np.full((rows, per_row), "", dtype=object)
    pos = np.full((rows, per_row), -1)
    for j, (w, s) in enumerate(zip(words, scores)):
        z[j // per_row, j % per_row] = s
        text[j // per_row, j % per_row] = w
        pos[j // per_row, j % per_row] = j
    return z, text, pos


def _add_text_heatmap(fig, words, scores, *, top_p, trigger_positions, per_row, zmax,
                      row=None, col=None, showscale=True):
    scores = np.asarray(scores, dtype=float)
    if len(words) != len(scores):
        raise ValueError(f"{len(words)} words but {len(scores)} scores")
    z, text, pos = _grid(words, scores, per_row)
    fig.add_trace(go.Heatmap(
        z=z, text=text, customdata=pos, texttemplate="%{text}", textfont={"size": 11},
        colorscale="YlOrRd", zmin=0, zmax=zmax, xgap=2, ygap=2, showscale=showscale,
        colorbar={"title": {"text": "f(w)"}, "len": 0.8},
        hovertemplate="word %{customdata}: <b>%{text}</b><br>f = %{z:.4f}<extra></extra>"),
        row=row, col=col)
    top = set(np.lexsort((np.arange(len(scores)), -scores))[:top_p].tolist()) if top_p else set()
    trig = set(int(t) for t in (trigger_positions or ()))
    xref = "x" if row is None else fig.get_subplot(row, col).xaxis.plotly_name.replace("axis", "")
    yref = "y" if row is None else fig.get_subplot(row, col).yaxis.plotly_name.replace("axis", "")
    for j in sorted(top | trig):
        r, c = divmod(j, per_row)
        style = dict(color=TOP_COLOR, width=3) if j in top else dict(color=TRIGGER_COLOR, width=2)
        if j in trig:
            style["dash"] = "dot" if j not in top else "solid"
            style["color"] = TRIGGER_COLOR
        fig.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                      line=style, xref=xref, yref=yref)
    return z.shape[0]


def word_impact(words: Sequence[str], scores: Sequence[float], *, top_p: int = 5,
                trigger_positions: Sequence[int] | None = None, per_row: int = 10,
                title: str | None = None) -> go.Figure:
    """One text as a grid of words coloured by its impact score f.

    The ``top_p`` suspicious words have a thick outline (red when they are trigger words);
    trigger words outside the top-p have a dotted red outline.
    """
    scores = np.asarray(scores, dtype=float)
    zmax = float(scores.max()) if len(scores) and scores.max() > 0 else 1.0
    fig = go.Figure()
    rows = _add_text_heatmap(fig, words, scores, top_p=top_p, trigger_positions=trigger_positions,
                             per_row=per_row, zmax=zmax)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    fig.update_layout(title=title or f"Word impact f (top-{top_p} outlined, trigger in red)",
                      height=120 + 34 * rows, margin=dict(l=10, r=10, t=60, b=10),
                      plot_bgcolor="white")
    return fig


def impact_pair(poisoned: tuple, clean: tuple, *, top_p: int = 5, per_row: int = 8,
                titles: tuple[str, str] = ("poisoned text", "clean text")) -> go.Figure:
    """A poisoned and a clean text side by side on one colour scale.

    ``poisoned`` is ``(words, scores, trigger_positions)``; ``clean`` is ``(words, scores)``.
    """
    pw, ps, pt = poisoned
    cw, cs = clean[:2]
    zmax = float(max(np.max(ps), np.max(cs), 1e-9))
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.04)
    r1 = _add_text_heatmap(fig, pw, ps, top_p=top_p, trigger_positions=pt, per_row=per_row,
                           zmax=zmax, row=1, col=1)
    r2 = _add_text_heatmap(fig, cw, cs, top_p=top_p, trigger_positions=None, per_row=per_row,
                           zmax=zmax, row=1, col=2, showscale=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    fig.update_layout(title=f"Word impact f on one scale (top-{top_p} outlined, trigger in red)",
                      height=140 + 30 * max(r1, r2), margin=dict(l=10, r=10, t=80, b=10),
                      plot_bgcolor="white")
    return fig


def label_offsets(x: np.ndarray, y: np.ndarray, *, width: float = 640, height: float = 400,
                  gap: float = 16) -> list[tuple[int, int]]:
    """Pixel offsets (ax, ay) for labels of points at ``x``, ``y`` (fractions of the axes),
    so that no two labels overlap: each label goes 24 px above its point, moved further
    up-and-right while it lies within ``gap`` px of a label already placed."""
    placed: list[tuple[float, float]] = []
    out = []
    for xi, yi in zip(np.asarray(x, float) * width, np.asarray(y, float) * -height):
        ax, ay = 0, -24
        while any(abs(xi + ax - px) < 4 * gap and abs(yi + ay - py) < gap for px, py in placed):
            ax, ay = ax + 10, ay - gap
        placed.append((xi + ax, yi + ay))
        out.append((ax, ay))
    return out


def dictionary_scatter(ranking: pd.DataFrame, *, keyword: str | None = None,
                       trigger: Sequence[str] = (), label_top: int = 8,
                       g_levels: Sequence[float] | None = None, min_num: int = 2,
                       max_words: int = 1500) -> go.Figure:
    """The dictionary: log10(num) against mean f; curves of equal g = mean·log10(num).

    Words picked fewer than ``min_num`` times are left out (num = 1 gives g = 0: they can
    never be the keyword, and there are thousands), and only the ``max_words`` of highest
    g are drawn (the rest crowd the bottom left and bloat a saved notebook); trigger words
    are always drawn. Hover: word, num, mean, g, rank.
    """
    if ranking.empty:
        raise ValueError("the ranking is empty")
    keep = (ranking["num"] >= min_num) & (ranking["rank"] <= max_words)
    df = ranking[keep | ranking["word"].isin(set(trigger))].copy()
    df["log_num"] = np.log10(df["num"])
    trig = set(trigger)
    df["kind"] = np.where(df["word"].isin(trig), "trigger word", "other word")
    fig = go.Figure()
    for kind, color, size in (("other word", "#7f7f7f", 6), ("trigger word", TRIGGER_COLOR, 10)):
        d = df[df["kind"] == kind]
        if d.empty:
            continue
        fig.add_trace(go.Scattergl(
            x=d["log_num"], y=d["mean"], mode="markers", name=kind,
            marker=dict(size=size, color=color, opacity=0.6 if kind == "other word" else 0.95),
            customdata=np.stack([d["word"], d["num"], d["g"], d["rank"]], axis=1),
            hovertemplate="<b>%{customdata[0]}</b><br>num = %{customdata[1]}<br>"
                          "mean f = %{y:.4f}<br>g = %{customdata[2]:.4f}<br>"
                          "rank %{customdata[3]}<extra></extra>"))
    xmax = float(df["log_num"].max()) * 1.05 + 0.05
    ymax = float(df["mean"].max()) * 1.1
    top_g = float(df["g"].max())
    levels = g_levels if g_levels is not None else [top_g * f for f in (0.25, 0.5, 1.0)]
    xs = np.linspace(0.02, xmax, 200)
    for g in levels:
        if g <= 0:
            continue
        fig.add_trace(go.Scatter(x=xs, y=g / xs, mode="lines", line=dict(dash="dot", width=1),
                                 name=f"g = {g:.3g}", hoverinfo="skip"))
    top = df.head(label_top)
    offsets = label_offsets(top["log_num"].to_numpy() / xmax, top["mean"].to_numpy() / ymax)
    for (_, r), (ax, ay) in zip(top.iterrows(), offsets):
        fig.add_annotation(x=r["log_num"], y=r["mean"], text=r["word"], showarrow=True,
                           arrowhead=0, arrowwidth=1, arrowcolor="#999", ax=ax, ay=ay,
                           font=dict(size=11))
    if keyword is not None and keyword in set(df["word"]):
        k = df[df["word"] == keyword].iloc[0]
        fig.add_trace(go.Scatter(x=[k["log_num"]], y=[k["mean"]], mode="markers",
                                 name=f"keyword k_b = {keyword}", hoverinfo="skip",
                                 marker=dict(symbol="star", size=18, color="gold",
                                             line=dict(color="black", width=1))))
    fig.update_layout(title="BKI dictionary: mean score against log10(count), lines of equal g"
                            + (f" (words picked ≥ {min_num} times)" if min_num > 1 else ""),
                      xaxis_title="log10(num)  (how many texts picked the word)",
                      yaxis_title="mean f  (average impact score)",
                      xaxis_range=[-0.05, xmax], yaxis_range=[0, ymax], height=480,
                      legend=dict(orientation="h", y=-0.2))
    return fig


def top_g_bar(ranking: pd.DataFrame, *, k: int = 15, trigger: Sequence[str] = ()) -> go.Figure:
    """The top-k dictionary words by g(k), trigger words in red."""
    d = ranking.head(k).iloc[::-1]
    trig = set(trigger)
    fig = go.Figure(go.Bar(
        x=d["g"], y=d["word"], orientation="h",
        marker_color=[TRIGGER_COLOR if w in trig else "#1f77b4" for w in d["word"]],
        customdata=np.stack([d["num"], d["mean"]], axis=1),
        hovertemplate="<b>%{y}</b><br>g = %{x:.4f}<br>num = %{customdata[0]}"
                      "<br>mean f = %{customdata[1]:.4f}<extra></extra>"))
    fig.update_layout(title=f"Top {len(d)} words by g(k) = mean f · log10(num)",
                      xaxis_title="g(k)", height=140 + 24 * len(d), margin=dict(l=120))
    return fig


def before_after(result) -> go.Figure:
    """Accuracy and ASR before/after retraining, and precision/recall of the removal.

    ``result`` is a `DefenceResult` (or its record, e.g. a row of the reproduction tables).
    """
    summary = result.to_record() if hasattr(result, "to_record") else result
    def pct(v):
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else 100 * v
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38],
                        subplot_titles=("victim before and after retraining", "removal by BKI"))
    for label, keys, color in (("before BKI", (ACC_BEFORE, ASR_BEFORE), "#ff7f0e"),
                               ("after retraining", (ACC_AFTER, ASR_AFTER), "#2ca02c")):
        vals = [pct(summary.get(k)) for k in keys]
        fig.add_trace(go.Bar(x=["clean accuracy", "attack success rate"], y=vals, name=label,
                             marker_color=color, text=[f"{v:.1f}%" if v is not None else "n/a"
                                                       for v in vals],
                             textposition="outside"), row=1, col=1)
    vals = [pct(summary.get("precision")), pct(summary.get("recall")),
            pct(summary.get("removed_fraction"))]
    fig.add_trace(go.Bar(x=["precision", "recall", "removed"], y=vals, name="removal",
                         marker_color="#9467bd", showlegend=False,
                         text=[f"{v:.1f}%" if v is not None else "n/a" for v in vals],
                         textposition="outside"), row=1, col=2)
    fig.update_yaxes(range=[0, 112], title_text="%", row=1, col=1)
    fig.update_yaxes(range=[0, 112], row=1, col=2)
    kw = summary.get("keyword")
    fig.update_layout(barmode="group", height=420,
                      title=f"BKI: keyword {kw!r}, p = {summary.get('p')}" if kw else "BKI")
    return fig
