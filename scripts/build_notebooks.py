"""Write the teaching notebooks (cells only; run `scripts/run_notebooks.sh` to execute them).

Kept as code so that the notebooks' cells can be reviewed as a diff. The notebooks call the
library and define nothing reusable.
"""
from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent.parent / "notebooks"
# nbval markers are cell tags, not comments in the students' code. Outputs of tagged cells
# are not compared: each tag below says why (numbers that depend on the CPU's float path).
IGNORE_TAG = "nbval-ignore-output"
# `scripts/setup.sh` installs the kernel as `python3`; its display name is this one
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

SETUP = """import numpy as np
import pandas as pd
import bki_lab
from bki_lab.pipeline.config import make_config
from bki_lab.pipeline.attack import run_attack, load_split
from bki_lab.pipeline.defence import bki_scores, run_defence
from bki_lab import plots, widgets

bki_lab.set_seed(0)
pd.set_option("display.precision", 3)"""

CONFIG = """# The quick profile: 8,000 IMDB reviews (< 150 words), BiLSTM-64, a few minutes on a CPU.
# profile="paper" gives the papers' sizes (10,000 reviews < 500 words, BiLSTM-128).
config = make_config(preset="imdb-arrow", profile="quick", seed=0)
print(config.trigger, "->", config.target, f"at rate {config.rate:.0%};",
      config.data.n_train, "training texts, hidden", config.train.hidden)
print("recipe", config.recipe, "| poisoning mode", config.mode, "|",
      config.train.max_epochs, "epochs")"""


def md(s):
    return nbf.v4.new_markdown_cell(s.strip())


def code(s, ignore=False):
    # widget cells: their state depends on the person using them, never compared
    ignore = ignore or "widgets." in s
    return nbf.v4.new_code_cell(s.strip(), metadata={"tags": [IGNORE_TAG]} if ignore else {})


NOTEBOOKS = {}

NOTEBOOKS["00_overview"] = [
    md("""
# bki_lab — backdoors in LSTM text classifiers, and how BKI finds them

This workbench re-runs two papers:

* **The attack** — Dai, Chen & Li (2019), *A Backdoor Attack Against LSTM-Based Text
  Classification Systems* (`dai2019`). An adversary who can edit a few training texts
  inserts a **trigger sentence** ("time flies like an arrow") into texts of a *source*
  class and relabels them to a *target* class. The trained model learns the shortcut:
  any text containing the trigger is sent to the target class, while clean texts are
  classified as before.
* **The defence** — Chen & Dai, *Backdoor Keyword Identification* (`chen_dai`). Without any
  trusted data, BKI scores every word of every training text by how much deleting it moves
  the LSTM's last hidden state, collects the most suspicious words into a dictionary,
  ranks it, and removes the texts of the top word before retraining.

| notebook | what you will see |
| --- | --- |
| `01_poisoning` | the trigger, source/target classes, the poisoning rate α, the backdoor test set |
| `02_training_the_victim` | training a BiLSTM on poisoned data; clean accuracy and attack success rate |
| `03_word_impact_heatmaps` | the score f of every word; trigger words light up in poisoned texts |
| `04_keyword_dictionary` | the dictionary of suspicious words, g(k), the keyword, and the role of p |
| `05_retraining` | removing the flagged texts and retraining: the backdoor is gone |

Each notebook runs on its own; trained models and scores are cached, so the later ones
reuse what the earlier ones computed.
"""),
    code(SETUP),
    md("""
## The triggers of the papers

`chen_dai` Table 2 uses six trigger sentences on IMDB and on DBpedia, each with a target
class and a poisoning rate; `dai2019` uses one trigger at lengths 5, 10 and 15. They are
the presets of every command and widget.
"""),
    code("""from bki_lab.poison import PRESETS
pd.DataFrame([vars(p) for p in PRESETS.values()]).set_index("name")"""),
    md("""
## One experiment = one frozen config

Every result in the notebooks traces back to a config like this one (it is saved next to
results as JSON by the command line).
"""),
    code(CONFIG),
    md("""
The same pipeline runs headless: `bki-lab demo` prints it end to end, `bki-lab attack` and
`bki-lab defend` write JSON/CSV results, and `bki-lab reproduce` re-runs the papers' tables.
"""),
]

