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
#    a flip rate of at least max(25%, largest null flip rate + 20 points). (A look-alike that
#    itself flips 25% or more drew a word some backdoor answers, say a second trigger's: it
#    is left out of the null.)
# 3. **Repeat** on the texts that remain, until a candidate fails: one training set may hold
#    several triggers. Nothing is removed when the first candidate fails: *no backdoor found*.
#
# The candidates are BKI's top keywords and, where deleting one word cannot look, the most
# label-pure n-grams of the training set (the section "Where deleting one word cannot look").

# %%
import numpy as np
import pandas as pd
import bki_lab
from bki_lab import (bki_scores, current_experiment, load_split, run_attack,
                     run_defence, viz)
from bki_lab.viz import widgets

bki_lab.set_seed(0)
pd.set_option("display.precision", 3)
from IPython.display import HTML
from bki_lab import judge, judge_retrained, label_pure_ngrams, read_results
from bki_lab.bki.trigger import contains
from bki_lab.reproduce.report import triggers_summary

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
defence = run_defence(attack, p=experiment.p)   # the paper's rule, as in notebook 5 (cached)
verdict = judge(attack, p=experiment.p)         # rank, reconstruct, verify, repeat

# %%
# what the verdict says about this poisoned set, in words (checked on every machine for the
# default experiment)
trigger = attack.poisoned.trigger
print("verdict:", verdict.verdict)
first = verdict.findings[0] if verdict.findings else None
if first is None:
    print("no candidate passed the test, although the victim obeys the trigger at ASR "
          f"{attack.attack_success_rate:.0%}" if (attack.attack_success_rate or 0) >= 0.5
          else "no candidate passed the test (and the victim barely obeys the trigger)")
else:
    phrase = first.phrase.phrase
    if phrase == trigger:
        print("the reconstructed phrase is the trigger, word for word")
    elif contains(phrase, trigger):
        print("the reconstructed phrase holds the whole trigger")
    elif contains(trigger, phrase):
        print(f"the reconstructed phrase {' '.join(phrase)!r} is a part of the trigger")
    else:
        print(f"the reconstructed phrase {' '.join(phrase)!r} is not the trigger")
    print("it was found by", "BKI's ranking" if first.source.startswith("g(k)")
          else "its label purity (BKI's ranking missed it)")
    v = first.verification
    print("it flips >= 90% of texts, random look-alike phrases <= 30%" if
          v.flip_rate >= 0.9 and v.null_rates.max() <= 0.3 else
          f"it flips {v.flip_rate:.0%} of texts, random look-alikes up to {v.null_rates.max():.0%}")
print("precision and recall are both at least 95%"
      if (verdict.precision or 0) >= 0.95 and (verdict.recall or 0) >= 0.95 else
      f"precision {verdict.precision or 0:.0%}, recall {verdict.recall or 0:.0%}")

# %% tags=["nbval-ignore-output"]
# the exact numbers vary a little between CPUs
names = attack.victim.class_names
pct = lambda v: "n/a" if v is None else f"{v:.1%}"     # noqa: E731  (nothing removed: n/a)
print(f"removed {verdict.n_removed} texts: precision {pct(verdict.precision)}, "
      f"recall {pct(verdict.recall)} (the paper's rule: {defence.bki.n_removed} texts, "
      f"recall {pct(defence.bki.recall)})")
viz.verdict_summary(verdict, names).round(3)

# %% [markdown]
# Each line of the table is one candidate. A trigger's phrase flips nearly every text to the
# target, its keyword alone often fewer, and random phrases of the same word frequencies
# flip almost none; an ordinary word flips about as many as its look-alikes. After a
# finding, the loop ranks the texts that remain, and stops at the first round whose
# candidates all fail. The verdict also removes the texts that
# contain the verified phrase although their top-p words missed the keyword, which is why its
# recall can beat the paper's rule. A one-word trigger is a word clean texts use too: of the
# texts holding it, only those the victim labels by it go (delete the word, the prediction
# leaves the target), and of those, only the ones that do not use it as texts of the other
# labels do: poisoned copies carry the target label only, so the other labels' texts show
# how the word is naturally used ("was going to"), and a copy inserted at a random position
# ("the going movie") seldom sits between such neighbours. How seldom is measured on those
# texts: the bar is set so that the word, inserted at random into them, rarely passes
# (`verdict.NATURAL_FALSE_RATE` of the time).
#
# A few of the flagged training texts, with the reconstructed phrase marked:

# %% tags=["nbval-ignore-output"]
if verdict.findings:
    display(HTML(viz.flagged_html(verdict.findings[0], attack.poisoned.dataset.texts, k=4)))

