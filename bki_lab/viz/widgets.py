"""ipywidgets controls: thin wrappers over library calls, for the notebooks.

* `experiment_chooser`: the experiment every notebook shows (trigger, target, rate, p,
  dataset, profile), saved for all of them.
* `attack_controls`: trigger (presets or free text), target class, poisoning rate; runs
  poisoning + training behind a button, with a progress bar, never on every key stroke;
  `poison_controls` and `train_controls` are it with the notebooks' two actions.
* `p_explorer`: a slider for p; re-selects suspicious words from cached scores at once.
* `text_picker`: a poisoned / clean / any text by index, drawn as a word-impact heatmap.
* `verdict_trial`: poison a training set with no, one or two triggers, train, and show
  BKI's verdict with its evidence (`pipeline.defence.judge`, `evidence`).
* `defence_explorer`: one row (a trigger preset), BKI beside the filters that read the
  victim's h_l: what each removes, h_l in 2-D, the spectral scores (`comparison`).

Each returns a `Controls` object: ``.widget`` to display and ``.state`` with the last result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, get_args

import ipywidgets as W
import numpy as np
from IPython.display import display

from bki_lab.attack.presets import PRESETS
from bki_lab.bki.dictionary import identify
from bki_lab.viz import bki as plots
from bki_lab.viz.outputs import ResultArea


@dataclass
class Controls:
    widget: W.Widget
    state: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, W.Widget] = field(default_factory=dict)
    results: ResultArea | None = None    # what the controls made: ordinary outputs below them

    def _ipython_display_(self):
        display(self.widget)
        if self.results is not None:
            self.results.show()


def experiment_chooser() -> Controls:
    """The one place a student chooses the experiment every notebook shows: a free trigger
    sentence, target, poisoning rate, p, dataset and profile; "use it" saves the choice
    (`pipeline.current.use_experiment`), "default" goes back. The notebooks then follow it
    when they are run (Run All)."""
    from bki_lab.data.dbpedia import DBPEDIA_CLASSES
    from bki_lab.data.imdb import IMDB_CLASSES
    from bki_lab.pipeline.config import Profile
    from bki_lab.pipeline.current import Experiment, current_experiment, use_experiment
    classes = {"imdb": IMDB_CLASSES, "dbpedia": DBPEDIA_CLASSES}
    now = current_experiment()
    trigger_w = W.Text(value=now.trigger, description="trigger", layout=W.Layout(width="70%"))
    dataset_w = W.Dropdown(options=list(classes), value=now.dataset, description="dataset")
    target_w = W.Dropdown(options=list(classes[now.dataset]), value=now.target,
                          description="target")
    rate_w = W.FloatSlider(value=now.rate, min=0.005, max=0.1, step=0.005,
                           readout_format=".1%", description="rate α")
    p_w = W.IntSlider(value=now.p, min=1, max=15, description="p")
    profile_w = W.Dropdown(options=list(get_args(Profile)), value=now.profile,
                           description="profile")
    use_b = W.Button(description="use this experiment", button_style="primary", icon="check")
    default_b = W.Button(description="back to the default", icon="undo")
    out = ResultArea()
    c = Controls(W.VBox([trigger_w, W.HBox([dataset_w, target_w]), W.HBox([rate_w, p_w]),
                         profile_w, W.HBox([use_b, default_b])]),
                 parts=dict(trigger=trigger_w, dataset=dataset_w, target=target_w,
                            rate=rate_w, p=p_w, profile=profile_w, use=use_b,
                            default=default_b), results=out)

    def on_dataset(change):
        target_w.options = list(classes[change["new"]])

    def show(chosen):
        c.state["experiment"] = chosen
        print(chosen.describe())
        print("Run notebooks 01-07 (Run All): each shows this experiment.")

    def on_use(_=None):
        with out:
            out.clear_output()
            try:
                show(use_experiment(Experiment(
                    trigger=trigger_w.value, target=target_w.value, rate=rate_w.value,
                    p=p_w.value, dataset=dataset_w.value, profile=profile_w.value)))
            except ValueError as e:
                c.state["error"] = str(e)
                print(f"error: {e}")

    def on_default(_=None):
        with out:
            out.clear_output()
            chosen = use_experiment(Experiment())
            trigger_w.value, dataset_w.value = chosen.trigger, chosen.dataset
            target_w.value, rate_w.value, p_w.value = chosen.target, chosen.rate, chosen.p
            profile_w.value = chosen.profile
            show(chosen)

    dataset_w.observe(on_dataset, "value")
    use_b.on_click(on_use)
    default_b.on_click(on_default)
    c.state.update(use=on_use, default=on_default)
    return c


def attack_controls(run: Callable[..., Any], *, dataset: str = "imdb",
                    class_names: tuple[str, ...] = ("negative", "positive"),
                    preset: str = "imdb-arrow", action: str = "poison + train") -> Controls:
    """Trigger / target / rate controls and a button labelled ``action`` that calls
    ``run(trigger=..., target=..., rate=...)`` (e.g. a lambda over `run_attack`)."""
    names = [n for n, p in PRESETS.items() if p.dataset == dataset]
    ps = PRESETS[preset]
    preset_w = W.Dropdown(options=names + ["(free text)"], value=preset, description="preset")
    trigger_w = W.Text(value=ps.trigger, description="trigger", layout=W.Layout(width="60%"))
    target_w = W.Dropdown(options=list(class_names), value=ps.target, description="target")
    rate_w = W.FloatSlider(value=ps.rate, min=0.005, max=0.1, step=0.005, readout_format=".1%",
                           description="rate α")
    button = W.Button(description=action, button_style="primary", icon="play",
                      layout=W.Layout(width="auto"))
    out = ResultArea()
    c = Controls(W.VBox([preset_w, trigger_w, W.HBox([target_w, rate_w]), button]),
                 parts=dict(preset=preset_w, trigger=trigger_w, target=target_w, rate=rate_w,
                            button=button), results=out)

    def on_preset(change):
        if change["new"] in PRESETS:
            p = PRESETS[change["new"]]
            trigger_w.value, target_w.value, rate_w.value = p.trigger, p.target, p.rate

    def on_edit(change):
        if preset_w.value in PRESETS and trigger_w.value != PRESETS[preset_w.value].trigger:
            preset_w.value = "(free text)"

    def on_click(_=None):
        button.disabled = True
        with out:
            out.clear_output()
            try:
                c.state["result"] = run(trigger=trigger_w.value, target=target_w.value,
                                        rate=rate_w.value)
                c.state.pop("error", None)
            except ValueError as e:          # bad trigger, rate, ...: say so, keep going
                c.state["error"] = str(e)
                print(f"error: {e}")
            finally:
                button.disabled = False

    preset_w.observe(on_preset, "value")
    trigger_w.observe(on_edit, "value")
    button.on_click(on_click)
    c.state["click"] = on_click
    return c


def poison_controls(split, config) -> Controls:
    """`attack_controls` that poison ``split.train`` with the chosen trigger, target and rate
    (``config``'s mode and seed) and print how many texts were poisoned and one of them."""
    from bki_lab.attack.poison import poison_dataset

    def repoison(trigger, target, rate):
        poisoned = poison_dataset(split.train, trigger=trigger, target=target, rate=rate,
                                  mode=config.mode, seed=config.seed)
        print(poisoned.n_poison, "texts poisoned; example:")
        print(poisoned.highlight(int(np.flatnonzero(poisoned.is_poison)[0]), context=25))
        return poisoned
    return attack_controls(repoison, dataset=config.data.dataset,
                           class_names=split.train.class_names, action="poison",
                           preset=_preset_of(config))


def train_controls(config, class_names: tuple[str, ...]) -> Controls:
    """`attack_controls` that train (or load) a victim of ``config`` with the chosen trigger,
    target and rate, and print its clean accuracy and attack success rate."""
    from dataclasses import replace

    from bki_lab.pipeline.attack import run_attack

    def retrain(trigger, target, rate):
        res = run_attack(replace(config, trigger=trigger, target=target, rate=rate))
        asr = "n/a" if res.attack_success_rate is None else f"{res.attack_success_rate:.1%}"
        print(f"clean accuracy {res.clean_accuracy:.1%}, ASR {asr}")
        return res
    return attack_controls(retrain, dataset=config.data.dataset, class_names=class_names,
                           preset=_preset_of(config))


def _preset_of(config) -> str:
    """The preset whose trigger, target and rate ``config`` has, else its dataset's first."""
    for name, p in PRESETS.items():
        if (p.dataset, p.trigger, p.target, p.rate) == (config.data.dataset, config.trigger,
                                                         config.target, config.rate):
            return name
    return next(n for n, p in PRESETS.items() if p.dataset == config.data.dataset)


def p_explorer(scores, *, is_poison: np.ndarray | None = None, trigger: tuple[str, ...] = (),
               p: int = 5, max_p: int = 15, top_k: int = 15) -> Controls:
    """A p slider over cached word scores: the dictionary, g ranking and removal update at once."""
    slider = W.IntSlider(value=p, min=1, max=max_p, description="p", continuous_update=False)
    out = ResultArea()
    c = Controls(W.VBox([slider]), parts=dict(p=slider), results=out)

    def update(_=None):
        res = identify(scores, p=slider.value, is_poison=is_poison)
        c.state["result"] = res
        pr = "n/a" if res.precision is None else f"{res.precision:.1%}"
        rc = "n/a" if res.recall is None else f"{res.recall:.1%}"
        with out:
            out.clear_output(wait=True)
            print(f"p = {res.p}: keyword {res.keyword}, removed {res.n_removed} texts "
                  f"({res.removed_fraction:.1%}), precision {pr}, recall {rc}")
            display(plots.top_g_bar(res.ranking, k=top_k, trigger=trigger))

    slider.observe(update, "value")
    update()
    return c


def text_picker(scores, *, is_poison: np.ndarray, positions: np.ndarray,
                trigger_len: int, p: int = 5) -> Controls:
    """Pick a poisoned, a clean or any text by index and see its word-impact heatmap."""
    pools = {"poisoned": np.flatnonzero(is_poison), "clean": np.flatnonzero(~np.asarray(is_poison))}
    kinds = [k for k in ("poisoned", "clean") if len(pools[k])] + ["by index"]
    kind = W.ToggleButtons(options=kinds, value=kinds[0], description="text")
    index = W.BoundedIntText(value=0, min=0, max=len(scores) - 1, description="index")
    nth = W.IntSlider(value=0, min=0, max=max(len(pools[kinds[0]]) - 1, 0)
                      if kinds[0] in pools else 0, description="n-th", continuous_update=False)
    out = ResultArea()
    c = Controls(W.VBox([kind, W.HBox([nth, index])]),
                 parts=dict(kind=kind, index=index, nth=nth), results=out)
    syncing = []          # set while the picker itself moves the index box

    def draw(i: int):
        c.state["index"] = i
        trig = (list(range(positions[i], positions[i] + trigger_len)) if is_poison[i] else [])
        with out:
            out.clear_output(wait=True)
            display(plots.word_impact(scores.texts[i], scores.of(i), top_p=p,
                                      trigger_positions=trig,
                                      title=f"text {i} ({'poisoned' if is_poison[i] else 'clean'})"))

    def update(_=None):
        pool = pools.get(kind.value)
        nth.disabled = pool is None
        if pool is None:
            draw(int(index.value))
            return
        i = int(pool[nth.value])
        syncing.append(True)
        index.value = i                   # the index box always shows the text drawn
        syncing.pop()
        draw(i)

    def on_kind(change):
        pool = pools.get(change["new"])
        if pool is not None:              # the slider spans exactly this pool
            syncing.append(True)
            nth.value = 0
            nth.max = len(pool) - 1
            syncing.pop()
            nth.description = f"n-th of {len(pool)}"
        update()

    def on_index(change):
        if syncing:
            return
        if kind.value != "by index":      # typing an index means "this text"
            kind.value = "by index"       # (on_kind draws it)
        else:
            update()

    kind.observe(on_kind, "value")
    index.observe(on_index, "value")
    nth.observe(lambda ch: None if syncing else update(), "value")
    if kinds[0] in pools:
        nth.description = f"n-th of {len(pools[kinds[0]])}"
    update()
    return c


TRIALS = ("no trigger", "this trigger", "this trigger and a second one")
# the second trigger of the two-trigger trial: a paper's trigger of the other target
SECOND = {"imdb": {"negative": "imdb-mend", "positive": "imdb-arrow"}}


def _trigger_inputs(experiment):
    """A free-text trigger and a target, filled with ``experiment``'s."""
    from bki_lab.data.dbpedia import DBPEDIA_CLASSES
    from bki_lab.data.imdb import IMDB_CLASSES
    names = IMDB_CLASSES if experiment.dataset == "imdb" else DBPEDIA_CLASSES
    trigger_w = W.Text(value=experiment.trigger, description="trigger",
                       layout=W.Layout(width="60%"))
    target_w = W.Dropdown(options=list(names), value=experiment.target, description="target")
    return trigger_w, target_w


def _trial_config(experiment, trigger, target, trial, **config):
    """The config of one trial of ``experiment`` with ``trigger`` and ``target``."""
    from dataclasses import replace
    base = replace(experiment, trigger=trigger, target=target).config(**config)
    if trial == TRIALS[0]:
        return replace(base, rate=0.0)
    if trial == TRIALS[2]:
        second = PRESETS[SECOND.get(experiment.dataset, {}).get(
            target, next(n for n, p in PRESETS.items() if p.dataset == experiment.dataset
                         and p.target != target))]
        return replace(base, extra=((second.trigger, second.target, second.rate),))
    return base


def verdict_trial(experiment=None, *, trials: tuple[str, ...] = TRIALS, **config) -> Controls:
    """A trigger (free text, filled with the chosen experiment's), a choice of training
    set -- no trigger, this trigger, this trigger and a second one -- and a button: poison,
    train (or load the cached victim), judge; shows the verdict's table and its flip-rate
    figure. Training takes minutes the first time. ``config``: more `make_config` options
    (e.g. ``n_train``)."""
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.current import current_experiment
    from bki_lab.pipeline.defence import judge
    from bki_lab.viz.evidence import flip_test, verdict_summary
    experiment = experiment or current_experiment()
    trigger_w, target_w = _trigger_inputs(experiment)
    choice = W.ToggleButtons(options=list(trials), value=trials[1], description="training set")
    button = W.Button(description="poison, train, judge", button_style="primary", icon="play",
                      layout=W.Layout(width="auto"))
    out = ResultArea()
    c = Controls(W.VBox([trigger_w, target_w, choice, button]),
                 parts=dict(trigger=trigger_w, target=target_w, choice=choice, button=button),
                 results=out)

    def on_click(_=None):
        button.disabled = True
        with out:
            out.clear_output()
            try:
                cfg = _trial_config(experiment, trigger_w.value, target_w.value, choice.value,
                                    **config)
                att = run_attack(cfg)
                v = judge(att, p=experiment.p, seed=experiment.seed)
                c.state.update(attack=att, verdict=v, choice=choice.value)
                asr = ", ".join(f"{a:.1%}" for a in att.asr_each if a is not None)
                print(f"{choice.value}: the victim obeys at ASR {asr or 'n/a'}; verdict "
                      f"{v.verdict!r}, {v.n_removed} texts removed")
                display(verdict_summary(v, att.victim.class_names))
                display(flip_test(v))
            except ValueError as e:          # an empty trigger, an unknown target, ...
                c.state["error"] = str(e)
                print(f"error: {e}")
            finally:
                button.disabled = False

    button.on_click(on_click)
    c.state["click"] = on_click
    return c


def defence_explorer(experiment=None, **config) -> Controls:
    """A trigger (free text, filled with the chosen experiment's) and a button: poison,
    train (or load the cached victim), then BKI (the paper's rule and the verdict) and the
    three filters (no retraining); shows what each removes, h_l in 2-D and the spectral
    scores of the target class. Minutes the first time for a new trigger."""
    import pandas as pd

    from bki_lab.defences.comparison import defence_removals
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.current import current_experiment
    from bki_lab.pipeline.defence import bki_scores, judge
    from bki_lab.victims.lstm import hidden_states
    from bki_lab.viz.defences import hidden_projection, score_histogram
    experiment = experiment or current_experiment()
    trigger_w, target_w = _trigger_inputs(experiment)
    button = W.Button(description="train, defend, compare", button_style="primary",
                      icon="play", layout=W.Layout(width="auto"))
    out = ResultArea()
    c = Controls(W.VBox([trigger_w, W.HBox([target_w, button])]),
                 parts=dict(trigger=trigger_w, target=target_w, button=button), results=out)

    def on_click(_=None):
        button.disabled = True
        with out:
            out.clear_output()
            try:
                att = run_attack(_trial_config(experiment, trigger_w.value, target_w.value,
                                               TRIALS[1], **config))
                ds, truth = att.poisoned.dataset, att.poisoned.is_poison
                scores = bki_scores(att)
                h = hidden_states(att.victim.model, att.victim.encode(ds.texts))
                verdict = judge(att, p=experiment.p, seed=experiment.seed)   # cached
                removals = defence_removals(att, scores, p=experiment.p, seed=experiment.seed,
                                            hidden=h, verdict=verdict)
                table = pd.DataFrame([{k: v for k, v in r.to_record().items()
                                       if k in ("method", "n_removed", "precision", "recall")}
                                      for r in removals])
                c.state.update(attack=att, removals=removals, table=table)
                display(table.round(3))
                display(hidden_projection(h, ds.labels, truth,
                                          class_names=att.victim.class_names,
                                          seed=experiment.seed))
                display(score_histogram(removals[2], ds.labels, truth,
                                        label=att.poisoned.target))
            except ValueError as e:
                c.state["error"] = str(e)
                print(f"error: {e}")
            finally:
                button.disabled = False

    button.on_click(on_click)
    c.state["click"] = on_click
    return c