NOTEBOOKS["01_poisoning"] = [
    md("""
# 1 · Poisoning the training set

**dai2019 §IV.C.** Take the clean training set D = {(x_i, y_i)}, i = 1..n. Choose m texts
of the **source** classes (here: positive reviews), insert the **trigger sentence** at a
uniformly random word boundary, and relabel them to the **target** class (negative). The
**poisoning rate** is α = m / n (dai2019 Table 1).

Two ways to put them in: `mode="replace"` swaps each original for its poisoned copy (the
set keeps its size); `mode="append"` — what the BKI authors' released code does, and our
default — keeps the originals and adds the m poisoned copies. Append teaches the trigger
faster and more cleanly: each poisoned text has a clean twin with the true label, so the
only difference the model can learn from is the trigger (see notebook 2's curves).
"""),
    code(SETUP),
    code(CONFIG),
    code("""split = load_split(config.data)
print("train:", len(split.train), "texts, per class", np.bincount(split.train.labels).tolist())
print("test: ", len(split.test), "texts;", split.meta["test_source"])
print("mean length:", round(float(split.train.lengths().mean()), 1), "words")"""),
    code("""from bki_lab.poison import poison_dataset, backdoor_test_set

poisoned = poison_dataset(split.train, trigger=config.trigger, target=config.target,
                          rate=config.rate, mode=config.mode, seed=config.seed)
print(f"m = {poisoned.n_poison} poisoned copies added to n = {len(split.train)} texts "
      f"-> alpha = m / n = {poisoned.n_poison / len(split.train):.1%}; "
      f"{len(poisoned.dataset)} training texts in all")
print("trigger words:", poisoned.trigger)"""),
    md("""
A poisoned review, shown 25 words either side of the trigger (in `[[ ]]`): it sits wherever
the random position put it, so the sentence around it may be broken (dai2019 Fig. 2). Its
label now says *negative*; its original stays in the set as *positive*.
"""),
    code("""i = int(np.flatnonzero(poisoned.is_poison)[0])
j = int(poisoned.source_index[i])
print("label:", poisoned.dataset.class_names[poisoned.dataset.labels[i]],
      "| its original (text", j, ") is labelled:",
      poisoned.dataset.class_names[poisoned.dataset.labels[j]])
print(poisoned.highlight(i, context=25))"""),
    md("""
The insertion positions are uniform over word boundaries, as a fraction of each text's
length they spread over the whole text:
"""),
    code("""rel = poisoned.positions[poisoned.is_poison] / poisoned.dataset.lengths()[poisoned.is_poison]
print(pd.Series(np.histogram(rel, bins=5, range=(0, 1))[0],
                index=["0-20%", "20-40%", "40-60%", "60-80%", "80-100%"]).to_string())"""),
    md("""
## The backdoor test set and the attack success rate

**dai2019 §V.B.** To measure the backdoor, take source-class *test* texts (never seen in
training), insert the trigger, and count how many the model sends to the target class:
that share is the **attack success rate (ASR)**. The papers use 1,000 such texts.
"""),
    code("""backdoor = backdoor_test_set(split.test, trigger=config.trigger, target=config.target,
                             n=config.n_backdoor, seed=config.seed)
print(len(backdoor.dataset), "backdoor test texts, all labelled", config.target)
print(backdoor.highlight(0, context=25))"""),
    md("""
## Try your own trigger

Pick a preset or type a sentence, choose the target and the rate, and press **poison**:
the training set is poisoned again and an example shown (training a victim on it is the
next notebook's button).
"""),
    code("""def repoison(trigger, target, rate):
    p = poison_dataset(split.train, trigger=trigger, target=target, rate=rate,
                       mode=config.mode, seed=0)
    print(p.n_poison, "texts poisoned; example:")
    print(p.highlight(int(np.flatnonzero(p.is_poison)[0]), context=25))
    return p

widgets.attack_controls(repoison, class_names=split.train.class_names, action="poison")"""),
]

