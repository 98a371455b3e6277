"""Self-contained HTML reports: the paper's number beside ours for every cell, and the
defences table.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from bki_lab.reproduce.papers import tolerance
from bki_lab.utils.files import atomic_path
from bki_lab.utils.records import ACC_AFTER, ACC_BEFORE, ASR_AFTER, ASR_BEFORE
from bki_lab.viz.attack import attack_vs_paper
from bki_lab.viz.defences import defences_figure
from bki_lab.viz.html import figure_div, page_head

METRICS = [(ACC_BEFORE, "acc"), (ASR_BEFORE, "asr"), ("precision", "precision"),
           ("recall", "recall"), (ASR_AFTER, "asr"), (ACC_AFTER, "acc")]


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Mean ± sd over seeds per row id (ok rows only), paper columns kept."""
    ok = df[df["status"] == "ok"]
    if ok.empty:
        return ok
    num = [c for c in ok.columns if c in dict(METRICS) or c == "removed_fraction"]
    g = ok.groupby("id", sort=False)
    mean, sd = g[num].mean(), g[num].std()
    first = g.first()
    out = first.drop(columns=[c for c in num if c in first.columns]).join(mean)
    for c in num:
        out[f"{c}_sd"] = sd[c]
    out["seeds"] = g.size()
    return out.reset_index()


def _within(ours, paper, tol):
    """Whether our number is within ``tol`` points of the paper's (the report's one rule)."""
    return abs(ours - paper) <= tol


def agreement(summary: pd.DataFrame, *, table: str | None = None) -> dict[str, tuple[int, int]]:
    """Per metric: (cells within ``table``'s tolerance of the paper, cells with a paper
    number)."""
    tol = tolerance(table)
    out = {}
    for m, kind in METRICS:
        if m not in summary or f"paper_{m}" not in summary:
            continue
        both = summary[[m, f"paper_{m}"]].astype(float).dropna()
        if len(both):
            out[m] = (int(_within(both[m], both[f"paper_{m}"], tol[kind]).sum()),
                      len(both))
    return out


def _text(v) -> str:
    return "–" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _cell(ours, paper, sd, tol) -> str:
    if ours is None or (isinstance(ours, float) and np.isnan(ours)):
        return "<td class=na>–</td>"
    txt = f"{ours:.2f}"
    if sd is not None and not np.isnan(sd):
        txt += f" ± {sd:.2f}"
    cls = ""
    if paper is not None and not (isinstance(paper, float) and np.isnan(paper)):
        txt += f"<br><span class=paper>paper {paper:.2f}</span>"
        cls = " class=ok" if _within(ours, paper, tol) else " class=miss"
    return f"<td{cls}>{txt}</td>"


def _num(x, fmt="{:.1f}"):
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else fmt.format(x)


def _beyond_cells(r) -> list[str]:
    """The verdict and the authors' variant of one bki-table3 row (percent numbers)."""
    if not isinstance(r.get("verdict"), str):
        return ["<td>–</td>"] * 3
    if r["verdict"] == "backdoor":
        v = (f"{html.escape(str(r.get('verdict_phrase')))} → "
             f"{html.escape(str(r.get('verdict_target')))} ({_num(r.get('flip_rate'))}%)")
        if isinstance(r.get("verdict_residue"), str):
            v += (f"<br><span class=paper>residue: {html.escape(r['verdict_residue'])} "
                  f"(nothing more removed)</span>")
    else:
        v = (f"{html.escape(r['verdict'])}<br><span class=paper>{html.escape(str(r.get('rejected_keyword')))}"
             f" flips {_num(r.get('rejected_flip_rate'))}%</span>")
    pr = (f"{_num(r.get('verdict_precision'))} / {_num(r.get('verdict_recall'))} / "
          f"{_num(r.get('verdict_n_removed'), '{:.0f}')}")
    au = (f"{html.escape(str(r.get('authors_keyword')))} → "
          f"{html.escape(str(r.get('authors_target')))}, {_num(r.get('authors_precision'))} / "
          f"{_num(r.get('authors_recall'))} / {_num(r.get('authors_n_removed'), '{:.0f}')}")
    return [f"<td>{v}</td>", f"<td>{pr}</td>", f"<td>{au}</td>"]


def _keyword_cells(r) -> list[str]:
    """BKI's keyword (the paper's beside it) and the share of texts removed."""
    kw, pk = r.get("keyword"), r.get("paper_keyword")
    kw_txt = html.escape(str(kw)) if isinstance(kw, str) else "–"
    if isinstance(pk, str):
        kw_txt += f"<br><span class=paper>paper {html.escape(pk)}</span>"
    cls = " class=miss" if isinstance(kw, str) and r.get("keyword_in_trigger") is False \
        and r["poison_rate"] > 0 else ""
    kw_cell = f"<td{cls}>{kw_txt}</td>"
    rf = r.get("removed_fraction")
    rf_cell = f"<td>{rf:.2f}</td>" if rf is not None and not np.isnan(rf) else "<td>–</td>"
    return [kw_cell, rf_cell]


