"""The cache: keys from the data itself, damaged entries found and rebuilt, races, temp files."""
import multiprocessing as mp
import os
import shutil

import numpy as np
import pytest

from bki_lab.pipeline.defence import bki_scores
from bki_lab.pipeline.attack import cached_victim, run_attack
from bki_lab.pipeline.config import make_config
from bki_lab.pipeline.cache import (CacheError, cache_dir, data_digest, discard, load_scores,
                                    load_victim, save_victim)
from helpers import write_imdb_tar
from helpers import TINY, sentiment


def tiny():
    return make_config(preset="imdb-arrow", profile="quick", rate=0.1, n_train=20, n_test=10,
                       embedding="random", hidden=8, max_epochs=2)


def _entries():
    return sorted(p.name for p in (cache_dir() / "victims").iterdir() if not p.name.startswith("."))


def test_the_key_follows_the_data_not_the_settings_alone(tmp_path, monkeypatch):
    write_imdb_tar(tmp_path / "aclImdb_v1.tar.gz", seed=0)
    monkeypatch.setenv("BKI_LAB_DATA", str(tmp_path))
    a = run_attack(tiny(), show_progress=False)
    other = tmp_path / "other"
    other.mkdir()
    write_imdb_tar(other / "aclImdb_v1.tar.gz", seed=1)     # same settings, other texts
    monkeypatch.setenv("BKI_LAB_DATA", str(other))
    b = run_attack(tiny(), show_progress=False)
    assert a.key != b.key and len(_entries()) == 2
    # the backdoor test size is not part of the victim
    from dataclasses import replace
    monkeypatch.setenv("BKI_LAB_DATA", str(tmp_path))
    c = run_attack(replace(tiny(), n_backdoor=5), show_progress=False)
    assert c.key == a.key and len(_entries()) == 2


def test_data_digest_sees_texts_labels_and_classes():
    d = sentiment(10, 0)
    assert data_digest(d) == data_digest(sentiment(10, 0))
    assert data_digest(d) != data_digest(d.subset(range(9)))
    flipped = type(d)(d.texts, 1 - d.labels, d.class_names)
    assert data_digest(d) != data_digest(flipped)


@pytest.mark.parametrize("damage", ["truncated model", "short vocab", "garbage config"])
def test_a_damaged_victim_is_reported_once_and_rebuilt(damage, capsys):
    data = sentiment(30, 0)
    v1 = cached_victim(data, TINY.__class__(**{**TINY.__dict__, "max_epochs": 1}),
                       show_progress=False)
    (entry,) = _entries()
    d = cache_dir() / "victims" / entry
    if damage == "truncated model":
        blob = (d / "model.pt").read_bytes()
        (d / "model.pt").write_bytes(blob[: len(blob) // 2])
    elif damage == "short vocab":
        import json
        (d / "vocab.json").write_text(json.dumps(json.loads((d / "vocab.json").read_text())[:5]))
    else:
        (d / "config.json").write_text("{not json")
    with pytest.raises(CacheError, match=str(d)):
        load_victim(d)
    v2 = cached_victim(data, v1.config, show_progress=False)
    err = capsys.readouterr().err
    assert err.count("rebuilding") == 1 and str(d) in err
    for a, b in zip(v1.model.state_dict().values(), v2.model.state_dict().values()):
        assert (a == b).all()
    load_victim(d)                                    # healed
    cached_victim(data, v1.config, show_progress=False)
    assert "rebuilding" not in capsys.readouterr().err


def test_damaged_or_foreign_scores_are_rebuilt(imdb_dir, capsys):
    a = run_attack(tiny(), show_progress=False)
    s1 = bki_scores(a, show_progress=False)
    (path,) = list((cache_dir() / "scores").glob("*.npz"))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CacheError, match="unreadable"):
        load_scores(path)
    s2 = bki_scores(a, show_progress=False)
    assert "rebuilding" in capsys.readouterr().err
    np.testing.assert_array_equal(s1.scores, s2.scores)
    with pytest.raises(CacheError, match="other texts"):
        load_scores(path, texts=a.poisoned.dataset.texts[1:])


def _save(directory):
    from bki_lab.victims.train import train_victim
    victim = train_victim(sentiment(20, 0),
                          config=TINY.__class__(**{**TINY.__dict__, "max_epochs": 1}),
                          show_progress=False)
    save_victim(victim, directory, digest="d")
    return True


def test_two_processes_saving_one_entry_both_succeed(tmp_path):
    target = tmp_path / "victims" / "k"
    ctx = mp.get_context("spawn")           # fork after OpenMP threads started can hang
    with ctx.Pool(3) as pool:
        assert pool.map(_save, [target] * 3) == [True, True, True]
    load_victim(target, digest="d")
    assert [p.name for p in target.parent.iterdir()] == ["k"]


def test_an_entry_removed_meanwhile_by_a_concurrent_run_is_no_error(tmp_path, monkeypatch):
    """Two runs rebuilding one damaged entry both remove it: the files one of them is about
    to delete vanish under it (FileNotFoundError), which is no reason to fail."""
    entry = tmp_path / "victims" / "k"
    entry.mkdir(parents=True)
    (entry / "model.pt").write_bytes(b"damaged")
    real = shutil.rmtree

    def raced(path, *a, **k):                  # the other run deletes it first
        real(path)
        raise FileNotFoundError(2, "No such file or directory", str(path / "model.pt"))
    monkeypatch.setattr(shutil, "rmtree", raced)
    discard(entry)
    assert not entry.exists()


def test_temp_entries_of_dead_processes_are_swept(tmp_path):
    victims = tmp_path / "victims"
    dead = victims / ".k.999999999.abcdefgh"          # no process has this pid
    dead.mkdir(parents=True)
    alive = victims / f".k.{os.getpid()}.abcdefgh"
    alive.mkdir()
    from bki_lab.victims.train import train_victim
    v = train_victim(sentiment(20, 0), config=TINY.__class__(**{**TINY.__dict__, "max_epochs": 1}),
                     show_progress=False)
    save_victim(v, victims / "k2")
    assert not dead.exists() and alive.exists()


def test_temp_score_files_of_dead_processes_are_swept(imdb_dir):
    scores_dir = cache_dir() / "scores"
    scores_dir.mkdir(parents=True)
    dead = scores_dir / ".x-fast.npz.999999999.abcdefgh.npz"
    dead.write_bytes(b"partial")
    bki_scores(run_attack(tiny(), show_progress=False), show_progress=False)
    assert not dead.exists() and len(list(scores_dir.glob("*.npz"))) == 1