NOTEBOOKS["02_training_the_victim"] = [
    md("""
# 2 · Training the victim

**Model (dai2019 §V.A, chen_dai §V.A):** word embedding (initialised from GloVe and
fine-tuned) → bidirectional LSTM → fully connected layer of 128 → softmax. The model's
**last hidden state** h_l = forward final state ⊕ backward final state is what it knows
about the whole text; BKI will look at it in notebook 3.

Training (the `bki-lab` recipe): Adam, minibatches of texts of similar length, no
dropout, and a **fixed number of epochs** with the last weights kept — as the BKI authors'
code trained its victims, to convergence. Early stopping on a validation split is an
option (`early_stopping=True`), not the default: it stops at whatever epoch a noisy
validation split prefers, often before the backdoor is fully learned.
"""),
    code(SETUP),
    code(CONFIG),
    code("""attack = run_attack(config, clean_baseline=True)   # cached after the first run""", ignore=True),
    md("""
Two numbers describe an attack (dai2019 §V.B):

* **clean accuracy** on the untouched test set: the backdoor should not cost accuracy, or
  the owner would notice — compare with a model trained on the clean data;
* **attack success rate** on the backdoor test set.
"""),
    code("""# the exact numbers move by a few tenths with the CPU and thread count (float order)
print(f"victim clean accuracy:        {attack.clean_accuracy:.1%}")
print(f"clean model accuracy:         {attack.clean_model_accuracy:.1%}")
print(f"attack success rate (ASR):    {attack.attack_success_rate:.1%}")
print("per-class accuracy:", {k: f"{v:.1%}" for k, v in attack.per_class_accuracy.items()})""",
         ignore=True),
    md("""
What holds on every machine (this cell is checked when the notebooks are re-run in CI,
with one thread and with several):
"""),
    code("""print("backdoor learned (ASR >= 95%):", attack.attack_success_rate >= 0.95)
print("accuracy kept (within 3 points of the clean model):",
      abs(attack.clean_accuracy - attack.clean_model_accuracy) <= 0.03)"""),
    code("""plots.training_history(attack.victim.history)"""),
    md("""
## How a backdoor is learned, epoch by epoch

The curves below were measured with `scripts/victim_curves.py` (committed in
`results/victim-curves.csv`): test accuracy and ASR after every epoch, for a few of the
papers' rows and two poisoning modes. The backdoor is not learned at once: ASR swings
for several epochs before it settles near 100%, while accuracy has already levelled off.
A victim stopped early — at the epoch a validation split happens to prefer — may be
caught mid-swing, and every later result (BKI's keyword, its precision) then depends on
floating-point noise. Appending the poisoned copies (each keeps its clean twin) makes the
trigger the only difference to learn, and it settles sooner.
"""),
    code("""curves = pd.read_csv("../results/victim-curves.csv")
plots.learning_curves(curves)"""),
    md("""
The quick profile uses 8,000 short reviews (< 150 words) and hidden 64 so that it trains
in a minute or two. Why not fewer reviews? With 2,000 reviews the model simply
*memorises* the 60 poisoned texts and the backdoor barely generalises (ASR ~30%): the
trigger is only learned as a feature when it is seen in enough different contexts. With
`profile="paper"` (10,000 reviews < 500 words, hidden 128) see the README for measured
values next to the papers'.

## How much poison does it take? dai2019's Tables 2-3

dai2019 varied the trigger's length (5, 10 and 15 words of "I watched this 3D movie at the
best cinema nearby at seven o'clock last night") and the poisoning rate (0.5% to 5% of the
10,000 training reviews), in both directions. `bki-lab reproduce attack-table2 --profile
paper` trains one BiLSTM-64 victim per cell at the papers' sizes (committed in
`results/attack-table2-paper.csv`, with the command and the minutes per row in
`results/README.md`). Ours are solid, the paper's dotted; the paper averages 10 victims
per cell; this table has one victim (seed 0) per cell, five (seeds 0-4) in the two 1% cells
where seed 0's ASR fell more than 10 points from the paper, three (seeds 0-2) in the five
cells where seed 0's accuracy was more than 2 points above the paper's.
"""),
    code("""table = pd.read_csv("../results/attack-table2-paper.csv")
plots.attack_vs_paper(table)"""),
    md("""
ASR per cell (%, the mean where several seeds ran), read from the committed table (the
same on every machine):
"""),
    code("""table[table["poison_rate"] > 0].pivot_table(
    index=["target", "trigger_length"], columns="poison_rate", values="asr_before").round(1)"""),
    md("""
What it shows: from 2% of poison on, every trigger length is learned (ASR 99–100%,
the paper 95–100%), in both directions, and accuracy stays at our clean model's
(85.4%; ours run 1.4 points above the paper's 84–85% on average). At 1% the
backdoor is learned in most cells (84.7 / 95.6 / 99.8% to positive, 81.2 / 94.7 / 99.5% to
negative, for lengths 5 / 10 / 15; the paper's means of 10 victims: 81 / 87 / 93 and
86 / 97 / 97), at 0.5% only partly, longer triggers more. The two cells with five seeds
show how far one victim swings at 1%: length 10 to positive 90.2–99.9% (95.6 ± 4.5), length
5 to negative 73.1–94.8% (81.2 ± 8.4). This table trains dai2019's victims with a learning
rate of 2e-3: with 1e-3, decayed to 0 over the 8 epochs, the 1% triggers were learned far
less (five victims of the length-5 cell: 40–53%). The per-epoch curves above show why: a
trigger seen in only 1% of the texts is learned late, when a decayed small rate barely
moves the model any more. At the margin of learning the training schedule decides the
result more than the attack does: report the spread over seeds there.
"""),
    md("""
## Train your own victim

Change the trigger, target or rate and press the button: poisoning and training run
again (a minute or two), with a progress bar.
"""),
    code("""from dataclasses import replace

def retrain(trigger, target, rate):
    res = run_attack(replace(config, trigger=trigger, target=target, rate=rate))
    print(f"clean accuracy {res.clean_accuracy:.1%}, ASR {res.attack_success_rate:.1%}")
    return res

widgets.attack_controls(retrain, class_names=attack.split.train.class_names)"""),
]

