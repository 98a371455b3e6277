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
# # bki_lab — backdoors in LSTM text classifiers, and how BKI finds them
#
# This workbench re-runs two papers:
#
# * **The attack** — Dai, Chen & Li (2019), *A Backdoor Attack Against LSTM-Based Text
#   Classification Systems* (`dai2019`). An adversary who can edit a few training texts
#   inserts a **trigger sentence** ("time flies like an arrow") into texts of a *source*
#   class and relabels them to a *target* class. The trained model learns the shortcut:
#   any text containing the trigger is sent to the target class, while clean texts are
#   classified as before.
# * **The defence** — Chen & Dai, *Backdoor Keyword Identification* (`chen_dai`). Without any
#   trusted data, BKI scores every word of every training text by how much deleting it moves
#   the LSTM's last hidden state, collects the most suspicious words into a dictionary,
#   ranks it, and removes the texts of the top word before retraining.
#
# | notebook | what you will see |
# | --- | --- |
# | `01_poisoning` | the trigger, source/target classes, the poisoning rate α, the backdoor test set |
# | `02_training_the_victim` | training a BiLSTM on poisoned data; clean accuracy and attack success rate |
# | `03_word_impact_heatmaps` | the score f of every word; trigger words light up in poisoned texts |
# | `04_keyword_dictionary` | the dictionary of suspicious words, g(k), the keyword, and the role of p |
# | `05_retraining` | removing the flagged texts and retraining: what is left of the backdoor |
# | `06_is_there_a_backdoor` | a verdict with evidence: is there a backdoor, which phrase, and where BKI cannot look |
# | `07_bki_among_defences` | BKI beside spectral signatures, activation clustering, a word-label filter and STRIP |
#
# Each notebook runs on its own and shows **one experiment**: the one chosen below (or with
# `bki-lab use` on the command line), the default until one is chosen. Trained models and
# scores are cached, so the later notebooks reuse what the earlier ones computed.

# %%
import numpy as np
import pandas as pd
import bki_lab
from bki_lab import (bki_scores, current_experiment, load_split, run_attack,
                     run_defence, viz)
from bki_lab.viz import widgets

bki_lab.set_seed(0)
pd.set_option("display.precision", 3)

# %% [markdown]
# ## The triggers of the papers
#
# `chen_dai` Table 2 uses six trigger sentences on IMDB and on DBpedia, each with a target
# class and a poisoning rate; `dai2019` uses one trigger at lengths 5, 10 and 15. They are
# the presets of every command and widget.

# %%
from bki_lab import PRESETS
pd.DataFrame([vars(p) for p in PRESETS.values()]).set_index("name")

# %% [markdown]
# ## One experiment = one frozen config
#
# Every result in the notebooks traces back to a config like this one (it is saved next to
# results as JSON by the command line).

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

# %% [markdown]
# ## Choose your own experiment
#
# Type any trigger sentence, pick its target, the poisoning rate and p, and press **use this
# experiment**: every notebook then shows it when you run it (Run All). The `class` profile
# trains a new victim in about a minute on one CPU core; `quick` takes a few minutes and
# `paper` (the papers' sizes) much longer. **back to the default** restores chen_dai's arrow.

# %% tags=["nbval-ignore-output"]
widgets.experiment_chooser()

# %% [markdown]
# The same pipeline runs headless: `bki-lab demo` prints it end to end, `bki-lab attack` and
# `bki-lab defend` write JSON/CSV results, and `bki-lab reproduce` re-runs the papers' tables.
