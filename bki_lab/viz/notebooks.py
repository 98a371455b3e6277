"""The notebooks as files: what is committed after a run, and their offline HTML export.

* `clean_outputs`: after executing a notebook, drop what cannot be shown without the kernel
  that made it -- widget views (their models die with the kernel: reopened, they say
  "Error displaying widget: model not found" or "Loading widget...") and the saved widget
  state -- so a committed notebook looks right when opened without running it.
* `export_html`: a notebook as one HTML page whose plotly figures render offline. Outputs
  carry plotly's own mimetype, which ``jupyter nbconvert --to html`` drops; here each
  figure becomes an HTML div and plotly.js is inlined once per page.

    python -m bki_lab.viz.notebooks export notebooks/04_keyword_dictionary.ipynb out.html
    python -m bki_lab.viz.notebooks check notebooks/*.ipynb     # jupytext pairs in sync?
"""
from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


PLOTLY = "application/vnd.plotly.v1+json"


_CDN_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I)


def _resolve_cr(text: str) -> str:
    """What a terminal shows of ``text``: on each line, only what follows its last ``\\r``."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _streams(outputs: list) -> list:
    """Consecutive stream outputs of one name merged, carriage returns applied (a text
    progress bar leaves its last state, not one output per redraw), blank ones dropped."""
    out: list = []
    for o in outputs:
        if o.get("output_type") == "stream" and out and out[-1].get("output_type") == "stream" \
                and out[-1].get("name") == o.get("name"):
            out[-1]["text"] = _text(out[-1]) + _text(o)
        else:
            out.append(o)
    kept = []
    for o in out:
        if o.get("output_type") == "stream":
            o["text"] = _resolve_cr(_text(o))
            if not o["text"].strip():
                continue
        kept.append(o)
    return kept


def _text(o) -> str:
    t = o.get("text", "")
    return "".join(t) if isinstance(t, list) else t


def clean_outputs(nb: dict) -> dict:
    """A copy of notebook ``nb`` without widget views or widget state, and with each
    cell's text streams as a terminal would show them (see `_streams`)."""
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = _streams([o for o in cell.get("outputs", [])
                                    if WIDGET_VIEW not in o.get("data", {})])
    return nb


def figures_as_html(nb: dict) -> dict:
    """A copy of ``nb`` where every plotly output also carries an HTML div (no plotly.js)."""
    import plotly.io as pio
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = out.get("data", {})
            if PLOTLY in data:
                fig = pio.from_json(json.dumps(data[PLOTLY]))
                data["text/html"] = fig.to_html(full_html=False, include_plotlyjs=False)
    return nb


def export_html(notebook: str | Path, html_path: str | Path) -> Path:
    """Write ``notebook`` as a self-contained HTML page that shows its figures offline."""
    import nbformat
    from nbconvert import HTMLExporter
    from plotly.offline import get_plotlyjs

    from bki_lab.utils.files import atomic_path
    nb = read_notebook(notebook)                           # sources joined into strings
    nb = nbformat.from_dict(figures_as_html(clean_outputs(nb)))
    body, _ = HTMLExporter().from_notebook_node(nb)
    # nbconvert's page loads require.js and MathJax from a CDN: offline they only fail
    # (formulas stay as TeX), so the page does not ask for them
    body = _CDN_SCRIPT.sub("", body)
    script = f"<script type=\"text/javascript\">{get_plotlyjs()}</script>"
    body = body.replace("</head>", script + "</head>", 1)
    html_path = Path(html_path)
    with atomic_path(html_path) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return html_path


def pair_differences(notebook: str | Path) -> list[str]:
    """How ``notebook`` (.ipynb) and its jupytext pair (the .py beside it, percent format,
    the reviewed source) differ, cell by cell: type, source and tags. Empty when in sync.

    Outputs live only in the .ipynb (for nbval); everything else must agree.
    """
    import jupytext
    notebook = Path(notebook)
    py = notebook.with_suffix(".py")
    if not py.is_file():
        return [f"{py} is missing: every notebook is kept as a jupytext pair "
                f"(jupytext --set-formats ipynb,py:percent {notebook})"]
    ours = read_notebook(notebook)
    theirs = jupytext.read(py)

    def cells(nb):
        return [(c.cell_type, c.source.strip(), sorted(c.get("metadata", {}).get("tags", [])))
                for c in nb.cells]
    a, b = cells(ours), cells(theirs)
    out = []
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            what = "type" if x[0] != y[0] else "tags" if x[2] != y[2] else "source"
            out.append(f"{notebook.name} cell {k}: the {what} differs from {py.name}")
    if len(a) != len(b):
        out.append(f"{notebook.name} has {len(a)} cells, {py.name} {len(b)}")
    if out:
        out.append(f"sync them with: jupytext --sync {py}")
    return out


class NotebookError(ValueError):
    """A file that is not a readable notebook, or an output that cannot be written."""


def read_notebook(path: str | Path):
    """``path`` as an nbformat v4 notebook; `NotebookError` (naming it) if it is not one."""
    import nbformat
    path = Path(path)
    if not path.exists():
        raise NotebookError(f"{path}: no such file")
    if path.is_dir():
        raise NotebookError(f"{path} is a directory, not a notebook")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:          # JSON, schema and encoding errors of a bad file
        raise NotebookError(f"{path} is not a readable notebook "
                            f"({type(e).__name__}: {' '.join(str(e).split())[:200]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path} is not a notebook (it has no list of cells)")
    return nb


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if len(args) == 3 and args[0] == "export":
            if Path(args[2]).is_dir():
                raise NotebookError(f"{args[2]} is a directory: give the HTML file's name")
            read_notebook(args[1])
            try:
                print(export_html(args[1], args[2]))
            except (ValueError, KeyError, TypeError) as e:   # e.g. a damaged plotly output
                raise NotebookError(f"{args[1]}: an output cannot be exported "
                                    f"({type(e).__name__}: {' '.join(str(e).split())[:200]})"
                                    ) from None
            return 0
        if len(args) >= 2 and args[0] == "check":
            problems = [d for name in args[1:] for d in pair_differences(name)]
            for d in problems:
                print(d, file=sys.stderr)
            return 1 if problems else 0
        if len(args) >= 2 and args[0] == "clean":
            import nbformat
            notebooks = [(name, read_notebook(name)) for name in args[1:]]   # all, first
            for name, nb in notebooks:
                nbformat.write(nbformat.from_dict(clean_outputs(nb)), name)
            return 0
    except NotebookError as e:
        print(f"bki_lab.viz.notebooks: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"bki_lab.viz.notebooks: error: {e.filename or ''}: {e.strerror}",
              file=sys.stderr)
        return 2
    print("usage: python -m bki_lab.viz.notebooks export NOTEBOOK HTML | clean NOTEBOOK... | "
          "check NOTEBOOK...",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