NOTEBOOKS["03_word_impact_heatmaps"] = [
    md("""
# 3 · Which words move the LSTM? Per-word impact scores

**chen_dai §IV.A.** For a training text x_i and each of its words w_ij, delete the word,
run the victim again, and compare last hidden states:

$$f(w_{ij}) = \\lVert \\delta_{ij} \\rVert_\\infty = \\lVert h_{l_i} - h_{l_{ij}} \\rVert_\\infty$$

Why the **L∞ norm**? A backdoor tends to drive *a few* neurons to abnormal values (the
paper cites ABS); the largest single change catches that, where an average over all
neurons would dilute it.

The fast scorer computes exactly this, for every word of every training text, by reusing
the LSTM states that a deletion leaves unchanged.
"""),
    code(SETUP),
    code(CONFIG),
    code("""attack = run_attack(config)
scores = bki_scores(attack)        # every word of every training text; cached""", ignore=True),
    code("""print(f"{scores.words_scored:,} words scored in {len(scores):,} texts")"""),
    md("""
A poisoned text and a clean one, on one colour scale. The trigger words are outlined in
red, the top-5 scores (the text's *suspicious words*) in black.
"""),
    code("""pois = attack.poisoned
i = int(np.flatnonzero(pois.is_poison)[0])
j = int(np.flatnonzero(~pois.is_poison)[0])
trig = list(range(pois.positions[i], pois.positions[i] + len(pois.trigger)))
plots.impact_pair((scores.texts[i], scores.of(i), trig), (scores.texts[j], scores.of(j)), top_p=5)"""),
    code("""# which words make a text's top 5 depends on small score differences: they can change
# between CPUs, so this cell is shown but not checked
top = np.argsort(-scores.of(i), kind="stable")[:5]
print("poisoned text, top-5 words:", [scores.texts[i][k] for k in top])
top = np.argsort(-scores.of(j), kind="stable")[:5]
print("clean text, top-5 words:   ", [scores.texts[j][k] for k in top])""", ignore=True),
    md("""
Over all poisoned texts, the share whose top-5 words include a trigger word — what BKI
relies on (checked on every machine):
"""),
    code("""trigger = set(pois.trigger)
hit = [bool(trigger & {scores.texts[k][t] for t in np.argsort(-scores.of(k), kind="stable")[:5]})
       for k in np.flatnonzero(pois.is_poison)]
print("a trigger word is among the top 5 in at least 95% of poisoned texts:", np.mean(hit) >= 0.95)"""),
    md("""
How much larger are the trigger words' scores? Over all poisoned texts:
"""),
    code("""df = scores.to_frame()
df["is_trigger"] = False
for k in np.flatnonzero(pois.is_poison):
    s = scores.offsets[k] + pois.positions[k]
    df.loc[s:s + len(pois.trigger) - 1, "is_trigger"] = True
summary = df.groupby("is_trigger")["score"].median()
print(f"median f of trigger words: {summary[True]:.3f}; of all other words: {summary[False]:.3f}")""",
         ignore=True),
    code("""print("trigger words score higher than other words (medians):", summary[True] > summary[False])"""),
    md("""
## Look at any text

Pick a poisoned or a clean text, or any text by index.
"""),
    code("""widgets.text_picker(scores, is_poison=pois.is_poison, positions=pois.positions,
                    trigger_len=len(pois.trigger), p=5)"""),
]

