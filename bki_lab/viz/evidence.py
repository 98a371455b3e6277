"""The evidence behind a verdict, for people: figures and highlighted texts.

* `flip_test`: per candidate, the flip rates of the frequency-matched random phrases (the
  null), the reconstructed phrase's and the keyword's alone, and the threshold.
* `flagged_html`: a few flagged training texts with the reconstructed phrase marked.
* `verdict_summary`: the verdict as a small table.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bki_lab.bki.verdict import Verdict

if TYPE_CHECKING:
    from bki_lab.bki.verdict import Finding
    from bki_lab.data.text import Words

PHRASE_COLOR = "#d62728"


KEYWORD_COLOR = "#ff7f0e"


NULL_COLOR = "#7f7f7f"


def _candidates(verdict: Verdict) -> list[tuple[Finding, bool]]:
    out = [(f, True) for f in verdict.findings]
    if verdict.rejected is not None:
        out.append((verdict.rejected, False))
    return out


def flip_test(verdicts: Verdict | dict[str, Verdict], *, seed: int = 0) -> go.Figure:
    """One line per candidate keyword (several verdicts side by side: a dict name -> verdict).

    Grey dots: the null flip rates (jittered vertically); red diamond: the reconstructed
    phrase; orange circle: the keyword alone; black tick: the threshold. A candidate is a
    backdoor when its red diamond passes the tick.
    """
    if isinstance(verdicts, Verdict):
        verdicts = {"": verdicts}
    rng = np.random.default_rng(seed)
    fig = go.Figure()
    labels = []
    first = True
    for name, v in verdicts.items():
        for f, ok in _candidates(v):
            y = len(labels)
            phrase = " ".join(f.phrase.phrase)
            labels.append(f"{name + ': ' if name else ''}{f.keyword!r} "
                          f"({'verified' if ok else 'rejected'})")
            ver, kw = f.verification, f.keyword_verification
            if ver.null_rates.size:
                fig.add_trace(go.Scatter(
                    x=ver.null_rates, y=y + rng.uniform(-0.18, 0.18, ver.null_rates.size),
                    mode="markers", marker=dict(color=NULL_COLOR, size=5, opacity=0.6),
                    name="random phrases (null)", legendgroup="null", showlegend=first,
                    hovertemplate="null phrase: %{x:.1%}<extra></extra>"))
            fig.add_trace(go.Scatter(
                x=[kw.flip_rate], y=[y], mode="markers", name="keyword alone",
                marker=dict(color=KEYWORD_COLOR, size=11, symbol="circle"),
                legendgroup="kw", showlegend=first,
                hovertemplate=f"{html.escape(f.keyword)}: %{{x:.1%}}<extra></extra>"))
            fig.add_trace(go.Scatter(
                x=[ver.flip_rate], y=[y], mode="markers", name="reconstructed phrase",
                marker=dict(color=PHRASE_COLOR, size=14, symbol="diamond"),
                legendgroup="phrase", showlegend=first,
                hovertemplate=f"{html.escape(phrase)}: %{{x:.1%}}<extra></extra>"))
            fig.add_shape(type="line", x0=ver.threshold, x1=ver.threshold, y0=y - 0.35,
                          y1=y + 0.35, line=dict(color="black", width=2))
            first = False
    fig.update_layout(
        title="Does inserting the phrase flip the victim? (share of texts flipped to the target)",
        xaxis=dict(title="flip rate", range=[-0.02, 1.02], tickformat=".0%"),
        yaxis=dict(tickvals=list(range(len(labels))), ticktext=labels, autorange="reversed"),
        height=140 + 60 * max(len(labels), 1), template="plotly_white",
        legend=dict(orientation="h", y=-0.25))
    return fig


def _find(text: Sequence[str], phrase: Sequence[str]) -> int:
    n = len(phrase)
    for i in range(len(text) - n + 1):
        if tuple(text[i:i + n]) == tuple(phrase):
            return i
    return -1


def flagged_html(finding: Finding, texts: Sequence[Words], *, k: int = 3,
                 context: int = 10) -> str:
    """``k`` of the finding's removed texts (those holding the phrase first), cut to
    ``context`` words around the phrase, which is marked; HTML."""
    idx = np.flatnonzero(finding.removed)
    phrase = finding.phrase.phrase
    hits = [i for i in idx if _find(texts[i], phrase) >= 0]
    rest = [i for i in idx if i not in set(hits)]
    items = []
    for i in (hits + rest)[:k]:
        t = list(texts[i])
        s = _find(t, phrase)
        if s < 0:                          # the keyword only: mark it
            s = t.index(finding.keyword.split(" ")[0]) if finding.keyword.split(" ")[0] in t else 0
            e = s + 1
        else:
            e = s + len(phrase)
        lo, hi = max(0, s - context), min(len(t), e + context)
        body = (("… " if lo else "") + html.escape(" ".join(t[lo:s])) +
                f" <mark style='background:#fdd;font-weight:bold'>"
                f"{html.escape(' '.join(t[s:e]))}</mark> " +
                html.escape(" ".join(t[e:hi])) + (" …" if hi < len(t) else ""))
        items.append(f"<li><b>text {i}</b>: {body}</li>")
    return f"<ul>{''.join(items)}</ul>"


def verdict_summary(verdict: Verdict, class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per candidate: keyword, phrase, target, flip rates, threshold, outcome."""
    rows = []
    for f, ok in _candidates(verdict):
        r = f.to_record(class_names)
        rows.append({"keyword": r["keyword"], "phrase": r["phrase"], "target": r["target_name"],
                     "phrase flips": r["flip_rate"], "keyword flips": r["keyword_flip_rate"],
                     "null max": r["null_max"], "threshold": r["threshold"],
                     "outcome": "backdoor: removed" if ok else "not a backdoor: stop",
                     "texts": r["n_removed"] if ok else 0})
    return pd.DataFrame(rows)
