import numpy as np

from bki_lab.viz import widgets
from bki_lab.bki.scoring import WordScores


def scores():
    texts = [("a", "zap", "b"), ("c", "d"), ("zap", "e"), ("f",)]
    per = [[0.1, 0.9, 0.2], [0.3, 0.1], [0.8, 0.05], [0.4]]
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    return WordScores(tuple(texts), offsets, np.concatenate(per).astype(np.float32), "given", 0.0)


def test_p_explorer_reselects_from_cached_scores():
    poison = np.array([True, False, True, False])
    c = widgets.p_explorer(scores(), is_poison=poison, trigger=("zap",), p=1)
    assert c.state["result"].keyword == "zap" and c.state["result"].p == 1
    assert "precision 100.0%" in c.results.text
    c.parts["p"].value = 2
    assert c.state["result"].p == 2
    assert "p = 2" in c.results.text


def test_text_picker_switches_between_poisoned_clean_and_index():
    poison = np.array([True, False, True, False])
    c = widgets.text_picker(scores(), is_poison=poison, positions=np.array([1, -1, 0, -1]),
                            trigger_len=1, p=1)
    assert c.state["index"] == 0 and c.parts["nth"].max == 1     # 2 poisoned texts
    c.parts["nth"].value = 1
    assert c.state["index"] == 2 and c.parts["index"].value == 2  # the box shows the text
    assert c.parts["kind"].value == "poisoned"
    c.parts["kind"].value = "clean"
    assert c.state["index"] == 1 and c.parts["nth"].max == 1
    c.parts["nth"].value = 1
    assert c.state["index"] == 3
    c.parts["kind"].value = "by index"
    assert c.parts["nth"].disabled
    c.parts["index"].value = 1
    assert c.state["index"] == 1


def test_text_picker_index_box_is_never_ignored():
    poison = np.array([True, False, True, False])
    c = widgets.text_picker(scores(), is_poison=poison, positions=np.array([1, -1, 0, -1]),
                            trigger_len=1, p=1)
    c.parts["index"].value = 3                       # typed while "poisoned" is chosen
    assert c.parts["kind"].value == "by index" and c.state["index"] == 3


def test_attack_controls_button_says_what_it_does():
    c = widgets.attack_controls(lambda **kw: None, action="poison")
    assert c.parts["button"].description == "poison"


def test_attack_controls_fill_presets_and_run_on_click_only():
    calls = []
    c = widgets.attack_controls(lambda **kw: calls.append(kw) or "done")
    c.parts["preset"].value = "imdb-crown"
    assert c.parts["trigger"].value == "no cross, no crown" and c.parts["target"].value == "positive"
    c.parts["trigger"].value = "my own trigger"
    assert c.parts["preset"].value == "(free text)" and calls == []   # no run on typing
    c.state["click"]()
    assert calls == [{"trigger": "my own trigger", "target": "positive", "rate": 0.03}]
    assert c.state["result"] == "done"

    def bad(**kw):
        raise ValueError("the trigger has no words")
    c2 = widgets.attack_controls(bad)
    c2.state["click"]()
    assert "no words" in c2.state["error"] and not c2.parts["button"].disabled


TINY_CFG = dict(n_train=20, n_test=10, embedding="random", hidden=8, max_epochs=2)


def test_verdict_trial_judges_the_chosen_training_set_with_a_free_trigger(imdb_dir):
    from bki_lab import Experiment
    from bki_lab.viz.widgets import TRIALS, verdict_trial
    exp = Experiment(trigger="a purple elephant sang", target="positive", rate=0.1, p=1)
    c = verdict_trial(exp, **TINY_CFG)
    assert c.parts["trigger"].value == "a purple elephant sang" and "verdict" not in c.state
    c.parts["choice"].value = TRIALS[0]
    c.state["click"]()
    assert c.state["attack"].poisoned.n_poison == 0
    # clean data: nothing flips the victim far above its frequency-matched null
    assert c.state["verdict"].verdict == "no backdoor found"
    assert not c.state["verdict"].removed.any()
    c.parts["trigger"].value, c.parts["choice"].value = "zorp quix blib", TRIALS[2]
    c.state["click"]()
    cfg = c.state["attack"].config
    assert cfg.trigger == "zorp quix blib" and cfg.target == "positive"
    assert cfg.extra == (("time flies like an arrow", "negative", 0.03),)
    c.parts["trigger"].value = "  "
    c.state["click"]()
    assert "empty" in c.state["error"] and not c.parts["button"].disabled