def write_report(df: pd.DataFrame, path: str | Path, *, table: str, profile: str,
                 deviations: list[str]) -> Path:
    path = Path(path)
    s = summarise(df)
    tols = tolerance(table)
    # only the columns this table measures (attack-table2: accuracy and ASR, no defence)
    has = (lambda c: c in s.columns and s[c].notna().any())
    metrics = [(m, kind) for m, kind in METRICS if has(m)]
    defended = has("keyword") or has("removed_fraction")
    beyond = has("verdict")                    # bki-table3 rows with the verdict columns
    head = ["row", "dataset", "trigger", "target", "rate"] + [m for m, _ in metrics] + \
        (["keyword", "removed %"] if defended else []) + \
        (["verdict: phrase (flip rate)", "verdict P / R / removed",
          "authors-code: key, P / R / removed"] if beyond else []) + ["seeds"]
    rows_html = []
    for _, r in s.iterrows():
        cells = [f"<td>{html.escape(str(r['id']))}</td>", f"<td>{r['dataset']}</td>",
                 f"<td>{html.escape(_text(r['trigger']))}</td>",
                 f"<td>{html.escape(_text(r['target']))}</td>",
                 f"<td>{100 * r['poison_rate']:.1f}%</td>"]
        for m, kind in metrics:
            cells.append(_cell(r.get(m), r.get(f"paper_{m}"), r.get(f"{m}_sd"), tols[kind]))
        if defended:
            cells.extend(_keyword_cells(r))
        if beyond:
            cells.extend(_beyond_cells(r))
        cells.append(f"<td>{int(r['seeds'])}</td>")
        rows_html.append("<tr>" + "".join(cells) + "</tr>")
    failed = df[df["status"] != "ok"]
    fail_html = "".join(f"<li>{html.escape(str(r['id']))} seed {r['seed']}: "
                        f"{html.escape(str(r['error']))}</li>" for _, r in failed.iterrows())
    fig_html = ""
    ok = df[(df["status"] == "ok") & df[ASR_BEFORE].notna()] if ASR_BEFORE in df else df[:0]
    if table == "attack-table2" and not ok.empty:
        fig_html = figure_div(attack_vs_paper(df), path.parent)
    tol = ", ".join(f"{k} ±{v:g} pts" for k, v in tols.items())
    agree = ", ".join(f"{m} {k}/{n}" for m, (k, n) in agreement(s, table=table).items())
    doc = f"""{page_head(f"bki_lab — {table} ({profile})")}
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:4px 6px;
vertical-align:top}}th{{background:#f3f3f3}}.paper{{color:#777;font-size:11px}}
.miss{{background:#fde2e1}}.ok{{background:#e6f4ea}}.na{{color:#aaa}}</style></head><body>
<h1>{table} — profile <code>{profile}</code></h1>
<p>Ours beside the paper's number (all in %). Green: within tolerance ({tol}); red: further
off, or a keyword outside the trigger. Mean ± sd over seeds where several ran.</p>
<p>Rows within tolerance, per column: {agree or 'no paper numbers to compare'}.</p>
<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{''.join(rows_html)}</table>
{f'<h2>Failed rows</h2><ul>{fail_html}</ul>' if fail_html else ''}
{fig_html}
<h2>Deviations from the papers' setup</h2><ul>{''.join(f'<li>{html.escape(d)}</li>' for d in deviations)}</ul>
<p>Works offline: the figure loads the shared <code>plotly.min.js</code> beside this file.
Profile <code>quick</code> uses smaller data and a smaller model than the papers; only
<code>paper</code> rows are comparable in earnest.</p>
</body></html>"""
    with atomic_path(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path


def write_multi_report(df: pd.DataFrame, path: str | Path, *, profile: str) -> Path:
    """bki-multi: per trigger, the paper's one-keyword BKI beside the verdict's loop."""
    title = f"Several backdoors in one training set ({profile})"
    text = ("<p>Each row is one trigger of a multi-trigger training set. <b>clean target "
            "rate</b>: how often a model trained on the clean data predicts that trigger's "
            "target for the same triggered test texts (the floor an ASR after retraining can "
            "reach). The paper's rule removes the texts of one keyword; the verdict finds, "
            "verifies and removes each trigger in turn. Numbers in percent.</p>")
    cols = [c for c in ("id", "seed", "trigger", "target", "poison_rate", ACC_BEFORE,
                        ASR_BEFORE, "clean_target_rate", "paper_keyword", "paper_recall",
                        "paper_asr_after", "paper_precision", "verdict_findings",
                        "verdict_recall", "verdict_asr_after", "verdict_precision",
                        "verdict_acc_after", "status", "error") if c in df.columns]
    table = df[cols].to_html(index=False, na_rep="–", float_format=lambda x: f"{x:.1f}",
                             escape=True) if len(df) else "<p>no rows yet</p>"
    doc = (f"{page_head(title)}</head><body style='font-family:system-ui,sans-serif'>"
           f"<h1>{html.escape(title)}</h1>{text}{table}</body></html>")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path


def write_defences_report(df: pd.DataFrame, path: str | Path, *, profile: str) -> Path:
    from bki_lab.utils.files import atomic_path
    from bki_lab.viz.html import figure_div, page_head
    path = Path(path)
    title = f"BKI among its peers ({profile})"
    table = df.to_html(index=False, na_rep="–", float_format=lambda x: f"{x:.1f}",
                       escape=True) if len(df) else "<p>no rows yet</p>"
    doc = (f"{page_head(title)}</head><body style='font-family:system-ui,sans-serif'>"
           f"<h1>{html.escape(title)}</h1><p>Every defence on the same victim and training "
           f"set, each retrained on what it keeps; STRIP at test time (threshold for 1% "
           f"false rejection on training texts). Percent.</p>"
           f"{figure_div(defences_figure(df, profile=profile), path.parent)}{table}</body></html>")
    with atomic_path(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path


def triggers_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Miss and false-alarm rates of the paper's rule, the authors' variant and the verdict
    (ranking only, and with label purity) over a ``triggers`` table.

    A *miss*: the victim obeys the trigger (ASR >= 50%) and the method does not name it (the
    paper's rule and the authors' variant: their keyword is not a trigger word; the verdict:
    it does not recover the trigger). A *false alarm*: on a clean row, anything removed
    (the paper's rule always removes: it has no "no backdoor found")."""
    ok = df[df["status"] == "ok"] if "status" in df else df
    obeyed = ok[ok[ASR_BEFORE].fillna(0) >= 50] if ASR_BEFORE in ok else ok[:0]
    clean = ok[ok[ASR_BEFORE].isna()] if ASR_BEFORE in ok else ok[:0]
    after = obeyed[obeyed["paper_asr_after"].fillna(0) >= 50] \
        if "paper_asr_after" in obeyed else obeyed[:0]
    rows = []

    def share(mask_series):
        return None if len(mask_series) == 0 else round(100 * float(mask_series.mean()), 1)
    for name, miss_col, fa in (
            ("paper's rule", "paper_in_trigger", lambda c: c["paper_n_removed"] > 0),
            ("authors' variant", "authors_in_trigger", None),
            ("verdict, ranking only", "ranking_verdict_recovered",
             lambda c: c["ranking_verdict"] != "no backdoor found"),
            ("verdict", "verdict_recovered", lambda c: c["verdict"] != "no backdoor found")):
        if miss_col not in obeyed:
            continue
        rows.append({"method": name, "triggers obeyed (ASR >= 50%)": len(obeyed),
                     "miss rate %": share(~obeyed[miss_col].astype(bool)),
                     "misses at ASR >= 90%": int((~obeyed[miss_col].astype(bool)
                                                  & (obeyed[ASR_BEFORE] >= 90)).sum()),
                     "clean rows": len(clean),
                     "false alarms %": share(fa(clean)) if fa is not None and len(clean)
                     else None})
    if "after_paper_recovered" in after:
        rows.append({"method": "verdict after the paper's rule",
                     "triggers obeyed (ASR >= 50%)": len(after),
                     "miss rate %": share(~after["after_paper_recovered"].astype(bool)),
                     "misses at ASR >= 90%": int((~after["after_paper_recovered"].astype(bool)
                                                  & (after["paper_asr_after"] >= 90)).sum()),
                     "clean rows": None, "false alarms %": None})
    return pd.DataFrame(rows)


def write_triggers_report(df: pd.DataFrame, path: str | Path, *, profile: str) -> Path:
    """The ``triggers`` table as a page: the summary of miss and false-alarm rates, then
    every row."""
    from bki_lab.utils.files import atomic_path
    from bki_lab.viz.html import page_head
    path = Path(path)
    title = f"BKI and the verdict on triggers nobody chose ({profile})"
    summary = triggers_summary(df) if len(df) else pd.DataFrame()
    fmt = (lambda x: f"{x:.1f}")
    doc = (f"{page_head(title)}</head><body style='font-family:system-ui,sans-serif'>"
           f"<h1>{html.escape(title)}</h1><p>Trigger sentences drawn by a seeded generator "
           f"(spans of the dataset's test texts, random targets), the named cases and clean "
           f"rows. Rates in percent.</p>"
           + (summary.to_html(index=False, na_rep="–", float_format=fmt) if len(summary)
              else "") + (df.to_html(index=False, na_rep="–", float_format=fmt)
                          if len(df) else "<p>no rows yet</p>") + "</body></html>")
    with atomic_path(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path
