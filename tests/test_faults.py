"""Faults a user or the machine can cause, one regression test each (docs/faults.md lists
them with what happens): nothing is lost, nothing hangs, a broken run is never a result,
data mean what the user meant, and every error is one clear line."""
import json
import math

import numpy as np
import pytest

from bki_lab.cli import main

TINY = ["--epochs", "2", "--hidden", "8", "--embedding", "random", "--quiet"]


def _write_csv(path, rows, header="text,label"):
    path.write_text(header + "\n" + "".join(f"{t},{l}\n" for t, l in rows))
    return path


def _two_classes(n=20, words=8, seed=0):
    rng = np.random.default_rng(seed)
    good, bad = "great superb loved fine".split(), "awful dull poor waste".split()
    return [(" ".join(rng.choice(good if k % 2 else bad, words)), "pos" if k % 2 else "neg")
            for k in range(n)]


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err
    lines = [l for l in err.strip().splitlines() if l.startswith("bki-lab: error: ")]
    assert "Traceback" not in err and len(lines) == 1, err
    for w in words:
        assert w in lines[0], err
    return lines[0]


# --------------------------------------------------------------------------- broken runs
def test_a_non_finite_embedding_lr_is_refused_before_training(tmp_path, capsys):
    f = _write_csv(tmp_path / "d.csv", _two_classes())
    assert main(["attack", "--dataset", "csv", "--path", str(f), "--trigger", "zorp quix",
                 "--target", "neg", "--rate", "0.1", "--embedding-lr", "inf",
                 "--out", str(tmp_path / "o"), *TINY]) == 2
    _one_error_line(capsys, "embedding_lr must be a finite number")
    assert not (tmp_path / "o").exists()


def test_a_diverging_loss_stops_training_and_caches_nothing(tmp_path, monkeypatch):
    import torch

    from bki_lab.victims import train as train_mod
    from bki_lab.data.datasets import TextDataset
    from bki_lab.pipeline.attack import cached_victim
    from bki_lab.pipeline.cache import cache_dir

    class NaNLoss(torch.nn.CrossEntropyLoss):
        def forward(self, logits, y):
            return super().forward(logits, y) * float("nan")
    monkeypatch.setattr(train_mod.nn, "CrossEntropyLoss", NaNLoss)
    ds = TextDataset(tuple(("a", "b", w) for w in "cdefgh"), np.array([0, 1] * 3),
                     ("x", "y"), "t")
    cfg = train_mod.TrainConfig(embedding="random", hidden=4, fc=4, max_epochs=1)
    with pytest.raises(train_mod.TrainingError, match="diverged in epoch 1"):
        cached_victim(ds, cfg, show_progress=False)
    assert not (cache_dir() / "victims").exists() or not any((cache_dir() / "victims").iterdir())


def test_glove_with_nan_or_garbage_names_the_file_and_line(tmp_path):
    from bki_lab.data.glove import load_glove
    nan = tmp_path / "nan.txt"
    nan.write_text("the 0.1 0.2\ncat nan 0.3\n")
    with pytest.raises(ValueError, match=r"nan.txt:2: the vector of 'cat' holds nan"):
        load_glove(str(nan))
    junk = tmp_path / "junk.txt"
    junk.write_text("the 0.1 zero\n")
    with pytest.raises(ValueError, match=r"junk.txt:1: .*not a number"):
        load_glove(str(junk))
    with pytest.raises(ValueError, match="is a directory"):
        load_glove(str(tmp_path))


def test_non_finite_span_scores_are_refused():
    from bki_lab.bki.authors import SpanScores
    texts = (("a", "b"),)
    ok = dict(texts=texts, n=1, offsets=np.array([0, 2]), prefix=np.zeros(2, np.float32),
              scorer="fast", seconds=0.0)
    SpanScores(deletion=np.array([0.1, 0.2], np.float32), **ok)
    with pytest.raises(ValueError, match="finite"):
        SpanScores(deletion=np.array([0.1, np.nan], np.float32), **ok)


