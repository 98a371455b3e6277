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
# # 6 · Is there a backdoor? A verdict with evidence
#
# BKI as published always names a keyword and always removes texts, backdoor or not: on clean
# IMDB the paper removes 7.36% of the training set, on clean DBpedia 4.67%. A person exploring
# "which words get flagged" cannot tell a trigger from a sentiment word. bki_lab adds three
# steps, using only the training data and the victim (no trusted data, as in the paper):
#
# 1. **Reconstruct** the inserted phrase: align the texts that picked the keyword on it and
#    keep the words around it that most of them share.
# 2. **Verify** it: insert the phrase into training texts of other labels and count how often
#    the victim's prediction flips to the flagged texts' label. Compare with a **null**: 50
#    phrases of random vocabulary words of the same frequencies. The verdict *backdoor* needs
#    a flip rate of at least max(50%, largest null flip rate + 20 points).
# 3. **Repeat** on the texts that remain, until a candidate fails: one training set may hold
#    several triggers. Nothing is removed when the first candidate fails: *no backdoor found*.

# %%
import numpy as np
import pandas as pd
import bki_lab
from bki_lab import bki_scores, load_split, make_config, run_attack, run_defence, viz
from bki_lab.viz import widgets

bki_lab.set_seed(0)
pd.set_option("display.precision", 3)
from IPython.display import HTML
from bki_lab import judge, judge_retrained

# %%
# The quick profile: 8,000 IMDB reviews (< 150 words), BiLSTM-64, a few minutes on a CPU.
# profile="paper" gives the papers' sizes (10,000 reviews < 500 words, BiLSTM-128).
config = make_config(preset="imdb-arrow", profile="quick", seed=0)
print(config.trigger, "->", config.target, f"at rate {config.rate:.0%};",
      config.data.n_train, "training texts, hidden", config.train.hidden)
print("recipe", config.recipe, "| poisoning mode", config.mode, "|",
      config.train.max_epochs, "epochs")

# %% tags=["nbval-ignore-output"]
attack = run_attack(config)
defence = run_defence(attack, p=5)          # the paper's rule, as in notebook 5 (cached)
verdict = judge(attack, p=5)                # rank, reconstruct, verify, repeat

# %%
# checked on every machine: what the verdict must say about this poisoned set
first = verdict.findings[0] if verdict.findings else None
print("verdict:", verdict.verdict)
print("the reconstructed phrase is the trigger, word for word:",
      first is not None and first.phrase.phrase == attack.poisoned.trigger)
print("it flips >= 90% of texts, random look-alike phrases <= 30%:",
      first is not None and first.verification.flip_rate >= 0.9
      and first.verification.null_rates.max() <= 0.3)
print("precision >= 95% and recall >= 95%:", verdict.precision >= 0.95 and verdict.recall >= 0.95)

# %% tags=["nbval-ignore-output"]
# the exact numbers vary a little between CPUs
names = attack.victim.class_names
print(f"removed {verdict.n_removed} texts: precision {verdict.precision:.1%}, "
      f"recall {verdict.recall:.1%} (the paper's rule: {defence.bki.n_removed} texts, "
      f"recall {defence.bki.recall:.1%})")
viz.verdict_summary(verdict, names).round(3)

# %% [markdown]
# Each line of the table is one candidate. The first is the trigger: its phrase flips nearly
# every text to the target, the keyword alone flips fewer, and random phrases of the same
# word frequencies flip almost none. The loop then ranks the texts that remain; its next
# candidate fails the test, and the loop stops there. The verdict also removes the texts that
# contain the verified phrase although their top-p words missed the keyword, which is why its
# recall can beat the paper's rule.
#
# A few of the flagged training texts, with the reconstructed phrase marked:

# %% tags=["nbval-ignore-output"]
HTML(viz.flagged_html(verdict.findings[0], attack.poisoned.dataset.texts, k=4))

# %% [markdown]
# ## The same question after the defence
#
# The retrained victim (notebook 5) learned from the texts BKI kept. Asked again, with that
# victim and those texts, the verdict should find nothing: the top candidate is now an
# ordinary word, and inserting it flips no more texts than random words do.

# %% tags=["nbval-ignore-output"]
after = judge_retrained(defence, p=5)

# %%
# checked on every machine
print("after the defence:", after.verdict, "| texts removed:", after.n_removed)

# %% tags=["nbval-ignore-output"]
viz.verdict_summary(after, names).round(3)

# %%
viz.flip_test({"poisoned": verdict, "after BKI + retraining": after})

# %% [markdown]
# **Reading the figure.** Grey dots are the random phrases (the null), the orange circle the
# keyword alone, the red diamond the reconstructed phrase; the black tick is the threshold.
# A backdoor puts its diamond far to the right of every grey dot; an ordinary word sits among
# them. The margin of 20 points above the largest null value, and the floor of 50%, are
# deliberately wide: a trigger learned to convergence flips nearly every text, while a
# sentiment word flips only the texts that were close to the boundary.
#
# ## Try it: no, one or two triggers
#
# Choose a training set and press the button: it is poisoned, a victim is trained (a few
# minutes the first time, then cached) and judged. With two triggers (imdb-arrow → negative
# and imdb-mend → positive, 3% each) the paper's BKI removes one trigger's texts and the
# other backdoor survives; the verdict's loop finds both (`bki-lab reproduce bki-multi` runs
# this comparison with retraining).

# %% tags=["nbval-ignore-output"]
widgets.verdict_trial(profile="quick", seed=0)
