"""The victim recipe options: fixed epochs, early stopping, vocabulary cap, batch size,
append poisoning from the config and the CLI, 100-d GloVe, the authors' DBpedia split."""
import csv
import gzip

import numpy as np
import pytest
import torch

from bki_lab.cli import build_parser, _config
from bki_lab.data.dbpedia import load_dbpedia
from bki_lab.data.dbpedia import DBPEDIA_CLASSES
from bki_lab.data.datasets import DataError
from bki_lab.pipeline.config import RECIPES, make_config
from bki_lab.attack.poison import poison_dataset
from bki_lab.victims.train import TrainConfig, train_victim
from helpers import write_dbpedia
from helpers import TINY, sentiment


def test_fixed_epochs_train_every_epoch_on_all_texts_and_keep_the_last():
    data = sentiment(60, 0)
    cfg = TrainConfig(**{**TINY.__dict__, "max_epochs": 4, "early_stopping": False})
    v = train_victim(data, config=cfg, show_progress=False)
    assert [h["epoch"] for h in v.history] == [1, 2, 3, 4] and v.best_epoch == 4
    assert "val_loss" not in v.history[0]          # nothing held out
    # the vocabulary saw every text: a word only in one text is known (min_freq 1 here)
    cfg1 = TrainConfig(**{**cfg.__dict__, "min_freq": 1, "max_epochs": 1})
    odd = data.subset(range(len(data)))
    texts = odd.texts[:-1] + (odd.texts[-1] + ("onlyhere",),)
    from bki_lab.data.datasets import TextDataset
    v1 = train_victim(TextDataset(texts, odd.labels, odd.class_names), config=cfg1,
                      show_progress=False)
    assert "onlyhere" in v1.vocab


def test_early_stopping_holds_out_validation_and_stops():
    data = sentiment(80, 0)
    cfg = TrainConfig(**{**TINY.__dict__, "max_epochs": 30, "early_stopping": True,
                         "patience": 1, "lr": 0.05})
    v = train_victim(data, config=cfg, show_progress=False)
    assert "val_accuracy" in v.history[0]
    assert len(v.history) < 30 and v.best_epoch == len(v.history) - 1


def test_max_vocab_keeps_the_most_frequent_words():
    data = sentiment(60, 0)
    cfg = TrainConfig(**{**TINY.__dict__, "max_epochs": 1, "max_vocab": 7})
    v = train_victim(data, config=cfg, show_progress=False)
    assert len(v.vocab) == 7
    with pytest.raises(ValueError, match="max_vocab"):
        TrainConfig(max_vocab=2)


def test_batch_size_gives_batches_of_that_many_texts():
    cfg = TrainConfig(batch_size=5)
    lengths = np.random.default_rng(0).integers(1, 400, size=23)
    batches = cfg.batches(lengths, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(23))
    assert sorted(len(b) for b in batches) == [3, 5, 5, 5, 5]
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)