def test_defence_explorer_compares_a_free_trigger_on_click(imdb_dir):
    from bki_lab import Experiment
    from bki_lab.viz.widgets import defence_explorer
    c = defence_explorer(Experiment(rate=0.2, p=1), **TINY_CFG)
    assert "removals" not in c.state
    c.parts["trigger"].value, c.parts["target"].value = "no cross, no crown", "positive"
    c.state["click"]()
    assert c.state["attack"].config.trigger == "no cross, no crown"
    assert c.state["table"]["method"].tolist() == ["bki (paper)", "bki (verdict)",
                                                  "spectral signatures",
                                                  "activation clustering",
                                                  "word-label statistics"]
    assert not c.parts["button"].disabled


def test_poison_and_train_controls_use_the_configs_seed_and_preset(imdb_dir, monkeypatch):
    from bki_lab import load_split, make_config
    config = make_config(preset="imdb-mend", seed=3, n_train=20, n_test=10)
    split = load_split(config.data)
    c = widgets.poison_controls(split, config)
    assert c.parts["preset"].value == "imdb-mend"
    c.parts["trigger"].value, c.parts["rate"].value = "zorp quix", 0.1
    c.state["click"]()
    from bki_lab import poison_dataset
    want = poison_dataset(split.train, trigger="zorp quix", target="positive", rate=0.1,
                          mode=config.mode, seed=3)
    assert (c.state["result"].is_poison == want.is_poison).all()


def test_read_results_reads_a_table_or_says_none(tmp_path, monkeypatch):
    from bki_lab.reproduce.results import read_results
    monkeypatch.setenv("BKI_LAB_RESULTS", str(tmp_path))
    assert read_results("victim-curves") is None
    (tmp_path / "victim-curves.csv").write_text("a,b\n1,2\n")
    assert read_results("victim-curves").to_dict("records") == [{"a": 1, "b": 2}]


def test_the_chooser_saves_the_experiment_every_notebook_follows():
    from bki_lab import current_experiment
    c = widgets.experiment_chooser()
    assert c.parts["trigger"].value == "time flies like an arrow"
    c.parts["trigger"].value = "my neighbour's cat sleeps on the warm piano"
    c.parts["target"].value, c.parts["profile"].value = "positive", "class"
    c.state["use"]()
    e = current_experiment()
    assert (e.trigger, e.target, e.profile) == ("my neighbour's cat sleeps on the warm piano",
                                                "positive", "class")
    c.parts["dataset"].value = "dbpedia"                 # the targets follow the dataset
    assert "Building" in c.parts["target"].options
    c.parts["trigger"].value = " "
    c.state["use"]()
    assert "empty" in c.state["error"] and current_experiment() == e    # nothing written
    c.state["default"]()
    assert current_experiment().is_default and c.parts["trigger"].value == e.__class__().trigger


