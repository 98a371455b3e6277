# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7 · BKI among its peers
#
# Is BKI good? Only beside the alternatives, on the same victim and the same training set.
# BKI twice, as the paper removes (the top keyword's texts) and as the verdict of notebook 6
# removes (each verified phrase's texts, nothing when none is verified), and three
# training-set filters that need no pretrained language model:
#
# * **spectral signatures** (Tran, Li & Madry 2018): within each class, the poisoned texts'
#   h_l should stick out along the top singular direction; remove the texts with the
#   largest projections (1.5 × the poison share the defender assumes);
# * **activation clustering** (Chen et al. 2018): within each class, split h_l in two
#   clusters; a small, well separated cluster is removed;
# * **word–label statistics** (in the spirit of Z-Def, He et al. 2023): no model at all;
#   words whose label is far more skewed than the label shares explain, and their texts.
#
# And a test-time detector, **STRIP** (Gao et al.): replace half the words of an input with
# words of other texts, ten times here; a triggered input keeps its target label wherever the
# trigger survives (low entropy), a clean one should wander. Its threshold is set on training
# texts for 1% false rejection.

# %%
import numpy as np
import pandas as pd
import bki_lab
from bki_lab import (bki_scores, current_experiment, load_split, run_attack,
                     run_defence, viz)
from bki_lab.viz import widgets
from bki_lab import read_results

bki_lab.set_seed(0)
pd.set_option("display.precision", 3)
from bki_lab import defence_removals, judge
from bki_lab import hidden_states
from bki_lab import strip_detect, victim_proba

# %%
# The experiment every notebook shows: chosen in notebook 0 (or with `bki-lab use`), the
# default until one is chosen. Profiles: class (a lesson: 8,000 reviews < 150 words,
# BiLSTM-32, under a minute), quick (the same reviews, BiLSTM-64, a few minutes), paper (the
# papers' sizes: 10,000 reviews < 500 words, BiLSTM-128).
experiment = current_experiment()
print(experiment.describe())
config = experiment.config()
print(config.trigger, "->", config.target, f"at rate {config.rate:.0%};",
      config.data.n_train, "training texts, hidden", config.train.hidden)
print("recipe", config.recipe, "| poisoning mode", config.mode, "|",
      config.train.max_epochs, "epochs")

# %% tags=["nbval-ignore-output"]
attack = run_attack(config)                  # cached by notebook 2
scores = bki_scores(attack)                  # cached by notebook 3
ds, truth = attack.poisoned.dataset, attack.poisoned.is_poison
h = hidden_states(attack.victim.model, attack.victim.encode(ds.texts))   # the victim's h_l
verdict = judge(attack, p=experiment.p)      # cached by notebook 6
removals = defence_removals(attack, scores, p=experiment.p, hidden=h,  # BKI twice, then
                            verdict=verdict)                            # the filters
table = pd.DataFrame([{k: v for k, v in r.to_record().items()
                       if k in ("method", "n_removed", "precision", "recall")}
                      for r in removals])

# %%
# which filter removes the poison best here, in words (checked on every machine for the
# default experiment)
best = max(removals, key=lambda r: (r.precision or 0) + (r.recall or 0))
print("the best filter here:", "BKI" if best.method.startswith("bki") else best.method)
for r in removals[:2]:
    good = (r.precision or 0) >= 0.95 and (r.recall or 0) >= 0.95
    print(f"{r.method}: precision and recall", "both at least 95%" if good else
          f"{r.precision or 0:.0%} and {r.recall or 0:.0%}")

# %% tags=["nbval-ignore-output"]
table.round(3)

# %% [markdown]
# Why do the filters that read h_l do worse? They assume the poisoned texts form their own
# group in the victim's representation. Below, h_l of every poisoned text (red crosses) and a
# sample of clean ones, on its top two principal components:

# %% tags=["nbval-ignore-output"]
viz.hidden_projection(h, ds.labels, truth, class_names=attack.victim.class_names)

# %% [markdown]
# Where do the poisoned texts lie? If they form a band or cluster of their own, a filter that
# reads h_l can cut it off; if they sit inside their target class's cloud (they *are* target
# texts to the victim, for the trigger's sake), it cannot. The figure shows which it is for
# this victim; the numbers above say how well each filter did. Spectral signatures look for
# them along the top singular direction of the target class: the histogram shows how far
# their scores overlap the clean texts', and where the filter's cut falls.

# %% tags=["nbval-ignore-output"]
viz.score_histogram(removals[2], ds.labels, truth, label=attack.poisoned.target)

# %% [markdown]
# BKI does not look for a group of texts at all: it asks which single *word* moves h_l most
# when deleted, and which such word recurs across many texts. A trigger is exactly that.
#
# ## At test time: STRIP

# %% tags=["nbval-ignore-output"]
test, target = attack.split.test, attack.backdoor.target
clean_test = [t for t, y in zip(test.texts, test.labels) if y != target][:150]
strip = strip_detect(victim_proba(attack.victim), ds.texts, clean_test,
                     list(attack.backdoor.dataset.texts[:150]), n_train=150, n=10)
{k: round(v, 3) if isinstance(v, float) else v for k, v in strip.to_record().items()}

# %% [markdown]
# Long reviews keep their sentiment when half their words are replaced: the victim stays
# confident on clean texts too, so a threshold that rejects only 1% of training texts accepts
# almost every triggered one. STRIP was designed for images, where a blended image loses its
# class; on this victim it is not a defence.
#
# ## Every row
#
# `bki-lab reproduce defences` runs every defence on every Table-3 row, each followed by
# retraining on what it keeps. The committed results: the IMDB rows at the quick profile, the
# DBpedia rows and five IMDB rows (aspects, attention, crown, mend, sack) at the paper
# profile (14 classes; the quick DBpedia victim is too small to learn the triggers). Every
# row has the verdict's line too, retrained like the others:

# %% tags=["nbval-ignore-output"]
for profile in ("quick", "paper"):
    df = read_results(f"defences-{profile}")
    if df is not None:
        print(f"{profile} profile: {df['id'].nunique()} rows")
        with pd.option_context("display.max_rows", len(df)):
            display(df.round(1))
        display(viz.defences_figure(df, profile=profile))
    else:
        print(f"not run yet: bki-lab reproduce defences --profile {profile} --out results")

# %% [markdown]
# ## Try another row
#
# Type a trigger (your experiment's is filled in) and press the button: the victim is trained
# (a minute or more the first time), then BKI (both ways) and the three filters run on it.

# %% tags=["nbval-ignore-output"]
widgets.defence_explorer(experiment)