def test_a_cached_span_file_holding_nan_is_rebuilt_not_used(tmp_path):
    """The cache loader builds a SpanScores: a file with NaN fails it and is recomputed."""
    from bki_lab.bki.authors import SpanScores
    from bki_lab.pipeline.cache import save_arrays
    path = tmp_path / "s.npz"
    save_arrays(path, n=1, offsets=np.array([0, 2]), deletion=np.array([np.nan, 1.0]),
                prefix=np.zeros(2), seconds=0.0)
    with np.load(path) as z, pytest.raises(ValueError, match="finite"):
        SpanScores((("a", "b"),), int(z["n"]), z["offsets"], z["deletion"], z["prefix"],
                   "fast", 0.0)


def test_written_json_is_strict(tmp_path):
    from bki_lab.utils.records import write_json
    write_json(tmp_path / "r.json", {"a": float("nan"), "b": np.float32("inf"),
                                     "c": [np.array([np.nan, 1.0])], "d": (1.5, -math.inf)})

    def refuse(name):
        raise AssertionError(f"{name} in strict JSON")
    got = json.loads((tmp_path / "r.json").read_text(), parse_constant=refuse)
    assert got == {"a": None, "b": None, "c": [[None, 1.0]], "d": [1.5, None]}


# --------------------------------------------------------------------------- data
def test_an_edited_csv_is_read_again(tmp_path):
    import os

    from bki_lab.pipeline.attack import load_split
    from bki_lab.pipeline.config import make_config
    f = _write_csv(tmp_path / "d.csv", _two_classes())
    cfg = make_config(dataset="csv", csv=dict(path=str(f), text_column="text",
                                              label_column="label"),
                      trigger="x", target="neg", rate=0.1)
    first = load_split(cfg.data)
    _write_csv(f, [(t.replace("great", "grand"), l) for t, l in _two_classes()])
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))   # a later edit, same size
    second = load_split(cfg.data)
    words = lambda s: {w for t in s.train.texts + s.test.texts for w in t}   # noqa: E731
    assert "great" in words(first) and "great" not in words(second) and "grand" in words(second)


@pytest.mark.parametrize("header, rows, kwargs, message", [
    ("text,label,label", [("a b", "x,y")] * 4, {}, "more than once"),
    ("text,label", [("a b", "1"), ("c d", "1.0"), ("e f", "2")] * 3, {},
     "the same number written two ways"),
    ("text,label", [("a b", "x"), ("c d", "y")] * 3, {"label_column": "text"},
     "both 'text'"),
])
def test_ambiguous_csvs_are_refused(tmp_path, header, rows, kwargs, message):
    from bki_lab.data.csvfile import load_csv
    from bki_lab.data.datasets import DataError
    f = _write_csv(tmp_path / "d.csv", rows, header)
    with pytest.raises(DataError, match=message):
        load_csv(f, **{"text_column": "text", "label_column": "label", **kwargs})


def test_train_equal_to_test_is_refused(tmp_path):
    from bki_lab.data.csvfile import load_csv
    from bki_lab.data.datasets import DataError
    f = _write_csv(tmp_path / "d.csv", _two_classes())
    with pytest.raises(DataError, match="is the training file itself"):
        load_csv(f, text_column="text", label_column="label", test_path=tmp_path / "." / "d.csv")


def test_numeric_labels_match_by_name_never_by_position(tmp_path):
    from bki_lab.data.csvfile import load_csv
    f = _write_csv(tmp_path / "d.csv", [(t, "2" if l == "pos" else "5") for t, l in
                                        _two_classes()])
    train = load_csv(f, text_column="text", label_column="label").train
    assert train.class_id("5") == 1 and train.class_id(1) == 1
    with pytest.raises(ValueError, match=r"unknown class '0'.*\['2', '5'\]"):
        train.class_id("0")


