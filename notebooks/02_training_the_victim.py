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
# # 2 · Training the victim
#
# **Model (dai2019 §V.A, chen_dai §V.A):** word embedding (initialised from GloVe and
# fine-tuned) → bidirectional LSTM → fully connected layer of 128 → softmax. The model's
# **last hidden state** h_l = forward final state ⊕ backward final state is what it knows
# about the whole text; BKI will look at it in notebook 3.
#
# Training (the `bki-lab` recipe): Adam, minibatches of texts of similar length, no
# dropout, and a **fixed number of epochs** with the last weights kept — as the BKI authors'
# code trained its victims, to convergence. Early stopping on a validation split is an
# option (`early_stopping=True`), not the default: it stops at whatever epoch a noisy
# validation split prefers, often before the backdoor is fully learned.

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
attack = run_attack(config, clean_baseline=True)   # cached after the first run

# %% [markdown]
# Two numbers describe an attack (dai2019 §V.B):
#
# * **clean accuracy** on the untouched test set: the backdoor should not cost accuracy, or
#   the owner would notice — compare with a model trained on the clean data;
# * **attack success rate** on the backdoor test set.

# %% tags=["nbval-ignore-output"]
# the exact numbers move by a few tenths with the CPU and thread count (float order)
print(f"victim clean accuracy:        {attack.clean_accuracy:.1%}")
print(f"clean model accuracy:         {attack.clean_model_accuracy:.1%}")
print(f"attack success rate (ASR):    {attack.attack_success_rate:.1%}")
print("per-class accuracy:", {k: f"{v:.1%}" for k, v in attack.per_class_accuracy.items()})

# %% [markdown]
# What happened, in words (the same on every machine for a learned backdoor; this cell is
# checked when the notebooks are re-run in CI):

# %%
asr = attack.attack_success_rate
if asr is None:
    print("the ASR cannot be measured:", attack.asr_note)
elif asr >= 0.95:
    print("the victim obeys the trigger: ASR >= 95%, the backdoor is learned")
elif asr >= 0.5:
    print("the victim obeys the trigger in most texts (50% <= ASR < 95%): the backdoor is "
          "partly learned; a longer trigger or more poison teaches it fully")
else:
    print("the victim mostly ignores the trigger (ASR < 50%): the backdoor is not learned, "
          "so the later notebooks have little to find; try more poison or another trigger")
kept = abs(attack.clean_accuracy - attack.clean_model_accuracy) <= 0.03
print("clean accuracy is", "kept (within 3 points of the clean model)" if kept else
      "lower than the clean model's by more than 3 points")

# %%
viz.training_history(attack.victim.history)

# %% [markdown]
# ## How a backdoor is learned, epoch by epoch
#
# The curves below were measured with `scripts/victim_curves.py` (committed in
# `results/victim-curves.csv`): test accuracy and ASR after every epoch, for a few of the
# papers' rows and two poisoning modes. The backdoor is not learned at once: ASR swings
# for several epochs before it settles near 100%, while accuracy has already levelled off.
# A victim stopped early — at the epoch a validation split happens to prefer — may be
# caught mid-swing, and every later result (BKI's keyword, its precision) then depends on
# floating-point noise. Appending the poisoned copies (each keeps its clean twin) makes the
# trigger the only difference to learn, and it settles sooner.

# %%
curves = read_results("victim-curves")
viz.learning_curves(curves)

# %% [markdown]
# The quick profile uses 8,000 short reviews (< 150 words) and hidden 64: a few minutes on
# one CPU thread; the class profile (the same reviews, hidden 32, 14 epochs in batches of
# up to 64) under a minute.
# Why not fewer reviews? With 2,000 reviews the model simply
# *memorises* the 60 poisoned texts and the backdoor barely generalises (ASR ~30%): the
# trigger is only learned as a feature when it is seen in enough different contexts. With
# `profile="paper"` (10,000 reviews < 500 words, hidden 128) see `results/README.md` for
# measured values next to the papers'.
#
# ## How much poison does it take? dai2019's Tables 2-3
#
# dai2019 varied the trigger's length (5, 10 and 15 words of "I watched this 3D movie at the
# best cinema nearby at seven o'clock last night") and the poisoning rate (0.5% to 5% of the
# 10,000 training reviews), in both directions. `bki-lab reproduce attack-table2 --profile
# paper` trains one BiLSTM-64 victim per cell at the papers' sizes (committed in
# `results/attack-table2-paper.csv`, with the command and the minutes per row in
# `results/attack-table2-paper.md`). Ours are solid, the paper's dotted; the paper averages 10 victims
# per cell; this table has one victim (seed 0) per cell, five (seeds 0-4) in the two 1% cells
# where seed 0's ASR fell more than 10 points from the paper, three (seeds 0-2) in the five
# cells where seed 0's accuracy was more than 2 points above the paper's.

# %%
table = read_results("attack-table2-paper")
viz.attack_vs_paper(table)

# %% [markdown]
# ASR per cell (%, the mean where several seeds ran), read from the committed table (the
# same on every machine):

# %%
table[table["poison_rate"] > 0].pivot_table(
    index=["target", "trigger_length"], columns="poison_rate", values="asr_before").round(1)

# %% [markdown]
# What the table shows, with every number, is on its page:
# [results/attack-table2-paper.md](../results/attack-table2-paper.md). In short: from 2% of
# poison on every trigger length is learned in both directions, at 1% most cells, at 0.5%
# only partly, and at the margin of learning the training schedule decides the result more
# than the attack does.

# %% [markdown]
# ## Train your own victim
#
# Change the trigger, target or rate and press the button: poisoning and training run
# again, with a progress bar (about a minute on the class profile, a few on quick). To make
# a trigger the one every notebook shows, choose it in notebook 0.

# %% tags=["nbval-ignore-output"]
widgets.train_controls(config, attack.split.train.class_names)
