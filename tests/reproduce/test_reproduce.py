import json

import pandas as pd
import pytest

from bki_lab.pipeline.config import make_config
from bki_lab.reproduce.report import agreement, summarise
from bki_lab.reproduce.run import reproduce
from bki_lab.reproduce.tables import attack_table2_rows, bki_table3_rows, collect


def fake_run(calls, fail=()):
    def run(row, *, profile, seed, recipe="bki-lab"):
        calls.append((row.id, seed))
        if row.id in fail:
            raise RuntimeError("boom")
        return {"acc_before": 0.85, "asr_before": 0.97 if row.rate else None, "precision": 0.99,
                "recall": 0.98, "keyword": "arrow", "keyword_in_trigger": True,
                "asr_after": 0.1, "acc_after": 0.84, "removed_fraction": 0.03, "n_removed": 3,
                "n_poison": 3, "trigger_length": 5, "seconds": 1.0}
    return run


def test_tables_have_the_papers_rows():
    t3 = bki_table3_rows()
    assert len(t3) == 14 and sum(r.rate == 0 for r in t3) == 2
    assert {r.dataset for r in t3} == {"imdb", "dbpedia"}
    t2 = attack_table2_rows()
    assert len(t2) == 1 + 2 * 3 * 6


def test_attack_rows_train_the_dai2019_victim():
    # dai2019 uses a BiLSTM with 64 units per direction, chen_dai one with 128
    row = attack_table2_rows()[5]
    cfg = make_config(dataset=row.dataset, profile="paper", trigger=row.trigger,
                      target=row.target, rate=row.rate, **dict(row.train))
    assert cfg.train.hidden == 64 and cfg.train.lr == 2e-3
    t3 = bki_table3_rows()[0]
    assert make_config(preset=t3.preset, profile="paper", **dict(t3.train)).train.hidden == 128


def test_resume_skips_finished_rows_and_failures_do_not_stop_others(tmp_path):
    only = ["imdb-arrow", "imdb-crown", "imdb-clean"]
    calls = []
    df = reproduce("bki-table3", out=tmp_path, only=only, seeds=2,
                   run=fake_run(calls, fail={"imdb-crown"}), log=lambda s: None)
    assert len(calls) == 6
    assert sorted(df["status"].tolist()) == ["failed"] * 2 + ["ok"] * 4
    failed = json.loads((tmp_path / "rows" / "bki-table3--quick--imdb-crown--seed0.json").read_text())
    assert "boom" in failed["error"]
    # second run: only the failed rows run again
    calls.clear()
    df = reproduce("bki-table3", out=tmp_path, only=only, seeds=2, run=fake_run(calls),
                   log=lambda s: None)
    assert sorted(calls) == [("imdb-crown", 0), ("imdb-crown", 1)]
    assert (df["status"] == "ok").all()
    csv = pd.read_csv(tmp_path / "bki-table3-quick.csv")
    row = csv[(csv["id"] == "imdb-arrow") & (csv["seed"] == 0)].iloc[0]
    assert row["acc_before"] == pytest.approx(85.0) and row["paper_acc_before"] == pytest.approx(85.58)
    html = (tmp_path / "bki-table3-quick.html").read_text()
    assert "paper 99.00" in html and "GloVe 6B 100-d" in html and "imdb-crown" in html
    # fake numbers vs paper: acc 85 (imdb-arrow 85.58, crown 85.79 within 3 pts; clean 84.74
    # too), ASR 97 (arrow 99.7 and crown 95.6 within 10), recall 98 vs 99.33 / 100
    agree = agreement(summarise(df))
    assert agree["acc_before"] == (3, 3) and agree["asr_before"] == (2, 2)
    assert agree["recall"] == (2, 2) and agree["asr_after"] == (2, 2)    # 10 vs 15.2 / 12.9
    off = pd.DataFrame({"acc_before": [80.0, 85.0, None], "paper_acc_before": [84.0, 86.0, 85.0]})
    assert agreement(off) == {"acc_before": (1, 2)}       # 4 pts off misses, no number skipped
    # each table's own target: dai2019's accuracy within 2 points, chen_dai's within 1.5
    near = pd.DataFrame({"acc_before": [86.2, 85.5], "paper_acc_before": [84.0, 84.0]})
    assert agreement(near) == {"acc_before": (2, 2)}
    assert agreement(near, table="attack-table2") == {"acc_before": (1, 2)}
    assert agreement(near, table="bki-table3") == {"acc_before": (1, 2)}
    assert "acc ±1.5 pts" in html
    assert "acc_before 3/3" in html


def test_unknown_table(tmp_path):
    with pytest.raises(ValueError, match="unknown table"):
        reproduce("table9", out=tmp_path)


