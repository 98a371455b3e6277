"""BKI among its peers, on the same victim and data: every training-set filter (BKI's
removal by the paper's rule and by the verdict, spectral signatures, activation clustering,
word-label statistics) followed by retraining on what it keeps, and STRIP at test time.
`bki-lab reproduce defences` runs it on the Table-3 rows; `defences_figure` draws precision
against recall per defence and row.
"""
from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .filters import Removal, bki_removal, run_filters, verdict_removal


@dataclass(frozen=True)
class Outcome:
    """One defence on one attack: what it removed, and the victim retrained without it."""

    removal: Removal
    acc_after: float | None          # None: fewer than two texts kept, nothing to retrain
    asr_after: float | None
    retrain_seconds: float

    def to_record(self) -> dict:
        rec = self.removal.to_record()
        rec.pop("per_class", None)
        return {**rec, "acc_after": self.acc_after, "asr_after": self.asr_after,
                "retrain_seconds": self.retrain_seconds}


def defence_removals(attack, scores, *, p: int = 5, seed: int = 0,
                     hidden: np.ndarray | None = None) -> tuple[Removal, ...]:
    """What every training-set defence removes from ``attack``'s training set, without
    retraining: BKI by the paper's rule and by the verdict (from ``scores``,
    `defence.bki_scores`; their seconds include the scoring's), then `filters.run_filters`
    (``hidden``: the victim's h_l of the training texts, if already computed)."""
    from .backdoors import find_backdoors
    from .bki import identify
    ds, truth = attack.poisoned.dataset, attack.poisoned.is_poison
    t0 = time.perf_counter()
    paper = bki_removal(identify(scores, p=p, is_poison=truth),
                        scores.seconds + time.perf_counter() - t0)
    t0 = time.perf_counter()
    verdict = find_backdoors(scores, ds.labels, predict=attack.victim.predict, p=p,
                             is_poison=truth, seed=seed)
    return (paper, verdict_removal(verdict, scores.seconds + time.perf_counter() - t0),
            *run_filters(attack, seed=seed, hidden=hidden))


def compare_defences(attack, *, p: int = 5, device: str | None = None, seed: int = 0,
                     strip_texts: int = 500, use_cache: bool = True,
                     show_progress: bool = False) -> tuple[tuple[Outcome, ...], object]:
    """Every filter on ``attack`` (`experiments.run_attack`), each retrained on its kept
    texts (victims cached by their data), and STRIP on the clean and triggered test texts.
    Returns (outcomes, `strip.StripResult` or None for a clean training set)."""
    from .defence import bki_scores, retrain_without
    from .experiments import _asr
    from .strip import strip_detect, victim_proba
    from .train import evaluate
    device = device or attack.victim.device
    ds = attack.poisoned.dataset
    scores = bki_scores(attack, device=device, use_cache=use_cache, show_progress=show_progress)
    removals = defence_removals(attack, scores, p=p, seed=seed)
    outcomes = []
    for r in removals:
        t0 = time.perf_counter()
        if (~r.removed).sum() < 2:
            outcomes.append(Outcome(r, None, None, 0.0))
            continue
        victim = retrain_without(attack, r.removed, device=device, use_cache=use_cache,
                                 show_progress=show_progress, label=f"retraining ({r.method})")
        acc = evaluate(victim, attack.split.test).accuracy
        asr = _asr(victim, attack.backdoor) if attack.config.rate > 0 else None
        outcomes.append(Outcome(r, acc, asr, time.perf_counter() - t0))
    strip = None
    if attack.config.rate > 0:
        test, target = attack.split.test, attack.backdoor.target
        clean = [t for t, y in zip(test.texts, test.labels) if y != target][:strip_texts]
        strip = strip_detect(victim_proba(attack.victim), ds.texts, clean,
                             list(attack.backdoor.dataset.texts[:strip_texts]),
                             n_train=strip_texts, seed=seed)
    return tuple(outcomes), strip


def run_defences_row(row, *, profile: str, seed: int, recipe: str = "bki-lab",
                     device: str = "cpu") -> dict:
    """One row of the `defences` table: the Table-3 row's attack, then every defence."""
    from .experiments import run_attack
    from .runner import describe_device
    t0 = time.perf_counter()
    att = run_attack(row.config(profile=profile, seed=seed, recipe=recipe), show_progress=False,
                     device=device)
    outcomes, strip = compare_defences(att, device=device, seed=seed)
    return {"device": describe_device(device), "acc_before": att.clean_accuracy,
            "asr_before": att.attack_success_rate if row.rate > 0 else None,
            "n_train": len(att.poisoned.dataset), "n_poison": att.poisoned.n_poison,
            "defences": [o.to_record() for o in outcomes],
            "strip": strip.to_record() if strip is not None else None,
            "seconds": time.perf_counter() - t0}


def collect_defences(records: list[dict]) -> pd.DataFrame:
    """One line per (row, seed, defence), percent; STRIP as a line of its own."""
    lines = []
    pct = (lambda v: None if v is None else 100 * v)
    for r in records:
        base = {"id": r["id"], "seed": r["seed"], "status": r.get("status")}
        if r.get("status") != "ok":
            lines.append({**base, "error": r.get("error")})
            continue
        for d in r["defences"]:
            lines.append({**base, "defence": d["method"], "precision": pct(d["precision"]),
                          "recall": pct(d["recall"]),
                          "removed_fraction": pct(d["removed_fraction"]),
                          "acc_before": pct(r["acc_before"]), "acc_after": pct(d["acc_after"]),
                          "asr_before": pct(r["asr_before"]), "asr_after": pct(d["asr_after"]),
                          "seconds": d["seconds"] + d["retrain_seconds"]})
        if r.get("strip"):
            s = r["strip"]
            lines.append({**base, "defence": "STRIP (test time)",
                          "false_rejection": pct(s["false_rejection"]),
                          "false_acceptance": pct(s["false_acceptance"]),
                          "asr_before": pct(r["asr_before"]), "seconds": s["seconds"]})
    return pd.DataFrame(lines)


def defences_figure(df: pd.DataFrame) -> go.Figure:
    """Precision against recall of every training-set filter, one colour per defence, one
    point per row (clean rows have no recall and are left out)."""
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
    fig.update_layout(title="Which texts each defence removes: precision vs recall",
                      xaxis=dict(title="recall (%)", range=[-5, 105]),
                      yaxis=dict(title="precision (%)", range=[-5, 105]),
                      template="plotly_white", height=460)
    return fig


def write_defences_report(df: pd.DataFrame, path: str | Path, *, profile: str) -> Path:
    from .files import atomic_path
    from .report import figure_div, page_head
    path = Path(path)
    title = f"BKI among its peers ({profile})"
    table = df.to_html(index=False, na_rep="–", float_format=lambda x: f"{x:.1f}",
                       escape=True) if len(df) else "<p>no rows yet</p>"
    doc = (f"{page_head(title)}</head><body style='font-family:system-ui,sans-serif'>"
           f"<h1>{html.escape(title)}</h1><p>Every defence on the same victim and training "
           f"set, each retrained on what it keeps; STRIP at test time (threshold for 1% "
           f"false rejection on training texts). Percent.</p>"
           f"{figure_div(defences_figure(df), path.parent)}{table}</body></html>")
    with atomic_path(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path


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
