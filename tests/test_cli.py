import json

import pandas as pd
import pytest

from bki_lab.cli import main

TINY = ["--n-train", "20", "--n-test", "10", "--epochs", "2", "--hidden", "8",
        "--embedding", "random", "--quiet"]


def test_attack_writes_config_and_results(imdb_dir, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["attack", "--dataset", "imdb", "--trigger", "time flies like an arrow",
               "--target", "negative", "--rate", "0.1", "--out", str(out),
               "--clean-baseline", *TINY])
    assert rc == 0
    res = json.loads((out / "attack.json").read_text())
    for key in ("dataset", "n_train", "n_test", "n_poison", "poison_rate", "trigger", "target",
                "clean_accuracy", "attack_success_rate", "seconds", "clean_model_accuracy"):
        assert key in res
    assert res["n_train"] == 22 and res["n_poison"] == 2  # append: 20 + 2 copies and res["poison_rate"] == 0.1
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["trigger"] == "time flies like an arrow" and cfg["train"]["hidden"] == 8
    assert '"attack_success_rate"' in capsys.readouterr().out


def test_defend_writes_bki_dictionary_and_suspicious(imdb_dir, tmp_path):
    out = tmp_path / "d"
    rc = main(["defend", "--trigger-preset", "imdb-arrow", "--rate", "0.1", "--p", "1",
               "--scorer", "reference", "--out", str(out), *TINY])
    assert rc == 0
    res = json.loads((out / "bki.json").read_text())
    for key in ("keyword", "top10", "n_removed", "removed_fraction", "precision", "recall",
                "acc_before", "asr_before", "acc_after", "asr_after", "scoring_seconds",
                "words_scored"):
        assert key in res
    d = pd.read_csv(out / "dictionary.csv")
    assert list(d.columns) == ["word", "num", "mean", "g", "rank"] and d["word"].iloc[0] == res["keyword"]
    s = pd.read_csv(out / "suspicious.csv", keep_default_na=False)
    assert len(s) == 22 and {"index", "is_poison", "removed", "word_1", "score_1"} <= set(s.columns)
    assert s["is_poison"].astype(str).eq("True").sum() == 2


def test_bad_input_exits_2_and_writes_nothing(imdb_dir, tmp_path, capsys):
    out = tmp_path / "bad"
    assert main(["attack", "--trigger", "x", "--target", "neutral", "--rate", "0.1",
                 "--out", str(out), *TINY]) == 2
    assert "unknown class 'neutral'" in capsys.readouterr().err
    assert main(["attack", "--trigger", "x", "--target", "negative", "--rate", "0.01",
                 "--out", str(out), *TINY]) == 2
    assert "rounds to 0" in capsys.readouterr().err
    assert not out.exists()


def test_missing_data_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BKI_LAB_DATA", str(tmp_path / "empty"))
    assert main(["attack", "--trigger-preset", "imdb-arrow", "--out", str(tmp_path / "o"),
                 *TINY]) == 2
    err = capsys.readouterr().err
    assert "BKI_LAB_DATA" in err and "bki-lab download imdb" in err


@pytest.mark.parametrize("extra, message", [
    (["--p", "0"], "--p must be between 1 and 100"),
    (["--p", "1000000"], "--p must be between 1 and 100"),
    (["--device", "cuda"], "no CUDA device"),
])
def test_defend_validates_before_any_work(imdb_dir, tmp_path, capsys, monkeypatch, extra, message):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    import bki_lab.pipeline.attack as ex
    monkeypatch.setattr(ex, "run_attack", lambda *a, **k: pytest.fail("work started"))
    assert main(["defend", "--trigger-preset", "imdb-arrow", "--out", str(tmp_path / "o"),
                 *extra, *TINY]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_out_that_is_a_file_is_refused_first(imdb_dir, tmp_path, capsys, monkeypatch):
    import bki_lab.pipeline.attack as ex
    monkeypatch.setattr(ex, "run_attack", lambda *a, **k: pytest.fail("work started"))
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["attack", "--trigger-preset", "imdb-arrow", "--out", str(f), *TINY]) == 2
    assert "not a directory" in capsys.readouterr().err


def _no_work(monkeypatch):
    import bki_lab.pipeline.attack as ex
    monkeypatch.setattr(ex, "run_attack", lambda *a, **k: pytest.fail("work started"))


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("bki-lab: error: "), err
    for w in words:
        assert w in err, err
    return err


ARROW = ["--trigger-preset", "imdb-arrow", "--rate", "0.1"]


def test_out_a_directory_of_the_users_is_refused_and_kept(imdb_dir, tmp_path, capsys,
                                                          monkeypatch):
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "thesis.txt").write_text("thesis")
    _no_work(monkeypatch)
    assert main(["attack", *ARROW, "--out", str(mine), *TINY]) == 2
    _one_error_line(capsys, "bki-lab did not write", "--overwrite")
    assert sorted(p.name for p in mine.iterdir()) == ["sub", "thesis.txt"]
    assert (mine / "thesis.txt").read_text() == "thesis"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))  == []


