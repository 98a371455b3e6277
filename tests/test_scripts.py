"""The scripts' tables: quick_stability.py (one row per run and decision, the targets
checked) and other_victims.py (one row per victim)."""
import importlib.util
import json
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load(name="quick_stability"):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(seed, threads, asr_after, recall, **extra):
    return {"seed": seed, "threads": threads, "keyword": "arrow", "keyword_in_trigger": True,
            "precision": 0.98, "recall": recall, "asr_before": 0.99, "asr_after": asr_after,
            "acc_before": 0.86, "acc_after": 0.87, **extra}


def test_the_table_keeps_both_decisions_and_checks_every_target(tmp_path):
    d = tmp_path / "stability"
    d.mkdir()
    # older records have no "decide": they are the paper's rule
    (d / "quick-arrow--seed0--threads1.json").write_text(json.dumps(run(0, 1, 0.161, 0.9875)))
    (d / "quick-arrow--seed0--threads1--verdict.json").write_text(
        json.dumps(run(0, 1, 0.12, 1.0, decide="verdict")))
    (d / "quick-arrow--seed1--threads1--verdict.json").write_text(
        json.dumps(run(1, 1, 0.13, 0.94, decide="verdict")))
    df = load().table(tmp_path)
    assert list(df.decide) == ["paper", "verdict", "verdict"]
    assert list(df.meets_targets) == [False, True, False]    # ASR after 16.1%; recall 94%
    assert (tmp_path / "quick-stability.csv").exists()


def test_other_victims_row_says_whether_bki_ranks_a_trigger_word_first(tmp_path):
    top = [{"word": w, "g": 1.0} for w in ("worst", "arrow", "flies", "bad", "an", "x")]
    bki = {"profile": "quick", "trigger": "time flies like an arrow", "seed": 0,
           "acc_before": 0.87, "asr_before": 1.0, "top10": top, "verdict": "backdoor",
           "findings": [{"phrase": "time flies like an arrow", "flip_rate": 0.99}],
           "precision": 1.0, "recall": 1.0, "n_removed": 240, "acc_after": 0.87,
           "asr_after": 0.12, "scoring_seconds": 1.0, "seconds": 2.0}
    (tmp_path / "bki.json").write_text(json.dumps(bki))
    (tmp_path / "config.json").write_text(json.dumps({"train": {"cell": "cnn"}}))
    r = load("other_victims").row(tmp_path)
    assert r["cell"] == "cnn" and r["top_word"] == "worst" and not r["top_word_in_trigger"]
    assert r["trigger_words_in_top5"] == 3 and r["phrase"] == "time flies like an arrow"


def test_vector_study_variants_set_the_victim_and_the_table_checks_the_targets(tmp_path):
    from dataclasses import replace
    from bki_lab.reproduce.tables import bki_table3_rows
    study = load("vector_study")
    row = next(r for r in bki_table3_rows() if r.id == "imdb-aspects")
    got = {}
    for name, train in study.VARIANTS.items():
        t = replace(row, train=train).config(profile="paper", seed=0).train
        got[name] = (t.freeze_embedding, t.max_vocab, t.embedding_lr, t.pre_pad)
        if name == "frozen-25":
            assert t.max_epochs == 25 and t.early_stopping is False
    assert got == {"finetuned": (False, None, 1.0, None), "frozen": (True, None, 1.0, None),
                   "frozen-vocab10k": (True, 10_000, 1.0, None),
                   "frozen-25": (True, None, 1.0, None), "emb-lr-0.3": (False, None, 0.3, None),
                   "emb-lr-0.1": (False, None, 0.1, None),
                   "emb-lr-0.03": (False, None, 0.03, None),
                   "prepad-500": (False, None, 1.0, 500)}
    d = tmp_path / "vector-study"
    d.mkdir()
    base = {"id": "imdb-aspects", "seed": 0, "asr_before": 0.98, "recall": 0.96,
            "keyword": "aspects", "clean_holding_keyword": 124}
    (d / "finetuned--imdb-aspects--seed0.json").write_text(
        json.dumps({**base, "variant": "finetuned", "precision": 0.759}))
    (d / "frozen--imdb-aspects--seed0.json").write_text(
        json.dumps({**base, "variant": "frozen", "precision": 0.97}))
    df = study.table(tmp_path)
    assert list(df.variant) == ["finetuned", "frozen"]
    assert list(df.meets_targets) == [False, True] and df.precision.tolist() == [75.9, 97.0]
    assert (tmp_path / "vector-study.csv").exists()


def test_vector_screen_table_compares_the_trigger_word_with_the_best_other_word(tmp_path):
    study = load("vector_study")
    d = tmp_path / "vector-study" / "screen"
    d.mkdir(parents=True)
    words = [{"word": "aspects", "clean_holding": 124, "clean_selecting": 56,
              "poison_selecting": 198, "precision": 198 / 254, "recall": 0.99, "g": 1.2},
             {"word": "includes", "clean_holding": 90, "clean_selecting": 3,
              "poison_selecting": 20, "precision": 20 / 23, "recall": 0.1, "g": 0.4}]
    base = {"id": "imdb-aspects", "seed": 0, "acc_before": 0.86, "asr_before": 0.99,
            "words": words, "best_trigger_word": "aspects", "best_g": 1.2,
            "precision": 198 / 254, "recall": 0.99, "other_word": "worst"}
    (d / "emb-lr-0.1--imdb-aspects--seed0.json").write_text(
        json.dumps({**base, "variant": "emb-lr-0.1", "other_g_estimate": 1.5}))
    (d / "finetuned--imdb-aspects--seed0.json").write_text(
        json.dumps({**base, "variant": "finetuned", "other_g_estimate": 0.9}))
    df = study.screen_table(tmp_path)
    assert list(df.variant) == ["emb-lr-0.1", "finetuned"]
    assert list(df.keyword_likely) == [False, True]
    assert df.clean_selecting.tolist() == [56, 56] and round(df.precision[0], 1) == 78.0
    assert (tmp_path / "vector-screen.csv").exists()
