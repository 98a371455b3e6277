"""The workbench as people see it, in a real browser (see conftest.py for the setup).

For every notebook: opened as committed it shows no dead widget; run whole, it ends idle
with no error output, no broken widget, no JavaScript error and every expected figure; in
the notebooks with controls (01, 03, 04) they are then driven as a student would, on the
same run. Each notebook is opened by JupyterLab itself and the one before closed with its
kernel (one page load in all). The HTML reports are opened offline.
Run alone: ``bash scripts/browser_test.sh``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import ARTIFACTS, ROOT

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("0*.ipynb"))
DEAD = ("Error displaying widget", "Loading widget")
PLOTLY = "application/vnd.plotly.v1+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

CURRENT = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
STATE_JS = f"""
const w = {CURRENT};
if (!w || !w.sessionContext || !w.content || !w.context) return null;
const k = w.sessionContext.session && w.sessionContext.session.kernel;
const cells = [];
for (const c of w.content.widgets) {{
  if (c.model.type !== 'code') continue;
  cells.push({{count: c.model.executionCount, prompt: c.promptNode ? c.promptNode.textContent : '',
               outputs: c.model.outputs.toJSON()}});
}}
return {{path: w.context.path, kernel: k ? k.status : null, cells: cells}};
"""


def _wait(fn, timeout, what, poll=0.5):
    """Poll ``fn`` until truthy; an element redrawn while being read counts as 'not yet'."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = fn()
        except StaleElementReferenceException:     # plotly/ipywidgets replaced the node
            value = None
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _state(driver):
    return driver.execute_script(STATE_JS)


SWITCH_JS = f"""
const [path, done] = arguments;
(async () => {{
  const w = {CURRENT};
  if (w && w.sessionContext) {{         // the notebook before: its kernel shut down, tab gone
    try {{ await w.sessionContext.shutdown(); }} catch (e) {{}}
    w.dispose();                        // unsaved by design (autosave is off): no dialog
  }}
  await window.jupyterapp.commands.execute('docmanager:open', {{path: path}});
}})().then(() => done(true), e => done(String(e)));
"""


def _open(driver, lab, name):
    """The notebook as committed, with an idle kernel. Inside a loaded JupyterLab the one
    before is closed and this one opened by the app itself (a page load costs ~15 s)."""
    base, token, _ = lab
    loaded = driver.current_url.startswith(base) and driver.execute_script(
        "return !!(window.jupyterapp && window.jupyterapp.shell);")
    if loaded:
        assert driver.execute_async_script(SWITCH_JS, f"notebooks/{name}") is True
    else:
        driver.get(f"{base}/lab/tree/notebooks/{name}?token={token}")
    return _wait(lambda: (s := _state(driver)) and s["path"].endswith(name)
                 and s["kernel"] == "idle" and s, 120, f"{name} open with an idle kernel")


def _command(driver, command):
    driver.execute_async_script(
        f"const done = arguments[0]; {CURRENT} && window.jupyterapp.commands"
        f".execute('{command}').then(() => done(true), e => done(String(e)));")


def _run_all(driver, name, timeout=600):
    _command(driver, "notebook:clear-all-cell-outputs")
    # started, not awaited: its promise ends with the last cell, which may take minutes
    driver.execute_script(f"{CURRENT} && window.jupyterapp.commands"
                          ".execute('notebook:run-all-cells'); return true;")

    def finished():
        s = _state(driver)
        return s and s["kernel"] == "idle" and all(c["count"] for c in s["cells"]) \
            and not any("*" in c["prompt"] for c in s["cells"]) and s
    return _wait(finished, timeout, f"{name} to run to the end", poll=1.0)


def _severe(driver):
    """JavaScript errors in the browser log (network noise of the server excluded)."""
    out = []
    for entry in driver.get_log("browser"):
        msg = entry.get("message", "")
        if entry.get("level") != "SEVERE":
            continue
        if "Failed to load resource" in msg and ("/api/" in msg or "favicon" in msg):
            continue          # the server's own 404s for optional endpoints
        out.append(msg)
    return out


