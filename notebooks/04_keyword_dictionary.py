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
# # 4 · From suspicious words to the backdoor keyword
#
# **chen_dai §IV.A–B, Algorithm 1.** Every text contributes its top-**p** words (its
# *suspicious words*) to a dictionary. Each entry k ↦ (num, f̄(k)), its count and mean score, is updated as
#
# &emsp;&emsp;**k : (num, f̄(k)) → (num + 1, (num · f̄(k) + f(k)) / (num + 1))**
#
# Trigger words are picked by *many* texts (every poisoned one) with *high* scores; ordinary
# words are picked by few texts or with low scores; a few rare outliers have very high scores
# but tiny counts. The ranking function balances the two, with the mean predominating:
#
# &emsp;&emsp;**g(k) = f̄(k) · log<sub>10</sub> num**
#
# The log tames the count (a word picked by 10,000 texts is not 100× more suspicious than one
# picked by 100) and gives g = 0 to words picked once. The top word is the **backdoor keyword**
# k_b; every text that picked k_b is removed.

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
scores = bki_scores(attack)

# %%
from bki_lab import identify, p_sweep

result = identify(scores, p=experiment.p, is_poison=attack.poisoned.is_poison)
# what BKI found, in words (checked on every machine for the default experiment)
trigger = attack.poisoned.trigger
ranks = result.ranking.set_index("word")["rank"]
best = min((int(ranks[w]) for w in set(trigger) if w in ranks.index), default=None)
if result.keyword in trigger:
    print("the keyword is a word of the trigger")
else:
    print(f"the keyword {result.keyword!r} is NOT a trigger word: the trigger's best word "
          + (f"ranks {best} by g(k)" if best else "never enters the dictionary")
          + "; the paper's rule removes the wrong texts (notebook 6 shows why)")
good = result.precision >= 0.95 and result.recall >= 0.95
print("precision and recall are both at least 95%" if good else
      f"precision {result.precision:.0%}, recall {result.recall:.0%}: "
      f"{attack.poisoned.n_poison - round(result.recall * attack.poisoned.n_poison)} "
      "poisoned texts stay in the training set")
top2 = set(result.ranking["word"].head(2))
print("the two top-ranked words are trigger words" if top2 <= set(trigger) else
      f"the two top-ranked words are {sorted(top2)}")

# %% tags=["nbval-ignore-output"]
# the exact keyword (which trigger word wins), counts and scores vary between CPUs
print("backdoor keyword:", result.keyword, "| trigger:", " ".join(attack.poisoned.trigger))
print(f"removed {result.n_removed} texts ({result.removed_fraction:.1%}); "
      f"precision {result.precision:.1%}, recall {result.recall:.1%}")
result.top(10).round(3)

# %% [markdown]
# **Identification precision** = poisoned texts among the removed ones; **recall** = share
# of all poisoned texts that were removed (chen_dai §V.C).
#
# The dictionary as a picture: each dot is a word, the dotted curves are words of equal g.
# The keyword is the star; trigger words are red.

# %%
viz.dictionary_scatter(result.ranking, keyword=result.keyword, trigger=attack.poisoned.trigger)

# %%
viz.top_g_bar(result.ranking, k=15, trigger=attack.poisoned.trigger)

# %% [markdown]
# ## The role of p
#
# p > 1 adds fault tolerance: a trigger word is not always a text's single top word. Larger
# p lets more texts pick the keyword (recall up), but also more clean texts that happen to
# contain it (precision down). All of this reuses the same scores: no forward pass.

# %% tags=["nbval-ignore-output"]
p_sweep(scores, ps=(1, 2, 3, 5, 8, 10), is_poison=attack.poisoned.is_poison).round(3)

# %% tags=["nbval-ignore-output"]
widgets.p_explorer(scores, is_poison=attack.poisoned.is_poison, trigger=attack.poisoned.trigger,
                   p=experiment.p)