def test_dropped_and_cut_rows_are_counted_and_said(tmp_path, capsys):
    rows = _two_classes(20) + [("", "pos"), ("...", "neg"), ("", "neg"), ("!!", "pos"),
                               ("", "pos")]
    rows.append((" ".join(["long"] * 1200), "pos"))
    f = _write_csv(tmp_path / "d.csv", rows)
    out = tmp_path / "o"
    assert main(["attack", "--dataset", "csv", "--path", str(f), "--trigger", "zorp quix",
                 "--target", "neg", "--rate", "0.1", "--out", str(out), *TINY]) == 0
    err = capsys.readouterr().err
    assert "5 of 26 rows have no words" in err and "1 text(s) longer than 500 words" in err
    res = json.loads((out / "attack.json").read_text())
    assert res["dropped_empty"] == 5 and res["cut_long"] == 1


def test_long_csv_texts_are_cut_to_max_words(tmp_path):
    from bki_lab.data.csvfile import load_csv
    f = _write_csv(tmp_path / "d.csv", _two_classes() + [(" ".join(["w"] * 100_000), "pos")])
    s = load_csv(f, text_column="text", label_column="label", max_words=500)
    assert max(len(t) for t in s.train.texts + s.test.texts) == 500
    assert s.meta["cut_long"] == 1


def test_an_unmeasurable_asr_says_why(tmp_path, capsys):
    f = _write_csv(tmp_path / "d.csv", _two_classes(40))
    out = tmp_path / "o"
    # 3% of 16 negative training texts: one poisoned copy, so no trigger word reaches
    # the vocabulary (min_freq 2)
    assert main(["attack", "--dataset", "csv", "--path", str(f), "--trigger", "zorp quix",
                 "--target", "pos", "--rate", "0.03", "--out", str(out), *TINY]) == 0
    res = json.loads((out / "attack.json").read_text())
    assert res["attack_success_rate"] is None
    assert "vocabulary" in res["asr_note"] and "poison more texts" in res["asr_note"]
    assert "ASR not measured" in capsys.readouterr().err


# --------------------------------------------------------------------------- library types
@pytest.mark.parametrize("texts, message", [
    ("time flies like an arrow", "got one str"),
    (["time flies like an arrow"], "is a str"),
    ([("time", 3)], "holds a int"),
])
def test_score_words_refuses_untokenized_texts(texts, message):
    from helpers import random_model

    from bki_lab.bki.scoring import score_words
    from bki_lab.data.text import build_vocab
    vocab = build_vocab([("time", "flies", "like", "an", "arrow")])
    with pytest.raises(TypeError, match=message):
        score_words(random_model(len(vocab)), vocab, texts, show_progress=False)