def test_an_unreadable_row_record_is_named_and_run_again(tmp_path):
    calls, lines = [], []
    reproduce("bki-table3", out=tmp_path, only=["imdb-arrow"], run=fake_run(calls),
              log=lines.append)
    bad = tmp_path / "rows" / "bki-table3--quick--imdb-arrow--seed0.json"
    bad.write_text("{garbage")
    df = reproduce("bki-table3", out=tmp_path, only=["imdb-arrow"], run=fake_run(calls),
                   log=lines.append)
    assert calls == [("imdb-arrow", 0), ("imdb-arrow", 0)]
    assert any(str(bad) in l and "run again" in l for l in lines)
    assert json.loads(bad.read_text())["status"] == "ok" and len(df) == 1


def test_ctrl_c_stops_a_parallel_run_within_seconds_and_it_resumes(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path
    # a terminal's Ctrl-C: the default handler, even if this test runs where SIGINT is
    # ignored (background jobs of a non-interactive shell inherit SIG_IGN)
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "sys.path.insert(0, %r)\n"
            "from helpers import slow_run\n"
            "from bki_lab import reproduce\n"
            "reproduce('attack-table2', out=%r, jobs=2, run=slow_run, log=print)\n"
            % (str(Path(__file__).parents[1]), str(tmp_path)))
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120                     # until the first rows are done
    while not list((tmp_path / "rows").glob("*.json")) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)                                  # and the next ones are running
    t0 = time.time()
    os.killpg(proc.pid, signal.SIGINT)               # Ctrl-C reaches the whole group
    out, _ = proc.communicate(timeout=30)
    assert time.time() - t0 < 10 and proc.returncode != 0
    assert "interrupted" in out
    time.sleep(1)
    leftover = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""             # no orphaned workers
    done = len(list((tmp_path / "rows").glob("*.json")))
    assert 0 < done < 37                             # queued rows did not start
    calls = []
    reproduce("attack-table2", out=tmp_path, run=fake_run(calls), log=lambda s: None)
    assert len(calls) == 37 - done                   # a re-run resumes


def test_the_verdict_and_authors_columns_of_a_row(imdb_dir, tmp_path):
    import json
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.defence import run_defence
    from bki_lab.reproduce.report import write_report
    from bki_lab.reproduce.rows import beyond_the_paper as _beyond_the_paper
    a = run_attack(make_config(preset="imdb-arrow", rate=0.1, n_train=20, n_test=10,
                               embedding="random", hidden=8, max_epochs=2), show_progress=False)
    out = _beyond_the_paper(a, run_defence(a, p=1, show_progress=False))
    json.dumps(out)
    from bki_lab import find_backdoors
    d = run_defence(a, p=1, show_progress=False)
    v = find_backdoors(d.scores, a.poisoned.dataset.labels, predict=a.victim.predict, p=5,
                       is_poison=a.poisoned.is_poison)
    assert out["verdict"] == v.verdict and out["n_findings"] == len(v.findings)
    assert (out["n_findings"] > 0) == (out["verdict"] == "backdoor")
    assert out["authors_keyword"] and out["authors_target"] in a.victim.class_names
    rows = [r for r in bki_table3_rows() if r.id == "imdb-arrow"]
    df = collect([{"id": "imdb-arrow", "seed": 0, "status": "ok", "acc_before": 0.9,
                   "keyword": "arrow", **out}], rows)
    assert df["flip_rate"].iloc[0] == (None if out["flip_rate"] is None
                                       else round(100 * out["flip_rate"], 4))
    page = write_report(df, tmp_path / "r.html", table="bki-table3", profile="quick",
                        deviations=[]).read_text()
    assert "authors-code: key" in page and out["verdict"] in page
    assert "verdict_residue" in out
    residue = collect([{"id": "imdb-arrow", "seed": 0, "status": "ok", "verdict": "backdoor",
                        "verdict_phrase": "time flies like an arrow", "verdict_residue": "arrow"}],
                      rows)
    assert residue["verdict_residue"].iloc[0] == "arrow"
    page = write_report(residue, tmp_path / "s.html", table="bki-table3", profile="quick",
                        deviations=[]).read_text()
    assert "residue: arrow (nothing more removed)" in page


