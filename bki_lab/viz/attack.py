"""dai2019's figures: attack success rate against poisoning rate (its Fig. 4), and a
reproduction's rows beside the paper's numbers.

* `asr_vs_rate`: one line per trigger length (and direction), seeds averaged.
* `attack_vs_paper`: ASR against rate per direction, ours solid and the paper's dotted, and
  test accuracy against rate with both clean baselines as horizontal lines.
"""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bki_lab.utils.records import ACC_BEFORE, ASR_BEFORE


def asr_vs_rate(df: pd.DataFrame, *, x: str = "poison_rate", y: str = "attack_success_rate",
                group: str = "trigger_length", dash: str | None = None) -> go.Figure:
    """Attack success rate against poisoning rate, a line per trigger length (dai2019 Fig. 4).

    With ``dash`` (e.g. the attack direction) each of its values gets its own line style.

    ``df`` has one row per run; rows of the same (group, dash, x) are averaged, with the
    standard deviation as error bars when there are several seeds.
    """
    for col in (x, y, group) + ((dash,) if dash else ()):
        if col not in df.columns:
            raise ValueError(f"missing column {col!r}")
    keys = [group] + ([dash] if dash else [])
    styles = {v: ("solid", "dash", "dot", "dashdot")[k % 4]
              for k, v in enumerate(sorted(df[dash].unique()))} if dash else {}
    fig = go.Figure()
    for name, d in df.groupby(keys, sort=True):
        stats = d.groupby(x)[y].agg(["mean", "std", "count"]).reset_index()
        name = name if isinstance(name, tuple) else (name,)
        fig.add_trace(go.Scatter(
            x=100 * stats[x], y=100 * stats["mean"], mode="lines+markers",
            name=" / ".join(str(v) for v in name),
            error_y=dict(type="data", array=100 * stats["std"].fillna(0), visible=True),
            line=dict(dash=styles[name[1]] if dash else "solid"),
            hovertemplate="rate %{x:.1f}%<br>ASR %{y:.1f}%<extra></extra>"))
    fig.update_layout(title="Attack success rate against poisoning rate",
                      xaxis_title="poisoning rate (%)", yaxis_title="attack success rate (%)",
                      yaxis_range=[0, 102], legend_title=group.replace("_", " "), height=420)
    return fig


_NEEDED = ("target", "trigger_length", "poison_rate", ASR_BEFORE, "paper_asr_before",
           ACC_BEFORE, "paper_acc_before")


def attack_vs_paper(df: pd.DataFrame, *, clean_acc: float | None = None,
                    paper_clean_acc: float | None = None) -> go.Figure:
    """dai2019 Tables 2-3 reproduced, beside the paper (all numbers in percent).

    ``df``: the attack-table2 table (`tables.collect`: one line per row and seed, seeds
    averaged here) with the columns of ``_NEEDED``. Panels: ASR against rate to each target,
    ours solid and the paper's dotted, one colour per trigger length; then test accuracy
    against rate, with our clean model and the paper's as horizontal lines: ``clean_acc``
    and ``paper_clean_acc``, by default the rows of rate 0 in ``df``.
    """
    missing = [c for c in _NEEDED if c not in df.columns]
    if missing:
        raise ValueError(f"missing columns {missing}")
    if "status" in df.columns:
        df = df[df["status"] == "ok"]
    clean = df[df["poison_rate"] == 0]
    if clean_acc is None and clean[ACC_BEFORE].notna().any():
        clean_acc = float(clean[ACC_BEFORE].mean())
    if paper_clean_acc is None and clean["paper_acc_before"].notna().any():
        paper_clean_acc = float(clean["paper_acc_before"].mean())
    df = df[df["poison_rate"] > 0].dropna(subset=[ASR_BEFORE])
    if df.empty:
        raise ValueError("no poisoned rows to plot")
    targets = sorted(df["target"].unique())
    fig = make_subplots(rows=1, cols=len(targets) + 1, horizontal_spacing=0.07,
                        subplot_titles=[f"ASR, to {t}" for t in targets] + ["test accuracy"])
    colours = px.colors.qualitative.D3
    lengths = sorted(df["trigger_length"].unique())
    for k, length in enumerate(lengths):
        colour = colours[k % len(colours)]
        for c, target in enumerate(targets, start=1):
            d = df[(df["trigger_length"] == length) & (df["target"] == target)]
            m = d.groupby("poison_rate")[[ASR_BEFORE, "paper_asr_before", ACC_BEFORE]] \
                .mean().reset_index()
            x = 100 * m["poison_rate"]
            first = c == 1
            fig.add_trace(go.Scatter(x=x, y=m[ASR_BEFORE], mode="lines+markers",
                                     name=f"length {length}", legendgroup=f"ours{length}",
                                     showlegend=first, line=dict(color=colour)), row=1, col=c)
            fig.add_trace(go.Scatter(x=x, y=m["paper_asr_before"], mode="lines",
                                     name=f"length {length}, paper", legendgroup=f"paper{length}",
                                     showlegend=first, line=dict(color=colour, dash="dot")),
                          row=1, col=c)
            fig.add_trace(go.Scatter(x=x, y=m[ACC_BEFORE], mode="markers",
                                     name=f"length {length}, to {target}",
                                     legendgroup=f"ours{length}", showlegend=False,
                                     marker=dict(color=colour,
                                                 symbol="circle" if first else "triangle-up")),
                          row=1, col=len(targets) + 1)
    acc_col = len(targets) + 1
    for value, label, dash in ((clean_acc, "our clean model", "solid"),
                               (paper_clean_acc, "the paper's clean model", "dot")):
        if value is not None:
            fig.add_hline(y=value, line=dict(color="#555", dash=dash), row=1, col=acc_col,
                          annotation_text=f"{label} {value:.1f}",
                          annotation_position="bottom right")
    for c in range(1, acc_col + 1):
        fig.update_xaxes(title_text="poisoning rate (%)", row=1, col=c)
    for c in range(1, acc_col):
        fig.update_yaxes(range=[0, 102], row=1, col=c)
    fig.update_yaxes(title_text="%", row=1, col=1)
    marks = ", ".join(f"{m} to {t}" for m, t in zip(("circles", "triangles"), targets))
    fig.update_layout(title=f"dai2019 Tables 2-3: ours (solid) beside the paper (dotted); "
                            f"accuracy: {marks}", height=440, legend_title="trigger")
    return fig
