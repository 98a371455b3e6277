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
# # 3 · Which words move the LSTM? Per-word impact scores
#
# **chen_dai §IV.A.** For a training text x_i and each of its words w_ij, delete the word,
# run the victim again, and compare last hidden states:
#
# &emsp;&emsp;**f(w<sub>ij</sub>) = ‖δ<sub>ij</sub>‖<sub>∞</sub> = ‖h<sub>l</sub>(x<sub>i</sub>) − h<sub>l</sub>(x<sub>i</sub> without w<sub>ij</sub>)‖<sub>∞</sub>**
#
# Why the **L∞ norm**? A backdoor tends to drive *a few* neurons to abnormal values (the
# paper cites ABS); the largest single change catches that, where an average over all
# neurons would dilute it.
#
# The fast scorer computes exactly this, for every word of every training text, by reusing
# the LSTM states that a deletion leaves unchanged.

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

# %% tags=["nbval-ignore-output"]
attack = run_attack(config)
scores = bki_scores(attack)        # every word of every training text; cached

# %%
print(f"{scores.words_scored:,} words scored in {len(scores):,} texts")

# %% [markdown]
# A poisoned text and a clean one, on one colour scale. The trigger words are outlined in
# red, the top-5 scores (the text's *suspicious words*) in black.

# %%
pois = attack.poisoned
i = int(np.flatnonzero(pois.is_poison)[0])
j = int(np.flatnonzero(~pois.is_poison)[0])
trig = list(range(pois.positions[i], pois.positions[i] + len(pois.trigger)))
viz.impact_pair((scores.texts[i], scores.of(i), trig), (scores.texts[j], scores.of(j)), top_p=5)

# %% tags=["nbval-ignore-output"]
# which words make a text's top 5 depends on small score differences: they can change
# between CPUs, so this cell is shown but not checked
top = np.argsort(-scores.of(i), kind="stable")[:5]
print("poisoned text, top-5 words:", [scores.texts[i][k] for k in top])
top = np.argsort(-scores.of(j), kind="stable")[:5]
print("clean text, top-5 words:   ", [scores.texts[j][k] for k in top])

# %% [markdown]
# Over all poisoned texts, the share whose top-5 words include a trigger word — what BKI
# relies on (checked on every machine):

# %%
trigger = set(pois.trigger)
hit = [bool(trigger & {scores.texts[k][t] for t in np.argsort(-scores.of(k), kind="stable")[:5]})
       for k in np.flatnonzero(pois.is_poison)]
share = float(np.mean(hit))
if share >= 0.95:
    print("a trigger word is among the top 5 in at least 95% of poisoned texts: "
          "BKI's dictionary will see this trigger")
else:
    print(f"a trigger word is among the top 5 in only {share:.0%} of poisoned texts: in the "
          "others, deleting any one trigger word barely moves h_l (the victim answers the "
          "rest of the phrase), so BKI may miss them; notebook 6 shows what finds them")

# %% [markdown]
# How much larger are the trigger words' scores? Over all poisoned texts:

# %% tags=["nbval-ignore-output"]
df = scores.to_frame()
df["is_trigger"] = False
for k in np.flatnonzero(pois.is_poison):
    s = scores.offsets[k] + pois.positions[k]
    df.loc[s:s + len(pois.trigger) - 1, "is_trigger"] = True
summary = df.groupby("is_trigger")["score"].median()
print(f"median f of trigger words: {summary[True]:.3f}; of all other words: {summary[False]:.3f}")

# %%
print("trigger words score", "higher" if summary[True] > summary[False] else "no higher",
      "than other words (medians)")

# %% [markdown]
# ## Look at any text
#
# Pick a poisoned or a clean text, or any text by index.

# %% tags=["nbval-ignore-output"]
widgets.text_picker(scores, is_poison=pois.is_poison, positions=pois.positions,
                    trigger_len=len(pois.trigger), p=5)
