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
# # 5 · Removing the flagged texts and retraining
#
# **chen_dai Algorithm 1, line 20.** Remove every training text whose suspicious words
# contain the keyword, retrain the same model with the same settings on what is left, and
# measure again. A good defence keeps the clean accuracy and brings the attack success rate
# down to the share of source texts the model gets wrong anyway.

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
defence = run_defence(attack, p=experiment.p)     # scoring and retraining are cached

# %% tags=["nbval-ignore-output"]
s = defence.to_record()
rows = {"clean accuracy": (s["acc_before"], s["acc_after"]),
        "attack success rate": (s["asr_before"], s["asr_after"])}
# the exact numbers vary by a few tenths between CPUs and thread counts
print(f"keyword {s['keyword']!r}: removed {s['n_removed']} texts "
      f"({s['removed_fraction']:.1%}), precision {s['precision']:.1%}, recall {s['recall']:.1%}")
pd.DataFrame(rows, index=["before BKI", "after retraining"]).T.map(
    lambda v: "n/a" if v is None else f"{v:.1%}")

# %%
# what happened, in words (checked on every machine for the default experiment)
print("the keyword is a trigger word" if s["keyword_in_trigger"] else
      f"the keyword {s['keyword']!r} is not a trigger word: BKI removed the wrong texts")
left = int(attack.poisoned.is_poison[~defence.removed].sum())
if s["asr_after"] is None:
    print("the ASR after retraining cannot be measured")
elif s["asr_after"] <= 0.25:
    # about the clean model's error on these source-class texts (12-15% on the default)
    print("the backdoor is gone: ASR after retraining <= 25%")
else:
    print(f"the backdoor SURVIVES retraining: ASR {s['asr_after']:.0%} after "
          f"(from {s['asr_before'] or 0:.0%}); {left} poisoned copies were kept and still teach "
          f"the trigger")
print("accuracy kept (within 3 points)" if abs(s["acc_after"] - s["acc_before"]) <= 0.03
      else "accuracy changed by more than 3 points")

# %%
viz.before_after(defence)

# %% [markdown]
# **What retraining shows.** The retrained model never saw (most of) the poisoned texts, so
# the trigger means nothing to it: the attack success rate falls to roughly the model's
# error rate on source-class texts (the backdoor test texts are source texts *with* the
# trigger; a clean model still misclassifies some of them). The clean accuracy stays close,
# since BKI removed only a few percent of the data.
#
# What "most of" costs: each poisoned copy BKI misses (recall below 100%) still teaches the
# trigger, and with appended copies — each beside its clean twin — even a handful does
# (measured over seeds and thread counts in
# [results/quick-stability.md](../results/quick-stability.md)). A trigger BKI does not see
# at all keeps the backdoor whole: notebook 6 asks the question again after retraining.
#
# In chen_dai Table 3 (paper profile) the ASR after retraining is 12.6–22.7% on IMDB and
# ≤ 1% on DBpedia, with accuracy within 3% of the clean model; `bki-lab reproduce
# bki-table3` puts our numbers beside theirs.

# %% [markdown]
# **When BKI cannot see the trigger.** BKI assumes one trigger word dominates h_l. A victim
# can learn the backdoor as an *or* over the trigger's words instead: then deleting any one
# word leaves the others firing, every trigger word scores modestly, and BKI ranks a common
# class word first. We saw exactly this on DBpedia with "it caught a lot of people's
# attention": with fine-tuned word vectors and dropout 0.5 (our first recipe), where each
# rare trigger word's vector can learn "Building" on its own, BKI picked `album` (precision 2%); with frozen vectors and
# no dropout the LSTM had to detect the trigger itself and BKI found `people's` (precision
# 99.6%, recall 99.3%; `results/archive/recipe-2c6133c/` has the numbers). Nothing about the
# attack changed, only how the victim was trained — a reminder that a defence's success is
# partly a property of the model it inspects.