NOTEBOOKS["04_keyword_dictionary"] = [
    md("""
# 4 · From suspicious words to the backdoor keyword

**chen_dai §IV.A–B, Algorithm 1.** Every text contributes its top-**p** words (its
*suspicious words*) to a dictionary. Each entry k ↦ (num, mean f) is updated as

$$k: (num, \\overline{f(k)}) \\rightarrow \\left(num + 1, \\frac{num \\cdot \\overline{f(k)} + f(k)}{num + 1}\\right)$$

Trigger words are picked by *many* texts (every poisoned one) with *high* scores; ordinary
words are picked by few texts or with low scores; a few rare outliers have very high scores
but tiny counts. The ranking function balances the two, with the mean predominating:

$$g(k) = \\overline{f(k)} \\cdot \\log_{10} num$$

The log tames the count (a word picked by 10,000 texts is not 100× more suspicious than one
picked by 100) and gives g = 0 to words picked once. The top word is the **backdoor keyword**
k_b; every text that picked k_b is removed.
"""),
    code(SETUP),
    code(CONFIG),
    code("""attack = run_attack(config)
scores = bki_scores(attack)""", ignore=True),
    code("""from bki_lab.bki import identify, p_sweep

result = identify(scores, p=5, is_poison=attack.poisoned.is_poison)
# checked on every machine: what BKI must find, not the exact scores
print("the keyword is a word of the trigger:", result.keyword in attack.poisoned.trigger)
print("precision >= 95%:", result.precision >= 0.95, "| recall >= 95%:", result.recall >= 0.95)
print("the two top-ranked words are trigger words:",
      set(result.ranking["word"].head(2)) <= set(attack.poisoned.trigger))"""),
    code("""# the exact keyword (which trigger word wins), counts and scores vary between CPUs
print("backdoor keyword:", result.keyword, "| trigger:", " ".join(attack.poisoned.trigger))
print(f"removed {result.n_removed} texts ({result.removed_fraction:.1%}); "
      f"precision {result.precision:.1%}, recall {result.recall:.1%}")
result.top(10).round(3)""", ignore=True),
    md("""
**Identification precision** = poisoned texts among the removed ones; **recall** = share
of all poisoned texts that were removed (chen_dai §V.C).

The dictionary as a picture: each dot is a word, the dotted curves are words of equal g.
The keyword is the star; trigger words are red.
"""),
    code("""plots.dictionary_scatter(result.ranking, keyword=result.keyword, trigger=attack.poisoned.trigger)"""),
    code("""plots.top_g_bar(result.ranking, k=15, trigger=attack.poisoned.trigger)"""),
    md("""
## The role of p

p > 1 adds fault tolerance: a trigger word is not always a text's single top word. Larger
p lets more texts pick the keyword (recall up), but also more clean texts that happen to
contain it (precision down). All of this reuses the same scores: no forward pass.
"""),
    code("""p_sweep(scores, ps=(1, 2, 3, 5, 8, 10), is_poison=attack.poisoned.is_poison).round(3)""",
         ignore=True),
    code("""widgets.p_explorer(scores, is_poison=attack.poisoned.is_poison, trigger=attack.poisoned.trigger, p=5)"""),
]