def test_out_the_directory_of_the_input_csv_is_refused(tmp_path, capsys, monkeypatch):
    f = tmp_path / "data" / "small.csv"
    f.parent.mkdir()
    f.write_text("text,label\n" + "".join(f"good film {k},pos\nbad film {k},neg\n"
                                          for k in range(10)))
    _no_work(monkeypatch)
    assert main(["attack", "--dataset", "csv", "--path", str(f), "--trigger", "time flies",
                 "--target", "neg", "--rate", "0.1", "--out", str(f.parent), *TINY[4:]]) == 2
    _one_error_line(capsys, "did not write")
    assert [p.name for p in f.parent.iterdir()] == ["small.csv"]


def test_out_dot_is_refused_without_a_stray_directory(imdb_dir, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.md").write_text("mine")
    monkeypatch.chdir(work)
    _no_work(monkeypatch)
    assert main(["attack", *ARROW, "--out", ".", *TINY]) == 2
    _one_error_line(capsys, "--out .")
    assert [p.name for p in work.iterdir()] == ["notes.md"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_overwrite_writes_only_this_commands_files(imdb_dir, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("thesis")
    (mine / "attack.json").write_text("an old file of the same name")
    assert main(["attack", *ARROW, "--out", str(mine), "--overwrite", *TINY]) == 0
    assert (mine / "thesis.txt").read_text() == "thesis"
    assert json.loads((mine / "attack.json").read_text())["n_poison"] == 2
    assert sorted(p.name for p in mine.iterdir()) == [".bki-lab-output", "attack.json",
                                                      "config.json", "thesis.txt"]


def test_a_directory_bki_lab_wrote_holds_one_runs_files(imdb_dir, tmp_path):
    out = tmp_path / "d"
    assert main(["attack", *ARROW, "--out", str(out), *TINY]) == 0
    (out / "my-notes.txt").write_text("added by the user")
    assert main(["defend", *ARROW, "--p", "1", "--out", str(out), *TINY]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".bki-lab-output", "bki.json", "config.json", "dictionary.csv", "my-notes.txt",
        "suspicious.csv"]                        # attack.json was the earlier run's: gone
    assert (out / "my-notes.txt").read_text() == "added by the user"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_out_a_symlink_stays_a_symlink(imdb_dir, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert main(["attack", *ARROW, "--out", str(link), *TINY]) == 0
    assert link.is_symlink() and (real / "attack.json").is_file()


@pytest.mark.parametrize("setup, args, words", [
    ("cache-under-file", [], ["BKI_LAB_CACHE", "is a file"]),
    ("glove-dir", ["--glove-path", "{tmp}"], ["--glove-path", "is a directory"]),
    ("none", ["--seed", "-1"], ["--seed must be between 0 and 4294967295"]),
    ("none", ["--seed", str(2**70)], ["--seed must be between 0 and 4294967295"]),
    ("out-under-file", [], ["is a file, not a directory"]),
])
def test_places_and_seeds_are_checked_before_any_work(imdb_dir, tmp_path, capsys, monkeypatch,
                                                      setup, args, words):
    out = tmp_path / "o"
    if setup == "cache-under-file":
        (tmp_path / "f").write_text("x")
        monkeypatch.setenv("BKI_LAB_CACHE", str(tmp_path / "f" / "cache"))
    if setup == "out-under-file":
        (tmp_path / "f").write_text("x")
        out = tmp_path / "f" / "o"
    _no_work(monkeypatch)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["attack", *ARROW, "--out", str(out), *args, *TINY]) == 2
    _one_error_line(capsys, *words)


def test_usage_errors_have_the_prefix_and_status_2(imdb_dir, tmp_path, capsys, monkeypatch):
    _no_work(monkeypatch)
    assert main(["attack", "--out", str(tmp_path / "o"), *TINY]) == 2
    _one_error_line(capsys, "give --trigger")
    assert main(["attack", "--dataset", "imdb", "--trigger-preset", "dbpedia-arrow",
                 "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "is for dbpedia, not imdb")
    assert main(["attack", "--dataset", "csv", "--path", str(imdb_dir / "aclImdb_v1.tar.gz"),
                 "--trigger", "x", "--target", "a", "--rate", "0.1", "--n-train", "5",
                 "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "--n-train/--n-test are for imdb/dbpedia")


def test_reproduce_checks_only_and_seeds_first(tmp_path, capsys):
    assert main(["reproduce", "bki-table3", "--only", "imdb-arow", "--out", str(tmp_path)]) == 2
    assert "unknown row ids for bki-table3: imdb-arow" in capsys.readouterr().err
    assert main(["reproduce", "bki-table3", "--seeds", "0", "--out", str(tmp_path)]) == 2
    assert "--seeds" in capsys.readouterr().err


def test_attack_on_any_csv(tmp_path):
    import numpy as np
    rng = np.random.default_rng(0)
    good, bad = "great superb loved fine".split(), "awful dull poor waste".split()
    lines = ["review,sentiment"] + [
        f"{' '.join(rng.choice(good if k % 2 else bad, 8))},{'pos' if k % 2 else 'neg'}"
        for k in range(60)]
    f = tmp_path / "mine.csv"
    f.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o"
    assert main(["attack", "--dataset", "csv", "--path", str(f), "--text-column", "review",
                 "--label-column", "sentiment", "--trigger", "zorp quix", "--target", "neg",
                 "--rate", "0.1", "--out", str(out), "--epochs", "2", "--hidden", "8",
                 "--embedding", "random", "--quiet"]) == 0
    res = json.loads((out / "attack.json").read_text())
    assert res["dataset"] == "csv" and res["n_poison"] == 5
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["data"]["path"] == str(f) and cfg["data"]["text_column"] == "review"


def test_csv_needs_a_path(tmp_path, capsys):
    assert main(["attack", "--dataset", "csv", "--trigger", "x", "--target", "a", "--rate",
                 "0.1", "--out", str(tmp_path / "o")]) == 2
    assert "--dataset csv needs --path" in capsys.readouterr().err


def test_defend_prints_the_verdict_and_writes_the_findings(imdb_dir, tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["defend", "--trigger-preset", "imdb-arrow", "--rate", "0.1", "--p", "1",
                 "--out", str(out), *TINY]) == 0
    res = json.loads((out / "bki.json").read_text())
    # the command reports exactly what the library decides for the same experiment
    from bki_lab import make_config, run_attack, run_defence
    att = run_attack(make_config(preset="imdb-arrow", rate=0.1, n_train=20, n_test=10,
                                 max_epochs=2, hidden=8, embedding="random"),
                     show_progress=False)
    v = run_defence(att, p=1, decide="verdict", show_progress=False).verdict
    assert res["decide"] == "verdict" and res["verdict"] == v.verdict
    assert res["n_removed"] == v.n_removed
    assert [f["phrase"] for f in res["findings"]] == [" ".join(f.phrase.phrase)
                                                      for f in v.findings]
    assert isinstance(res["findings"], list) and isinstance(res["residues"], list)
    for f in res["findings"]:
        assert {"keyword", "phrase", "target_name", "flip_rate", "keyword_flip_rate",
                "threshold", "n_removed", "precision", "recall"} <= set(f)
    err = capsys.readouterr().err
    assert f"verdict: {res['verdict']}" in err
    s = pd.read_csv(out / "suspicious.csv", keep_default_na=False)
    assert "finding" in s.columns
    assert s["removed"].astype(str).eq("True").sum() == res["n_removed"]
    paper = tmp_path / "p"
    assert main(["defend", "--trigger-preset", "imdb-arrow", "--rate", "0.1", "--p", "1",
                 "--decide", "paper", "--variant", "authors-code", "--out", str(paper),
                 *TINY]) == 0
    rec = json.loads((paper / "bki.json").read_text())
    assert rec["decide"] == "paper" and rec["variant"] == "authors-code"
    assert "paper's rule" in capsys.readouterr().err
    assert main(["defend", "--trigger-preset", "imdb-arrow", "--ngram", "2",
                 "--out", str(tmp_path / "x"), *TINY]) == 2
    assert "--ngram is an option of --variant authors-code" in capsys.readouterr().err


def test_verdict_text_names_each_finding_and_the_stop():
    from bki_lab.cli import verdict_text
    f = {"keyword": "crown", "phrase": "no cross no crown", "target_name": "positive",
         "flip_rate": 0.98, "keyword_flip_rate": 0.6, "null_max": 0.04, "threshold": 0.5,
         "n_removed": 750, "precision": 0.99, "recall": 1.0}
    r = {**f, "keyword": "worst", "phrase": "worst", "flip_rate": 0.2}
    text = verdict_text({"decide": "verdict", "verdict": "backdoor", "variant": "paper",
                         "n_removed": 750, "precision": 0.99, "recall": 1.0, "findings": [f],
                         "rejected": r, "acc_after": 0.86, "asr_after": 0.1,
                         "residues": [{**f, "phrase": "crown", "flip_rate": 0.55}]})
    assert "finding 1: keyword 'crown', phrase 'no cross no crown' -> positive" in text
    assert "residue: 'crown' flips 55.00% but is part of a finding's phrase" in text
    assert "flip rate 98.00%" in text and "stopped at 'worst'" in text
    assert "ASR 10.00%" in text


def test_reproduce_refuses_cuda_where_there_is_none(tmp_path, capsys, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    import bki_lab.cli as cli_module
    monkeypatch.setattr(cli_module, "reproduce", lambda *a, **k: pytest.fail("work started"))
    assert main(["reproduce", "bki-table3", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_a_full_disk_under_out_is_one_line_and_leaves_nothing(imdb_dir, tmp_path, capsys,
                                                              monkeypatch):
    import errno

    import bki_lab.utils.records as store

    real = store.write_json

    def full(path, obj):                         # the disk fills up under --out only
        if "/.o." not in str(path):
            return real(path, obj)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(store, "write_json", full)
    out = tmp_path / "o"
    assert main(["attack", *ARROW, "--out", str(out), *TINY]) == 2
    _one_error_line(capsys, "No space left on device", "the disk is full")
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".o")]
