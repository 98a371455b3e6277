"""scripts/quick_stability.py's table: one row per run and decision, the targets checked."""
import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "quick_stability.py"


def load():
    spec = importlib.util.spec_from_file_location("quick_stability", SCRIPT)
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
