"""The ``triggers`` table: generated triggers, named cases and clean rows; one row's record
on a tiny victim; the summary's miss and false-alarm rates on a hand-made table."""
import numpy as np
import pandas as pd
import pytest

from bki_lab.attack.triggers import random_triggers
from bki_lab.reproduce.report import triggers_summary
from bki_lab.reproduce.tables import Row


def test_random_triggers_are_seeded_spans_of_the_texts():
    texts = [tuple(f"w{i}_{j}" for j in range(20)) for i in range(30)]
    a = random_triggers(texts, ("neg", "pos"), n=10, rate=0.03, dataset="imdb", seed=4)
    assert a == random_triggers(texts, ("neg", "pos"), n=10, rate=0.03, dataset="imdb", seed=4)
    assert a != random_triggers(texts, ("neg", "pos"), n=10, rate=0.03, dataset="imdb", seed=5)
    for g in a:
        words = g.trigger.split()
        assert 1 <= len(words) <= 12 and g.target in ("neg", "pos") and g.rate == 0.03
        i = int(words[0].split("_")[0][1:])           # a contiguous span of one text
        assert " ".join(words) in " ".join(texts[i])
    assert len({g.trigger for g in a}) == 10
    with pytest.raises(ValueError, match="no text has 12 words"):
        random_triggers([("a", "b")], ("x", "y"), n=1, rate=0.1, dataset="imdb")


def test_one_row_of_the_table_on_a_tiny_victim(imdb_dir, monkeypatch):
    from bki_lab.pipeline import config
    from bki_lab.reproduce.rows import run_row
    monkeypatch.setitem(config._DATA, ("imdb", "class"),
                        dict(n_train=36, n_test=18, max_words=150))
    tiny = (("embedding", "random"), ("hidden", 8), ("max_epochs", 2))
    row = Row("imdb-x", "triggers", None, "imdb", "zorp quix blib", "negative", 0.2, True, {},
              tiny)
    rec = run_row(row, profile="class", seed=0)
    assert rec["n_words"] == 3 and rec["target"] == "negative"
    assert 0 <= rec["trigger_flip"] <= 1 and rec["paper_keyword"]
    assert rec["verdict"] in ("backdoor", "no backdoor found", "could not be tested")
    assert rec["verdict_recovered"] == (rec["verdict"] == "backdoor"
                                        and "zorp quix blib" in (rec["verdict_phrase"] or "")) \
        or rec["verdict_recovered"] is True
    if rec["paper_asr_after"] is not None:          # the paper's rule left texts to retrain on
        assert rec["after_paper_verdict"] in ("backdoor", "no backdoor found",
                                              "could not be tested")
    else:
        assert rec["paper_n_removed"] >= 35 and "after_paper_verdict" not in rec
    clean = run_row(Row("imdb-clean", "triggers", None, "imdb", "zorp", "negative", 0.0, True,
                        {}, tiny, seed=1), profile="class", seed=0)
    assert clean["run_seed"] == 1 and clean["asr_before"] is None
    assert "after_paper_verdict" not in clean and clean["verdict_recovered"] is None


def test_the_summary_counts_misses_and_false_alarms():
    df = pd.DataFrame([
        # obeyed, found by everyone
        dict(status="ok", asr_before=99.0, paper_in_trigger=True, authors_in_trigger=True,
             ranking_verdict_recovered=True, verdict_recovered=True, paper_asr_after=10.0,
             after_paper_recovered=None, paper_n_removed=30, ranking_verdict="backdoor",
             verdict="backdoor"),
        # obeyed at 99.7%, missed by the ranking, found by purity; survives the paper's rule
        dict(status="ok", asr_before=99.7, paper_in_trigger=False, authors_in_trigger=False,
             ranking_verdict_recovered=False, verdict_recovered=True, paper_asr_after=99.7,
             after_paper_recovered=True, paper_n_removed=157,
             ranking_verdict="no backdoor found", verdict="backdoor"),
        # not obeyed: not counted as a miss
        dict(status="ok", asr_before=20.0, paper_in_trigger=False, authors_in_trigger=False,
             ranking_verdict_recovered=False, verdict_recovered=False, paper_asr_after=20.0,
             after_paper_recovered=False, paper_n_removed=10,
             ranking_verdict="no backdoor found", verdict="no backdoor found"),
        # clean
        dict(status="ok", asr_before=np.nan, paper_in_trigger=None, authors_in_trigger=None,
             ranking_verdict_recovered=None, verdict_recovered=None, paper_asr_after=None,
             after_paper_recovered=None, paper_n_removed=12,
             ranking_verdict="no backdoor found", verdict="no backdoor found"),
    ])
    s = triggers_summary(df).set_index("method")
    assert s.loc["paper's rule", "miss rate %"] == 50.0
    assert s.loc["paper's rule", "misses at ASR >= 90%"] == 1
    assert s.loc["paper's rule", "false alarms %"] == 100.0
    assert s.loc["verdict, ranking only", "miss rate %"] == 50.0
    assert s.loc["verdict", "miss rate %"] == 0.0 and s.loc["verdict", "false alarms %"] == 0.0
    assert s.loc["verdict after the paper's rule", "triggers obeyed (ASR >= 50%)"] == 1
    assert s.loc["verdict after the paper's rule", "miss rate %"] == 0.0