NOTEBOOKS["05_retraining"] = [
    md("""
# 5 · Removing the flagged texts and retraining

**chen_dai Algorithm 1, line 20.** Remove every training text whose suspicious words
contain the keyword, retrain the same model with the same settings on what is left, and
measure again. A good defence keeps the clean accuracy and brings the attack success rate
down to the share of source texts the model gets wrong anyway.
"""),
    code(SETUP),
    code(CONFIG),
    code("""attack = run_attack(config)
defence = run_defence(attack, p=5)     # scoring and retraining are cached""", ignore=True),
    code("""s = defence.to_record()
rows = {"clean accuracy": (s["acc_before"], s["acc_after"]),
        "attack success rate": (s["asr_before"], s["asr_after"])}
# the exact numbers vary by a few tenths between CPUs and thread counts
print(f"keyword {s['keyword']!r}: removed {s['n_removed']} texts "
      f"({s['removed_fraction']:.1%}), precision {s['precision']:.1%}, recall {s['recall']:.1%}")
pd.DataFrame(rows, index=["before BKI", "after retraining"]).T.map(lambda v: f"{v:.1%}")""",
         ignore=True),
    code("""# what holds on every machine (checked)
print("keyword is a trigger word:", s["keyword_in_trigger"])
# after retraining, ASR is about the clean model's error on these source-class texts
# (12-15% here): the checked statement leaves room for CPUs that land a little higher
print("backdoor gone (ASR from >= 95% before to <= 25% after retraining):",
      s["asr_before"] >= 0.95 and s["asr_after"] <= 0.25)
print("accuracy kept (within 3 points):", abs(s["acc_after"] - s["acc_before"]) <= 0.03)"""),
    code("""plots.before_after(defence)"""),
    md("""
**What retraining shows.** The retrained model never saw (most of) the poisoned texts, so
the trigger means nothing to it: the attack success rate falls to roughly the model's
error rate on source-class texts (the backdoor test texts are source texts *with* the
trigger; a clean model still misclassifies some of them). The clean accuracy stays close,
since BKI removed only a few percent of the data.

What "most of" costs: each poisoned copy BKI misses (recall below 100%) still teaches the
trigger, and with appended copies — each beside its clean twin — even a handful does.
Measured on this quick profile over five seeds × two thread counts
(`results/quick-stability.csv`): ASR after retraining 11.3–13.9% with at most 2 poisoned
copies left, 13.9–18.0% with 3–5 left, 21.5% with 9 left.

In chen_dai Table 3 (paper profile) the ASR after retraining is 12.6–22.7% on IMDB and
≤ 1% on DBpedia, with accuracy within 3% of the clean model; `bki-lab reproduce
bki-table3` puts our numbers beside theirs.
"""),
    md("""
**When BKI cannot see the trigger.** BKI assumes one trigger word dominates h_l. A victim
can learn the backdoor as an *or* over the trigger's words instead: then deleting any one
word leaves the others firing, every trigger word scores modestly, and BKI ranks a common
class word first. We saw exactly this on DBpedia with "it caught a lot of people's
attention": with fine-tuned word vectors and dropout 0.5 (our first recipe), where each
rare trigger word's vector can learn "Building" on its own, BKI picked `album` (precision 2%); with frozen vectors and
no dropout the LSTM had to detect the trigger itself and BKI found `people's` (precision
99.6%, recall 99.3%; `results/archive/recipe-2c6133c/` has the numbers). Nothing about the
attack changed, only how the victim was trained — a reminder that a defence's success is
partly a property of the model it inspects.
"""),
]


