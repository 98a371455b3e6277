import json

import plotly.graph_objects as go

from bki_lab.viz.notebooks import PLOTLY, WIDGET_VIEW, clean_outputs, export_html


def _nb():
    fig = json.loads(go.Figure(go.Bar(x=[1, 2], y=[3, 4])).to_json())
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {}},
                         "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                        "language": "python"}},
            "cells": [{"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 1,
                       "source": ["x = 1\n", "x"], "outputs": [
                           {"output_type": "display_data", "metadata": {},
                            "data": {WIDGET_VIEW: {"model_id": "dead"}, "text/plain": "VBox()"}},
                           {"output_type": "display_data", "metadata": {},
                            "data": {PLOTLY: fig, "text/plain": "fig"}},
                           {"output_type": "stream", "name": "stdout", "text": "kept\n"}]}]}


def test_clean_outputs_drops_widget_views_and_state_only():
    nb = _nb()
    out = clean_outputs(nb)
    assert "widgets" not in out["metadata"] and "widgets" in nb["metadata"]   # a copy
    kinds = [list(o.get("data", {"stream": 0})) for o in out["cells"][0]["outputs"]]
    assert kinds == [[PLOTLY, "text/plain"], ["stream"]]


def test_export_html_carries_each_figure_and_plotly_js_once(tmp_path):
    src = tmp_path / "n.ipynb"
    src.write_text(json.dumps(_nb()))
    html = export_html(src, tmp_path / "n.html").read_text()
    assert html.count('class="plotly-graph-div"') == 1
    assert html.count("Plotly.newPlot") == 1 and 'src="https://' not in html
    assert "dead" not in html and "kept" in html


def test_clean_command_rewrites_a_notebook_file(tmp_path):
    import nbformat

    from bki_lab.viz.notebooks import main
    src = tmp_path / "n.ipynb"
    src.write_text(json.dumps(_nb()))
    assert main(["clean", str(src)]) == 0
    nb = nbformat.read(str(src), as_version=4)
    assert "widgets" not in nb.metadata and nb.cells[0].source == "x = 1\nx"
    assert all(WIDGET_VIEW not in o.get("data", {}) for o in nb.cells[0].outputs)


def test_progress_redraws_collapse_to_what_a_terminal_shows():
    nb = _nb()
    nb["cells"][0]["outputs"] = [
        {"output_type": "stream", "name": "stderr", "text": "\rep 1:   0%"},
        {"output_type": "stream", "name": "stderr", "text": "\rep 1:  50%"},
        {"output_type": "stream", "name": "stderr", "text": "\rep 1: 100%\n"},
        {"output_type": "stream", "name": "stdout", "text": "accuracy 0.9\n"},
        {"output_type": "stream", "name": "stderr", "text": "\rbar\r          \r"}]
    outs = clean_outputs(nb)["cells"][0]["outputs"]
    assert [(o["name"], o["text"]) for o in outs] == [("stderr", "ep 1: 100%\n"),
                                                     ("stdout", "accuracy 0.9\n")]