# --------------------------------------------------------------------------- cache faults
def test_a_full_disk_while_caching_a_victim_is_one_clear_error(tmp_path, monkeypatch):
    import torch

    from bki_lab.pipeline import cache as store
    from bki_lab.data.datasets import TextDataset
    from bki_lab.victims.train import TrainConfig, train_victim
    ds = TextDataset(tuple(("a", "b", w) for w in "cdefgh"), np.array([0, 1] * 3), ("x", "y"), "t")
    victim = train_victim(ds, config=TrainConfig(embedding="random", hidden=4, fc=4,
                                                 max_epochs=1), show_progress=False)

    def full(*a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0")
    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(store.CacheError, match="is the disk full"):
        store.save_victim(victim, tmp_path / "victims" / "k")
    assert [p.name for p in (tmp_path / "victims").iterdir()] == []


def _tiny_attack(tmp_path):
    from bki_lab.pipeline.config import make_config
    from bki_lab.pipeline.attack import run_attack
    f = _write_csv(tmp_path / "d.csv", _two_classes(40))
    cfg = make_config(dataset="csv", csv=dict(path=str(f), text_column="text",
                                              label_column="label"),
                      trigger="zorp quix", target="neg", rate=0.2, embedding="random",
                      hidden=4, max_epochs=1)
    return cfg, run_attack(cfg, show_progress=False)


def test_a_victim_entry_replaced_by_a_file_heals(tmp_path, capsys):
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.cache import cache_dir
    cfg, att = _tiny_attack(tmp_path)
    entry = cache_dir() / "victims" / att.key
    import shutil
    shutil.rmtree(entry)
    entry.write_text("not a victim")
    again = run_attack(cfg, show_progress=False)
    assert "rebuilding it" in capsys.readouterr().err
    assert entry.is_dir() and (entry / "config.json").is_file()
    assert again.clean_accuracy == att.clean_accuracy
    run_attack(cfg, show_progress=False)                   # and stays healed
    assert "rebuilding" not in capsys.readouterr().err


def test_a_damaged_entry_that_cannot_be_removed_stops_before_training(tmp_path, monkeypatch):
    import shutil

    from bki_lab.pipeline import attack as experiments
    from bki_lab.pipeline import cache as store
    cfg, att = _tiny_attack(tmp_path)
    entry = store.cache_dir() / "victims" / att.key
    (entry / "model.pt").write_bytes(b"damaged")

    def denied(path, *a, **k):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(shutil, "rmtree", denied)
    monkeypatch.setattr(experiments, "train_victim", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(store.CacheError, match="remove it by hand"):
        experiments.run_attack(cfg, show_progress=False)


def test_a_score_path_that_is_a_directory_heals(tmp_path, capsys):
    from bki_lab.pipeline.defence import bki_scores
    from bki_lab.pipeline.cache import cache_dir
    _, att = _tiny_attack(tmp_path)
    path = cache_dir() / "scores" / f"{att.key}-fast.npz"
    path.mkdir(parents=True)
    (path / "x").write_text("in the way")
    scores = bki_scores(att, show_progress=False)
    assert path.is_file() and len(scores) == len(att.poisoned.dataset)
    assert "rebuilding it" in capsys.readouterr().err


# --------------------------------------------------------------------------- notebook files
@pytest.mark.parametrize("make, args, message", [
    (None, ["export", "{d}/missing.ipynb", "{d}/o.html"], "no such file"),
    ("plain", ["export", "{d}/nb.ipynb", "{d}/o.html"], "is not a readable notebook"),
    ("truncated", ["clean", "{d}/nb.ipynb"], "is not a readable notebook"),
    ("plain", ["clean", "{d}/nb.ipynb"], "is not a readable notebook"),
    ("good", ["export", "{d}/nb.ipynb", "{d}"], "is a directory"),
    ("badplot", ["export", "{d}/nb.ipynb", "{d}/o.html"], "cannot be exported"),
])
def test_notebook_files_faults_are_one_line(tmp_path, capsys, make, args, message):
    import nbformat

    from bki_lab.viz.notebooks import PLOTLY, main as nb_main
    nb = tmp_path / "nb.ipynb"
    good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    if make == "plain":
        nb.write_text("just some text, not JSON")
    elif make == "truncated":
        nb.write_text(nbformat.writes(good)[:40])
    elif make == "good":
        nbformat.write(good, str(nb))
    elif make == "badplot":
        good.cells[0].outputs = [nbformat.v4.new_output(
            "display_data", data={PLOTLY: {"data": "not a list", "layout": 3}})]
        nbformat.write(good, str(nb))
    before = nb.read_bytes() if nb.exists() else None
    assert nb_main([a.replace("{d}", str(tmp_path)) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bki_lab.viz.notebooks: error: ") and len(err.strip().splitlines()) == 1
    assert message in err and "Traceback" not in err
    assert (nb.read_bytes() if nb.exists() else None) == before


def test_long_dbpedia_texts_are_cut_to_max_words(tmp_path):
    from helpers import write_dbpedia

    from bki_lab.data.dbpedia import load_dbpedia
    write_dbpedia(tmp_path, per_class=12)
    whole = load_dbpedia(n_train_per_class=6, n_test_per_class=3, path=tmp_path)
    cut = load_dbpedia(n_train_per_class=6, n_test_per_class=3, path=tmp_path, max_words=5)
    assert max(len(t) for t in cut.train.texts) == 5 and cut.meta["cut_long"] > 0
    assert [t[:5] for t in whole.train.texts] == list(cut.train.texts)


@pytest.mark.parametrize("seed", [-1, 2**70, 1.5])
def test_make_config_refuses_seeds_numpy_cannot_take(seed):
    from bki_lab.pipeline.config import make_config
    with pytest.raises(ValueError, match="seed must be an integer between 0 and 4294967295"):
        make_config(preset="imdb-arrow", seed=seed)