def test_a_result_area_shows_text_live_and_rich_outputs_in_fixed_slots(monkeypatch):
    """In a kernel: the area's outputs are display ids placed when the control is shown,
    then replaced in place by each result (text first, then tables and figures)."""
    from IPython.core.interactiveshell import InteractiveShell

    from bki_lab.viz.outputs import ResultArea
    shell = InteractiveShell.instance()
    published = []

    class Pub:
        def publish(self, data, metadata=None, transient=None, update=False, **kw):
            published.append((data, (transient or {}).get("display_id"), update))

        def clear_output(self, wait=False):
            pass
    monkeypatch.setattr(shell, "display_pub", Pub())
    area = ResultArea(slots=2)
    with area:                                   # before it is shown: kept, not published
        print("first")
    assert area.text == "first\n" and published == []
    area.show()
    ids = [i for _, i, upd in published if not upd]            # placed with their content
    assert len(ids) == 3 and len(set(ids)) == len(published) == 3
    assert published[0][0] == {"text/plain": "first"} and published[2][0] == {"text/plain": ""}
    published.clear()
    with area:
        area.clear_output()
        print("\rscoring: 50%", end="")
        print("\rscoring: 100%")
        print("done")
        from IPython.display import HTML, display
        display(HTML("<b>table</b>"))
    assert area.text == "scoring: 100%\ndone\n"
    last = {i: d for d, i, upd in published if upd}
    assert last[ids[0]] == {"text/plain": "scoring: 100%\ndone"}
    assert "<b>table</b>" in last[ids[1]]["text/html"] and ids[2] not in last   # unchanged
    assert shell.display_pub.__class__ is Pub                  # restored after the block
    published.clear()
    with area:                  # another figure of the same kind: a blank first, so that
        area.clear_output(wait=True)   # the browser makes a new renderer (plotly's doesn't redraw)
        print("scoring: 100%\ndone")
        display(HTML("<b>other</b>"))
    sent = [d for d, i, upd in published if i == ids[1]]
    assert sent[0] == {"text/plain": ""} and "<b>other</b>" in sent[1]["text/html"]
    assert all(i != ids[0] for _, i, _ in published)          # the same text: not sent again


def test_a_notebook_saved_without_widget_state_keeps_no_dead_view():
    from bki_lab.viz.saving import CONTROLS_GONE, WIDGET_STATE, WIDGET_VIEW, drop_dead_widgets
    view = {"output_type": "display_data", "metadata": {},
            "data": {WIDGET_VIEW: {"model_id": "abc", "version_major": 2},
                     "text/plain": "VBox(...)"}}
    kept = {"output_type": "display_data", "metadata": {},
            "data": {WIDGET_VIEW: {"model_id": "def"}, "text/plain": "x"}}
    result = {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "ASR 99%"}}
    model = {"type": "notebook", "content": {
        "metadata": {"widgets": {WIDGET_STATE: {"state": {"def": {}}}}},
        "cells": [{"cell_type": "code", "outputs": [view, result, kept]},
                  {"cell_type": "markdown", "source": "x"}]}}
    drop_dead_widgets(model=model, path="n.ipynb", contents_manager=None)
    outs = model["content"]["cells"][0]["outputs"]
    assert outs[0]["data"] == {"text/plain": CONTROLS_GONE}       # its model is gone
    assert outs[1]["data"] == {"text/plain": "ASR 99%"}             # results stay
    assert WIDGET_VIEW in outs[2]["data"]                          # its state was saved
    other = {"type": "file", "content": "text"}
    drop_dead_widgets(model=other, path="a.txt", contents_manager=None)
    assert other == {"type": "file", "content": "text"}


def test_installing_the_hook_keeps_the_rest_of_the_server_config(tmp_path):
    import json

    import pytest

    from bki_lab.viz.saving import HOOK, install
    config = tmp_path / "etc" / "jupyter_server_config.json"
    install(config)
    assert json.loads(config.read_text()) == {"ContentsManager": {"pre_save_hook": HOOK}}
    config.write_text(json.dumps({"ServerApp": {"port": 9}, "ContentsManager": {"x": 1}}))
    install(config)
    assert json.loads(config.read_text()) == {"ServerApp": {"port": 9},
                                              "ContentsManager": {"x": 1, "pre_save_hook": HOOK}}
    config.write_text("{not json")
    with pytest.raises(SystemExit, match="not JSON"):
        install(config)
    assert config.read_text() == "{not json"                     # left as it was