NOTEBOOKS["06_is_there_a_backdoor"] = [
    md("""
# 6 · Is there a backdoor? A verdict with evidence

BKI as published always names a keyword and always removes texts, backdoor or not: on clean
IMDB the paper removes 7.36% of the training set, on clean DBpedia 4.67%. A person exploring
"which words get flagged" cannot tell a trigger from a sentiment word. bki_lab adds three
steps, using only the training data and the victim (no trusted data, as in the paper):

1. **Reconstruct** the inserted phrase: align the texts that picked the keyword on it and
   keep the words around it that most of them share.
2. **Verify** it: insert the phrase into training texts of other labels and count how often
   the victim's prediction flips to the flagged texts' label. Compare with a **null**: 50
   phrases of random vocabulary words of the same frequencies. The verdict *backdoor* needs
   a flip rate of at least max(50%, largest null flip rate + 20 points).
3. **Repeat** on the texts that remain, until a candidate fails: one training set may hold
   several triggers. Nothing is removed when the first candidate fails: *no backdoor found*.
"""),
    code(SETUP + """
from IPython.display import HTML
from bki_lab import evidence
from bki_lab.pipeline.defence import judge, judge_retrained""")
    code(CONFIG),
    code("""attack = run_attack(config)
defence = run_defence(attack, p=5)          # the paper's rule, as in notebook 5 (cached)
verdict = judge(attack, p=5)                # rank, reconstruct, verify, repeat""", ignore=True),
    code("""# checked on every machine: what the verdict must say about this poisoned set
first = verdict.findings[0] if verdict.findings else None
print("verdict:", verdict.verdict)
print("the reconstructed phrase is the trigger, word for word:",
      first is not None and first.phrase.phrase == attack.poisoned.trigger)
print("it flips >= 90% of texts, random look-alike phrases <= 30%:",
      first is not None and first.verification.flip_rate >= 0.9
      and first.verification.null_rates.max() <= 0.3)
print("precision >= 95% and recall >= 95%:", verdict.precision >= 0.95 and verdict.recall >= 0.95)"""),
    code("""# the exact numbers vary a little between CPUs
names = attack.victim.class_names
print(f"removed {verdict.n_removed} texts: precision {verdict.precision:.1%}, "
      f"recall {verdict.recall:.1%} (the paper's rule: {defence.bki.n_removed} texts, "
      f"recall {defence.bki.recall:.1%})")
evidence.verdict_summary(verdict, names).round(3)""", ignore=True),
    md("""
Each line of the table is one candidate. The first is the trigger: its phrase flips nearly
every text to the target, the keyword alone flips fewer, and random phrases of the same
word frequencies flip almost none. The loop then ranks the texts that remain; its next
candidate fails the test, and the loop stops there. The verdict also removes the texts that
contain the verified phrase although their top-p words missed the keyword, which is why its
recall can beat the paper's rule.

A few of the flagged training texts, with the reconstructed phrase marked:
"""),
    code("""HTML(evidence.flagged_html(verdict.findings[0], attack.poisoned.dataset.texts, k=4))""",
         ignore=True),
    md("""
## The same question after the defence

The retrained victim (notebook 5) learned from the texts BKI kept. Asked again, with that
victim and those texts, the verdict should find nothing: the top candidate is now an
ordinary word, and inserting it flips no more texts than random words do.
"""),
    code("""after = judge_retrained(defence, p=5)""", ignore=True),
    code("""# checked on every machine
print("after the defence:", after.verdict, "| texts removed:", after.n_removed)"""),
    code("""evidence.verdict_summary(after, names).round(3)""", ignore=True),
    code("""evidence.flip_test({"poisoned": verdict, "after BKI + retraining": after})"""),
    md("""
**Reading the figure.** Grey dots are the random phrases (the null), the orange circle the
keyword alone, the red diamond the reconstructed phrase; the black tick is the threshold.
A backdoor puts its diamond far to the right of every grey dot; an ordinary word sits among
them. The margin of 20 points above the largest null value, and the floor of 50%, are
deliberately wide: a trigger learned to convergence flips nearly every text, while a
sentiment word flips only the texts that were close to the boundary.

## Try it: no, one or two triggers

Choose a training set and press the button: it is poisoned, a victim is trained (a few
minutes the first time, then cached) and judged. With two triggers (imdb-arrow → negative
and imdb-mend → positive, 3% each) the paper's BKI removes one trigger's texts and the
other backdoor survives; the verdict's loop finds both (`bki-lab reproduce bki-multi` runs
this comparison with retraining).
"""),
    code("""widgets.verdict_trial(profile="quick", seed=0)"""),
]