def test_training_leaves_torch_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_victim(sentiment(20, 0), config=TrainConfig(**{**TINY.__dict__, "max_epochs": 1}),
                 show_progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_append_mode_and_recipes_from_make_config():
    c = make_config(preset="imdb-arrow", profile="paper")
    assert c.recipe == "bki-lab" and c.mode == "append"
    assert not c.train.early_stopping and c.train.dropout == 0.0
    assert c.train.max_vocab is None       # IMDB keeps its whole vocabulary
    d = make_config(preset="dbpedia-aspects", profile="paper")
    assert (d.train.max_vocab, d.train.freeze_embedding, d.train.max_epochs) == (10_000, True, 25)
    a = make_config(preset="imdb-arrow", profile="paper", recipe="authors-code")
    assert (a.train.freeze_embedding, a.train.batch_size, a.train.max_vocab,
            a.train.max_epochs) == (True, 128, 10_000, 25)
    e = make_config(preset="imdb-arrow", recipe="early-stopping")
    assert e.mode == "replace" and e.train.early_stopping
    assert make_config(preset="imdb-arrow", mode="replace").mode == "replace"
    assert make_config(preset="imdb-arrow", max_epochs=3).train.max_epochs == 3
    assert make_config(preset="imdb-arrow", position="end").position == "end"
    with pytest.raises(ValueError, match="recipe"):
        make_config(preset="imdb-arrow", recipe="nope")
    assert set(RECIPES) == {"bki-lab", "authors-code", "early-stopping"}


def test_append_keeps_the_originals():
    data = sentiment(40, 0)
    p = poison_dataset(data, trigger="zorp", target="negative", rate=0.1, mode="append", seed=0)
    assert len(p.dataset) == 44 and p.is_poison[-4:].all() and not p.is_poison[:40].any()
    assert p.dataset.texts[:40] == data.texts


def test_cli_reaches_the_recipe_options(tmp_path):
    args = build_parser().parse_args([
        "attack", "--trigger-preset", "imdb-arrow", "--out", str(tmp_path), "--mode", "replace",
        "--recipe", "authors-code", "--epochs", "3", "--batch-size", "64", "--max-vocab", "500",
        "--no-freeze-embedding", "--early-stopping", "--position", "start", "--dropout", "0.1",
        "--embedding-lr", "0.3", "--pre-pad", "500"])
    c = _config(args)
    assert c.mode == "replace" and c.position == "start" and c.recipe == "authors-code"
    t = c.train
    assert (t.max_epochs, t.batch_size, t.max_vocab, t.freeze_embedding, t.early_stopping,
            t.dropout, t.embedding_lr, t.pre_pad) == (3, 64, 500, False, True, 0.1, 0.3, 500)
    uncapped = _config(build_parser().parse_args([
        "attack", "--trigger-preset", "dbpedia-aspects", "--profile", "paper", "--out",
        str(tmp_path), "--max-vocab", "0", "--pre-pad", "0"]))
    assert uncapped.train.max_vocab is None and uncapped.train.pre_pad is None


def test_paper_profile_takes_glove_100d_when_present(tmp_path, monkeypatch):
    monkeypatch.setenv("BKI_LAB_DATA", str(tmp_path))
    assert make_config(preset="imdb-arrow", profile="paper").train.glove_path is None
    (tmp_path / "glove.6B.100d.txt").write_text("the " + " ".join(["0.1"] * 100) + "\n")
    assert make_config(preset="imdb-arrow", profile="paper").train.glove_path == \
        str(tmp_path / "glove.6B.100d.txt")
    assert make_config(preset="imdb-arrow", profile="quick").train.glove_path is None


def _write_authors(root, per_class=4, n_classes=14):
    d = root / "dbpedia_bki_authors"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for part in ("train", "test"):
        with gzip.open(d / f"{part}.csv.gz", "wt", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            for c in range(n_classes):
                for i in range(per_class):
                    words = " ".join(rng.choice([f"c{c}w{k}" for k in range(5)] + ["a, b"], 6))
                    w.writerow([c, f" {part} {words} {i}"])
    return d


def test_authors_dbpedia_split_is_preferred_and_recorded(tmp_path):
    _write_authors(tmp_path)
    write_dbpedia(tmp_path, per_class=12)
    s = load_dbpedia(n_train_per_class=3, n_test_per_class=2, path=tmp_path)
    assert s.train.class_names == DBPEDIA_CLASSES
    assert len(s.train) == 42 and len(s.test) == 28
    assert "authors" in s.meta["test_source"] and s.meta["source"].endswith("train.csv.gz")
    assert all(t[0] == "train" for t in s.train.texts) and all(t[0] == "test" for t in s.test.texts)
    # labels are 0-based: class c's texts use the words c{c}w*
    for t, y in zip(s.train.texts, s.train.labels):
        assert any(w.startswith(f"c{y}w") for w in t)
    fallback = load_dbpedia(n_train_per_class=3, n_test_per_class=2, path=tmp_path,
                            source="dbpedia_csv")
    assert "cut from" in fallback.meta["test_source"]


def test_authors_dbpedia_split_rejects_bad_rows(tmp_path):
    d = _write_authors(tmp_path, per_class=2)
    with gzip.open(d / "test.csv.gz", "at", encoding="utf-8") as f:
        f.write("14, label out of range\n")
    with pytest.raises(DataError, match="outside 0..13"):
        load_dbpedia(n_train_per_class=1, n_test_per_class=1, path=tmp_path)
    with pytest.raises(DataError, match="split"):
        load_dbpedia(path=tmp_path / "nowhere", source="authors")


def test_cosine_schedule_decays_to_zero_and_is_refused_with_early_stopping():
    import torch
    from bki_lab.victims.train import cosine_lr
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=1e-3)
    sched = cosine_lr(opt, 10)
    rates = []
    for _ in range(10):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates[0] == pytest.approx(1e-3) and rates[5] == pytest.approx(5e-4)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="cosine"):
        TrainConfig(lr_schedule="cosine", early_stopping=True)
    assert make_config(preset="imdb-arrow").train.lr_schedule == "cosine"
    # training with it is deterministic too
    cfg = TrainConfig(**{**TINY.__dict__, "max_epochs": 2, "lr_schedule": "cosine"})
    a = train_victim(sentiment(30, 0), config=cfg, show_progress=False)
    b = train_victim(sentiment(30, 0), config=cfg, show_progress=False)
    assert all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(),
                                                 b.model.state_dict().values()))


def test_cosine_hold_keeps_the_full_rate_then_decays_to_zero():
    import torch
    from bki_lab.pipeline.cache import victim_key
    from bki_lab.victims.train import cosine_lr
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=1e-3)
    sched = cosine_lr(opt, 10, hold=0.6)          # 6 steps at 1e-3, then 4 decaying
    rates = []
    for _ in range(10):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates[:7] == pytest.approx([1e-3] * 7)
    assert rates[8] == pytest.approx(5e-4)        # halfway through the 4 decaying steps
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="lr_hold"):
        TrainConfig(lr_hold=0.5)                  # constant schedule: nothing to delay
    with pytest.raises(ValueError, match="lr_hold"):
        TrainConfig(lr_schedule="cosine", lr_hold=1.0)
    # the default leaves the cache keys of earlier victims as they were
    base = TrainConfig(lr_schedule="cosine")
    assert victim_key("d", base) != victim_key("d", TrainConfig(lr_schedule="cosine", lr_hold=0.5))
    from dataclasses import asdict
    from bki_lab.pipeline.cache import cache_key
    old = {k: v for k, v in asdict(base).items()
           if k not in ("cell", "lr_hold", "embedding_lr", "pre_pad")}
    assert victim_key("d", base) == cache_key("victim", "d", old)
    assert victim_key("d", base) != victim_key("d", TrainConfig(lr_schedule="cosine",
                                                                embedding_lr=0.1))
    assert victim_key("d", base) != victim_key("d", TrainConfig(lr_schedule="cosine",
                                                                pre_pad=500))