def _committed_figures(name) -> int:
    nb = json.loads((ROOT / "notebooks" / name).read_text())
    return sum(PLOTLY in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_opens_clean_and_runs_whole(driver, lab, name):
    _open(driver, lab, name)
    time.sleep(2)                          # let the committed outputs render
    text = driver.find_element(By.TAG_NAME, "body").text
    assert not [d for d in DEAD if d in text], f"{name} as committed shows a dead widget"
    driver.get_log("browser")              # start the JS error log afresh
    state = _run_all(driver, name)
    errors = [o for c in state["cells"] for o in c["outputs"] if o.get("output_type") == "error"]
    assert not errors, f"{name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    time.sleep(2)
    text = driver.find_element(By.TAG_NAME, "body").text
    assert not [d for d in DEAD if d in text], f"{name} shows a broken widget after running"
    drawn = driver.execute_script(
        "return [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
        ".js-plotly-plot')].filter(e => e.querySelector('.main-svg')).length;")
    expected = _committed_figures(name)
    assert drawn >= expected, f"{name}: {drawn} plotly figures drawn, {expected} expected"
    assert not _severe(driver), f"{name}: JavaScript errors: {_severe(driver)}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)      # a green run's look, to inspect
    driver.save_screenshot(str(ARTIFACTS / f"ran-{name}.png"))
    made = DRIVE[name](driver) if name in DRIVE else None
    _saved_reopens_whole(driver, lab, name, made)


def _saved_reopens_whole(driver, lab, name, made=None):
    """Saved with JupyterLab's defaults (no widget state) and reopened without its kernel,
    the notebook shows no dead widget: the project's server turned each control into a
    line of text as it saved (`viz.saving`), and what the controls made -- text, tables,
    figures -- are ordinary outputs, drawn again from the file."""
    _command(driver, "docmanager:save")
    path = lab[2] / "notebooks" / name

    def saved():
        nb = json.loads(path.read_text())
        counts = [c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"]
        return nb if counts and all(counts) else None
    nb = _wait(saved, 60, f"{name} saved")
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    live = [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    assert not live, f"{name} saved {len(live)} widget view(s) that cannot be shown again"
    figures = sum(PLOTLY in o.get("data", {}) for o in outputs)
    _open(driver, lab, name)                # the kernel of the run shut down, the file reopened
    time.sleep(3)
    text = driver.find_element(By.TAG_NAME, "body").text
    assert not [d for d in DEAD if d in text], f"{name} reopened shows a dead widget"
    # the plotly renderer shows a saved figure as the image JupyterLab saved with it, and
    # draws the live figure when needed: either counts
    drawn = lambda: driver.execute_script(
        "return [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
        ".jp-RenderedPlotly')].filter(e => e.querySelector('.main-svg, img.plot-img')"
        ").length;")
    try:
        _wait(lambda: drawn() >= figures, 60, f"{name}'s saved figures to be drawn")
    except AssertionError:
        raise AssertionError(f"{name} reopened: {drawn()} of its {figures} saved figures "
                             "drawn") from None
    if made:           # what the student made with the controls: shown as text, or in a
        saved_titles = [json.dumps(o["data"][PLOTLY].get("layout", {}).get("title"))
                        for o in outputs if PLOTLY in o.get("data", {})]
        shown = " ".join([_outputs_text(driver), *saved_titles,   # figure drawn (above)
                          *(e.text for e in _visible(driver, ".gtitle"))])
        assert made in shown, f"{name} reopened without the result {made!r}"
    driver.save_screenshot(str(ARTIFACTS / f"reopened-{name}.png"))


def _visible(driver, css):
    """Displayed elements under the open notebook; one detached meanwhile is not displayed."""
    found = driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) " + css)
    return [e for e in found if _displayed(e)]


def _displayed(element):
    try:
        return element.is_displayed()
    except StaleElementReferenceException:
        return False




def _outputs_text(driver):
    return " ".join(e.text for e in _visible(driver, ".jp-OutputArea-output"))


def _drive_p_slider(driver):
    """04: the p slider moves the summary to what the library says for p = 6."""
    handle = _wait(lambda: _visible(driver, ".noUi-handle"), 30, "the p slider")[0]
    assert "p = 5: keyword" in _outputs_text(driver)
    handle.send_keys(Keys.ARROW_RIGHT)
    _wait(lambda: "p = 6: keyword" in _outputs_text(driver), 30, "the summary for p = 6")
    from bki_lab.bki.dictionary import identify
    from bki_lab.pipeline.defence import bki_scores
    from bki_lab.pipeline.config import make_config
    from bki_lab.pipeline.attack import run_attack
    att = run_attack(make_config(preset="imdb-arrow", profile="quick", seed=0),
                     show_progress=False)
    res = identify(bki_scores(att, show_progress=False), p=6, is_poison=att.poisoned.is_poison)
    want = f"p = 6: keyword {res.keyword}, removed {res.n_removed} texts"
    assert want in _outputs_text(driver), f"outputs lack {want!r}"
    return want


def _drive_text_picker(driver):
    """03: the text picker switches the heatmap from a poisoned text to a clean one."""
    titles = lambda: [e.text for e in _visible(driver, ".gtitle")]
    _wait(lambda: any("(poisoned)" in t for t in titles()), 30, "a poisoned text's heatmap")
    before = set(titles())
    clean = [b for b in _visible(driver, ".widget-toggle-buttons button") if b.text == "clean"]
    assert clean, "no 'clean' toggle"
    clean[0].click()
    new = _wait(lambda: [t for t in titles() if "(clean)" in t and t not in before], 30,
                "the heatmap of a clean text")
    return new[0]


def _drive_preset_and_free_text(driver):
    """01: a preset fills the trigger field; a free-text trigger then poisons."""
    select = _wait(lambda: _visible(driver, ".widget-dropdown select"), 30, "the preset list")[0]
    Select(select).select_by_visible_text("imdb-crown")
    field = _visible(driver, ".widget-text input[type=text]")[0]
    _wait(lambda: field.get_attribute("value") == "no cross, no crown", 30,
          "the trigger field to follow the preset")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("a purple elephant sang")
    field.send_keys(Keys.TAB)
    _wait(lambda: Select(select).first_selected_option.text == "(free text)", 30,
          "the preset to switch to free text")
    button = [b for b in _visible(driver, "button.widget-button") if b.text.strip() == "poison"]
    assert button, "no 'poison' button"
    button[0].click()
    _wait(lambda: "texts poisoned" in (t := _outputs_text(driver))
          and "[[a purple elephant sang]]" in t, 120, "the result line of the free-text trigger")
    return "[[a purple elephant sang]]"


# the widgets driven as a student would, right after their notebook ran whole
DRIVE = {"01_poisoning.ipynb": _drive_preset_and_free_text,
         "03_word_impact_heatmaps.ipynb": _drive_text_picker,
         "04_keyword_dictionary.ipynb": _drive_p_slider}


REPORTS = sorted(p.name for p in (ROOT / "results").glob("*.html"))


@pytest.mark.parametrize("report", REPORTS)
def test_reports_render_offline(driver, lab, report):
    _, _, root = lab
    driver.set_network_conditions(offline=True, latency=0, download_throughput=0,
                                  upload_throughput=0)
    try:
        driver.get_log("browser")
        driver.get((Path(root) / "results" / report).as_uri())
        divs = driver.find_elements(By.CSS_SELECTOR, ".plotly-graph-div")
        if divs:
            _wait(lambda: len(driver.find_elements(By.CSS_SELECTOR,
                                                   ".plotly-graph-div .main-svg")) > 0,
                  30, f"{report}'s figure to draw offline")
        assert not _severe(driver), f"{report}: {_severe(driver)}"
    finally:
        driver.delete_network_conditions()


def test_a_notebook_exported_to_html_shows_its_figures_offline(driver, lab, tmp_path):
    from bki_lab.viz.notebooks import export_html
    name = "04_keyword_dictionary.ipynb"
    page = export_html(ROOT / "notebooks" / name, tmp_path / "04.html")
    expected = _committed_figures(name)
    driver.set_network_conditions(offline=True, latency=0, download_throughput=0,
                                  upload_throughput=0)
    try:
        driver.get_log("browser")
        driver.get(page.as_uri())
        _wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".plotly-graph-div .main-svg"))
              > 0, 30, "the exported figures to draw offline")
        drawn = driver.execute_script(
            "return [...document.querySelectorAll('.plotly-graph-div')]"
            ".filter(e => e.querySelector('.main-svg')).length;")
        assert expected > 0 and drawn == expected, f"{drawn} of {expected} figures drawn"
        assert not _severe(driver), _severe(driver)
    finally:
        driver.delete_network_conditions()