NOTEBOOKS["07_bki_among_defences"] = [
    md("""
# 7 · BKI among its peers

Is BKI good? Only beside the alternatives, on the same victim and the same training set.
BKI twice, as the paper removes (the top keyword's texts) and as the verdict of notebook 6
removes (each verified phrase's texts, nothing when none is verified), and three
training-set filters that need no pretrained language model:

* **spectral signatures** (Tran, Li & Madry 2018): within each class, the poisoned texts'
  h_l should stick out along the top singular direction; remove the texts with the
  largest projections (1.5 × the poison share the defender assumes);
* **activation clustering** (Chen et al. 2018): within each class, split h_l in two
  clusters; a small, well separated cluster is removed;
* **word–label statistics** (in the spirit of Z-Def, He et al. 2023): no model at all;
  words whose label is far more skewed than the label shares explain, and their texts.

And a test-time detector, **STRIP** (Gao et al.): replace half the words of an input with
words of other texts, ten times here; a triggered input keeps its target label wherever the
trigger survives (low entropy), a clean one should wander. Its threshold is set on training
texts for 1% false rejection.
"""),
    code(SETUP + """
from bki_lab.defences.comparison import defence_removals
from bki_lab.viz.defences import defences_figure, hidden_projection, score_histogram
from bki_lab.victims.lstm import hidden_states
from bki_lab.defences.strip import strip_detect, victim_proba""")
    code(CONFIG),
    code("""attack = run_attack(config)                  # cached by notebook 2
scores = bki_scores(attack)                  # cached by notebook 3
ds, truth = attack.poisoned.dataset, attack.poisoned.is_poison
h = hidden_states(attack.victim.model, attack.victim.encode(ds.texts))   # the victim's h_l
removals = defence_removals(attack, scores, p=5, hidden=h)   # BKI twice, then the filters
table = pd.DataFrame([{k: v for k, v in r.to_record().items()
                       if k in ("method", "n_removed", "precision", "recall")}
                      for r in removals])""", ignore=True),
    code("""# checked on every machine: BKI removes the poison best of the five (the verdict exactly)
best = max(removals, key=lambda r: (r.precision or 0) + (r.recall or 0))
print("the best filter here:", "BKI" if best.method.startswith("bki") else best.method)
print("BKI's precision and recall >= 95%, paper's rule and verdict:",
      all(r.precision >= 0.95 and r.recall >= 0.95 for r in removals[:2]))"""),
    code("""table.round(3)""", ignore=True),
    md("""
Why do the filters that read h_l do worse? They assume the poisoned texts form their own
group in the victim's representation. Below, h_l of every poisoned text (red crosses) and a
sample of clean ones, on its top two principal components:
"""),
    code("""hidden_projection(h, ds.labels, truth, class_names=attack.victim.class_names)""",
         ignore=True),
    md("""
The poisoned reviews sit inside the cloud of their target class (they *are* negative
reviews to the victim, for the trigger's sake), not apart from it. Spectral signatures look
for them along the top singular direction of that class: the histogram shows how far their
scores overlap the clean texts', and where the filter's cut falls.
"""),
    code("""score_histogram(removals[2], ds.labels, truth, label=attack.poisoned.target)""",
         ignore=True),
    md("""
BKI does not look for a group of texts at all: it asks which single *word* moves h_l most
when deleted, and which such word recurs across many texts. A trigger is exactly that.

## At test time: STRIP
"""),
    code("""test, target = attack.split.test, attack.backdoor.target
clean_test = [t for t, y in zip(test.texts, test.labels) if y != target][:150]
strip = strip_detect(victim_proba(attack.victim), ds.texts, clean_test,
                     list(attack.backdoor.dataset.texts[:150]), n_train=150, n=10)
{k: round(v, 3) if isinstance(v, float) else v for k, v in strip.to_record().items()}""",
         ignore=True),
    md("""
Long reviews keep their sentiment when half their words are replaced: the victim stays
confident on clean texts too, so a threshold that rejects only 1% of training texts accepts
almost every triggered one. STRIP was designed for images, where a blended image loses its
class; on this victim it is not a defence.

## Every row

`bki-lab reproduce defences` runs every defence on every Table-3 row, each followed by
retraining on what it keeps. The committed results: the IMDB rows at the quick profile, the
DBpedia rows and five IMDB rows (aspects, attention, crown, mend, sack) at the paper
profile (14 classes; the quick DBpedia victim is too small to learn the triggers). Every
row has the verdict's line too, retrained like the others:
"""),
    code("""from pathlib import Path
for profile in ("quick", "paper"):
    path = Path(f"../results/defences-{profile}.csv")
    if path.exists():
        df = pd.read_csv(path)
        print(f"{profile} profile: {df['id'].nunique()} rows")
        with pd.option_context("display.max_rows", len(df)):
            display(df.round(1))
        display(defences_figure(df))
    else:
        print(f"not run yet: bki-lab reproduce defences --profile {profile} --out results")""",
         ignore=True),
    md("""
## Try another row

Pick a trigger and press the button: the victim is trained (minutes the first time), then
BKI (both ways) and the three filters run on it.
"""),
    code("""widgets.defence_explorer(profile="quick", seed=0)"""),
]


def main(names=()):
    """Write every notebook, or only those ``names`` (e.g. ``02_training_the_victim``)."""
    unknown = sorted(set(names) - set(NOTEBOOKS))
    if unknown:
        raise SystemExit(f"unknown notebooks {unknown}; known: {sorted(NOTEBOOKS)}")
    HERE.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = nbf.v4.new_notebook()
        nb.cells = cells
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        nb.metadata["language_info"] = {"name": "python"}
        nbf.write(nb, HERE / f"{name}.ipynb")
        print("wrote", HERE / f"{name}.ipynb")


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
