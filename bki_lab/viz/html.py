"""Offline HTML pages for figures: one shared ``plotly.min.js`` beside the pages, never a
CDN (a page must render without network).
"""
from __future__ import annotations

import html
from pathlib import Path

from bki_lab.utils.files import atomic_path

PLOTLY_JS = "plotly.min.js"


def figure_div(fig, directory: str | Path) -> str:
    """``fig`` as an HTML ``<div>`` for a page in ``directory``, offline.

    plotly.js is not inlined (4.7 MB a page) nor taken from a CDN (blank without network):
    one shared copy, ``directory/plotly.min.js``, is written once and every page in the
    directory loads it with ``<script src="plotly.min.js">`` (see `page_head`).
    """
    from plotly.offline import get_plotlyjs
    js = Path(directory) / PLOTLY_JS
    if not js.exists():
        with atomic_path(js) as tmp:
            tmp.write_text(get_plotlyjs(), encoding="utf-8")
    return fig.to_html(full_html=False, include_plotlyjs=False)


def page_head(title: str) -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
            f'</title><script src="{PLOTLY_JS}"></script>')


def write_figure_html(fig, path: str | Path, *, title: str, text: str = "") -> Path:
    """A page holding one figure (offline, with the shared plotly.js beside it)."""
    path = Path(path)
    div = figure_div(fig, path.parent)
    doc = (f"{page_head(title)}</head><body style='font-family:system-ui,sans-serif'>"
           f"<h1>{html.escape(title)}</h1>{text}{div}</body></html>")
    with atomic_path(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path
