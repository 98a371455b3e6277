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
# # 1 · Poisoning the training set
#
# **dai2019 §IV.C.** Take the clean training set D = {(x_i, y_i)}, i = 1..n. Choose m texts
# of the **source** classes (every class but the target), insert the **trigger sentence** at
# a uniformly random word boundary, and relabel them to the **target** class. The
# **poisoning rate** is α = m / n (dai2019 Table 1).
#
# Two ways to put them in: `mode="replace"` swaps each original for its poisoned copy (the
# set keeps its size); `mode="append"` — what the BKI authors' released code does, and our
# default — keeps the originals and adds the m poisoned copies. Append teaches the trigger
# faster and more cleanly: each poisoned text has a clean twin with the true label, so the
# only difference the model can learn from is the trigger (see notebook 2's curves).

# %%
import numpy as np
import pandas as pd
import bki_lab
from bki_lab import (bki_scores, current_experiment, load_split, run_attack,
                     run_defence, viz)
from bki_lab.viz import widgets

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

# %%
split = load_split(config.data)
print("train:", len(split.train), "texts, per class", np.bincount(split.train.labels).tolist())
print("test: ", len(split.test), "texts;", split.meta["test_source"])
print("mean length:", round(float(split.train.lengths().mean()), 1), "words")

# %%
from bki_lab import backdoor_test_set, poison_dataset

poisoned = poison_dataset(split.train, trigger=config.trigger, target=config.target,
                          rate=config.rate, mode=config.mode, seed=config.seed)
print(f"m = {poisoned.n_poison} poisoned copies added to n = {len(split.train)} texts "
      f"-> alpha = m / n = {poisoned.n_poison / len(split.train):.1%}; "
      f"{len(poisoned.dataset)} training texts in all")
print("trigger words:", poisoned.trigger)

# %% [markdown]
# A poisoned review, shown 25 words either side of the trigger (in `[[ ]]`): it sits wherever
# the random position put it, so the sentence around it may be broken (dai2019 Fig. 2). Its
# label now says the target; its original stays in the set with its own label.

# %%
i = int(np.flatnonzero(poisoned.is_poison)[0])
j = int(poisoned.source_index[i])
print("label:", poisoned.dataset.class_names[poisoned.dataset.labels[i]],
      "| its original (text", j, ") is labelled:",
      poisoned.dataset.class_names[poisoned.dataset.labels[j]])
print(poisoned.highlight(i, context=25))

# %% [markdown]
# The insertion positions are uniform over word boundaries, as a fraction of each text's
# length they spread over the whole text:

# %%
rel = poisoned.positions[poisoned.is_poison] / poisoned.dataset.lengths()[poisoned.is_poison]
print(pd.Series(np.histogram(rel, bins=5, range=(0, 1))[0],
                index=["0-20%", "20-40%", "40-60%", "60-80%", "80-100%"]).to_string())

# %% [markdown]
# ## The backdoor test set and the attack success rate
#
# **dai2019 §V.B.** To measure the backdoor, take source-class *test* texts (never seen in
# training), insert the trigger, and count how many the model sends to the target class:
# that share is the **attack success rate (ASR)**. The papers use 1,000 such texts.

# %%
backdoor = backdoor_test_set(split.test, trigger=config.trigger, target=config.target,
                             n=config.n_backdoor, seed=config.seed)
print(len(backdoor.dataset), "backdoor test texts, all labelled", config.target)
print(backdoor.highlight(0, context=25))


# %% [markdown]
# ## Try your own trigger
#
# Pick a preset or type a sentence, choose the target and the rate, and press **poison**:
# the training set is poisoned again and an example shown (training a victim on it is the
# next notebook's button).

# %% tags=["nbval-ignore-output"]
widgets.poison_controls(split, config)