def test_bki_multi_collects_one_line_per_trigger(tmp_path):
    from bki_lab.reproduce.tables import bki_multi_rows, collect_multi
    from bki_lab.reproduce.report import write_multi_report
    rows = bki_multi_rows()
    assert [r.id for r in rows] == ["imdb-arrow+mend", "dbpedia-arrow+crown+sack"]
    rule = {"keyword": "arrow", "n_removed": 300, "precision": 1.0, "recall": 0.5,
            "acc_after": 0.86, "asr_after_each": [0.1, 0.99], "recall_each": [1.0, 0.0]}
    verdict = {**rule, "recall": 1.0, "asr_after_each": [0.1, 0.08], "recall_each": [1.0, 1.0],
               "findings": [{"phrase": "time flies like an arrow", "target_name": "negative"},
                            {"phrase": "it's never too late to mend", "target_name": "positive"}]}
    rec = {"id": "imdb-arrow+mend", "seed": 0, "status": "ok", "acc_before": 0.87,
           "triggers": [["time flies like an arrow", "negative", 0.03],
                        ["it's never too late to mend", "positive", 0.03]],
           "asr_each": [0.99, 0.98], "clean_target_rates": [0.05, 0.1],
           "paper": rule, "verdict": verdict}
    df = collect_multi([rec, {"id": "dbpedia-arrow+crown+sack", "seed": 0, "status": "failed",
                              "error": "boom"}], rows)
    assert len(df) == 3
    ok = df[df["status"] == "ok"]
    assert ok["paper_asr_after"].tolist() == [10.0, 99.0]
    assert ok["verdict_recall"].tolist() == [100.0, 100.0]
    assert "mend -> positive" in ok["verdict_findings"].iloc[0]
    page = write_multi_report(df, tmp_path / "m.html", profile="quick").read_text()
    assert "clean target rate" in page and "boom" in page


def test_a_report_shows_only_the_columns_its_table_measures(tmp_path):
    from bki_lab.reproduce.report import write_report
    from bki_lab.reproduce.tables import attack_table2_rows
    rows = attack_table2_rows()
    recs = [{"id": "clean", "seed": 0, "status": "ok", "acc_before": 0.865, "asr_before": None},
            {"id": "to-positive-len5-rate1", "seed": 0, "status": "ok", "acc_before": 0.862,
             "asr_before": 0.401, "trigger_length": 5}]
    page = write_report(collect(recs, rows), tmp_path / "a.html", table="attack-table2",
                        profile="paper", deviations=[]).read_text()
    head = page[page.index("<table>"):page.index("</tr>")]
    assert "acc_before" in head and "asr_before" in head
    for absent in ("precision", "asr_after", "keyword", "verdict", "authors-code"):
        assert absent not in head, absent
    assert "paper 80.73" in page and "acc ±2 pts" in page


def test_a_record_of_another_victim_recipe_is_not_done():
    # a row whose victim overrides changed since its record was written runs again
    from bki_lab.reproduce.run import row_done as _done
    row = attack_table2_rows()[3]
    rec = {"status": "ok", "train_overrides": dict(row.train)}
    assert _done(rec, row, True, False)
    assert not _done({**rec, "train_overrides": {"hidden": 128}}, row, True, False)
    assert _done({"status": "ok"}, row, True, False)          # older records: as they are
    assert not _done({"status": "error"}, row, True, False)


def test_a_record_made_by_an_older_verdict_runs_again():
    from bki_lab.bki.verdict import VERDICT_VERSION
    from bki_lab.reproduce.run import row_done as _done
    row = attack_table2_rows()[3]
    rec = {"status": "ok", "verdict": "backdoor", "verdict_version": VERDICT_VERSION}
    assert _done(rec, row, True, False)
    assert not _done({**rec, "verdict_version": VERDICT_VERSION - 1}, row, True, False)
    assert not _done({"status": "ok", "verdict": "backdoor"}, row, True, False)
    assert _done({"status": "ok"}, row, True, False)          # no verdict in it: as it is
    # the defences table's verdict is one of its defences
    defences = {"status": "ok", "defences": [{"method": "bki (paper)"},
                                             {"method": "bki (verdict)", "verdict": "backdoor"}]}
    assert not _done(defences, row, True, False)
    assert _done({**defences, "verdict_version": VERDICT_VERSION}, row, True, False)
    assert _done({"status": "ok", "defences": [{"method": "bki (paper)"}]}, row, True, False)


def test_a_record_made_with_another_profile_or_recipe_runs_again(monkeypatch):
    # the profile's training recipe (or data sizes) changed since the record was written
    from bki_lab.pipeline import config
    from bki_lab.reproduce.run import row_done as _done
    from bki_lab.reproduce.runner import _record, experiment_digest
    row = attack_table2_rows()[3]
    rec = {**_record(row, "class", 0, "bki-lab"), "status": "ok"}
    now = experiment_digest(row, "class", 0, "bki-lab")
    assert rec["experiment"] == now and _done(rec, row, True, False, now)
    assert experiment_digest(row, "class", 1, "bki-lab") != now       # another seed
    assert experiment_digest(row, "quick", 0, "bki-lab") != now       # another profile
    recipe = {**config.RECIPES["bki-lab"][("imdb", "class")], "max_epochs": 99}
    monkeypatch.setitem(config.RECIPES["bki-lab"], ("imdb", "class"), recipe)
    changed = experiment_digest(row, "class", 0, "bki-lab")
    assert changed != now and not _done(rec, row, True, False, changed)
    legacy = {k: v for k, v in rec.items() if k != "experiment"}
    assert _done(legacy, row, True, False, changed)                    # older records: kept