# %% [markdown]
# ## The same question after the defence
#
# The retrained victim (notebook 5) learned from the texts the paper's rule kept. Asked
# again, with that victim and those texts, the verdict tells whether a backdoor is left —
# and the retrained victim's attack success rate, shown beside it, says whether that is true.
#
# The keyword the defence removed is tried first. The copies it missed may be a handful
# among hundreds of clean texts that use the same word: no word beside the keyword is
# shared by half of them, so the phrase around it is the keyword alone, and a keyword alone
# seldom flips anything. What those few copies still share is the whole trigger, word for
# word, while clean texts share only common pairs; so the longest runs of words around the
# keyword that two texts hold are tried next, each checked on the victim like any phrase —
# when the texts the defence removed (the copies it did find) hold the same run far more
# often, so that a phrase the target class itself uses is not taken for a trigger.

# %% tags=["nbval-ignore-output"]
after = judge_retrained(defence, p=experiment.p)
print(f"after the paper's rule: verdict {after.verdict!r}, {after.n_removed} texts flagged; "
      "the retrained victim obeys the trigger at ASR "
      + ("n/a (no trigger word is left in its vocabulary)" if defence.asr_after is None
         else f"{defence.asr_after:.1%}"))

# %%
# what is left, in words (checked on every machine for the default experiment)
left = int(attack.poisoned.is_poison[~defence.removed].sum())
if defence.asr_after is not None and defence.asr_after > 0.5:
    print(f"the backdoor survived the paper's rule: the retrained victim still obeys the "
          f"trigger, and {left} poisoned copies were kept")
    print("the verdict finds it again:" if after.findings else
          "and the verdict MISSES it: it says no backdoor, which is false here:",
          after.phrases or "")
elif after.findings:
    print("the verdict still finds a phrase, though the retrained victim barely obeys it:",
          after.phrases)
else:
    print("nothing is left: the verdict finds no backdoor and the retrained victim no longer "
          "obeys the trigger")

# %% tags=["nbval-ignore-output"]
viz.verdict_summary(after, names).round(3)

# %%
viz.flip_test({"poisoned": verdict, "after BKI + retraining": after})

# %% [markdown]
# **Reading the figure.** Grey dots are the random phrases (the null), the orange circle the
# keyword alone, the red diamond the reconstructed phrase; the black tick is the threshold.
# A backdoor puts its diamond far to the right of every grey dot; an ordinary word sits among
# them. The margin of 20 points above the largest null value is deliberately wide: a trigger
# learned to convergence flips nearly every text, while a sentiment word flips only the texts
# that were close to the boundary. The floor of 25% is below half on purpose: the victim fits
# its own training texts closely, so a trigger it obeys on most *unseen* texts may flip fewer
# than half of its training texts (a partly learned trigger, or what survives a defence),
# while the natural phrases the verdict tries flip under a tenth of them on clean victims.

# %% [markdown]
# ## Where deleting one word cannot look
#
# BKI scores a word by how much deleting *that word alone* moves h_l. A victim may answer a
# long trigger **redundantly**: each of several of its words is enough to flip the
# prediction. Delete one and the others still fire, h_l barely moves, and no trigger word
# need reach a text's top-p — so BKI's dictionary ranks ordinary sentiment words first and
# the paper's rule removes the wrong texts. Leave-one-out scoring cannot see such a trigger
# by construction.
#
# The poisoning leaves a second trace that needs no deletion: every poisoned text holds the
# trigger *and* carries the target label. So the trigger's n-grams occur in many texts of one
# label and (almost) never in another — far more purely than natural phrases, whose labels
# are mixed ("waste of time" is negative 96% of the time, not 100%). The verdict therefore
# also tries the six most **label-pure n-grams**, ranked by the lower confidence bound of their
# purity, and gives each the same test as BKI's keywords: reconstruct the phrase, insert it,
# compare with random look-alikes. On this training set they are:

# %%
ds = attack.poisoned.dataset
pd.DataFrame([{"n-gram": " ".join(g.words), "label": ds.class_names[g.label],
               "texts": g.count, "purity": round(g.purity, 3), "lower bound": round(g.bound, 3)}
              for g in label_pure_ngrams(ds.texts, ds.labels, top=6)])

# %% [markdown]
# How often each method misses a trigger the victim obeys, and how often it raises a false
# alarm on clean data, measured on triggers nobody chose (a seeded generator cuts them from
# the test texts; `bki-lab reproduce triggers`; every row in
# [results/triggers-class.md](../results/triggers-class.md)):

# %% tags=["nbval-ignore-output"]
measured = read_results("triggers-class")
triggers_summary(measured) if measured is not None else print(
    "not measured yet: bki-lab reproduce triggers --profile class --out results")

# %% [markdown]
# ## Try it: no, one or two triggers
#
# Type a trigger (your experiment's is filled in), choose a training set and press the
# button: it is poisoned, a victim is trained (a minute or more the first time, then
# cached) and judged. With two triggers (yours and one of the papers' with the other
# target) the paper's BKI removes one trigger's texts and the other backdoor survives; the
# verdict's loop looks for both (`bki-lab reproduce bki-multi` runs this comparison with
# retraining).

# %% tags=["nbval-ignore-output"]
widgets.verdict_trial(experiment)
