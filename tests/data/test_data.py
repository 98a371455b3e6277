import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from bki_lab.data.csvfile import load_csv
from bki_lab.data.dbpedia import load_dbpedia
from bki_lab.data.datasets import DataError, data_dir
from bki_lab.data.imdb import load_imdb
from helpers import write_dbpedia

SHARED = os.environ.get("BKI_LAB_DATA_REAL") or os.environ.get("BKI_LAB_DATA")


def test_imdb_from_tarball_is_balanced_short_and_seeded(imdb_dir):
    s = load_imdb(n_train=20, n_test=10, seed=1)
    assert len(s.train) == 20 and len(s.test) == 10
    assert np.bincount(s.train.labels).tolist() == [10, 10]
    assert np.bincount(s.test.labels).tolist() == [5, 5]
    assert max(len(t) for t in s.train.texts) < 500        # the 600-word reviews are excluded
    assert all("br" not in t for t in s.train.texts)
    again = load_imdb(n_train=20, n_test=10, seed=1)
    assert again.train.texts == s.train.texts and again.test.texts == s.test.texts
    other = load_imdb(n_train=20, n_test=10, seed=2)
    assert other.train.texts != s.train.texts
    assert s.meta["test_source"].startswith("official")


def test_imdb_directory_and_tarball_agree(imdb_dir, tmp_path):
    import tarfile
    with tarfile.open(imdb_dir / "aclImdb_v1.tar.gz") as t:
        t.extractall(tmp_path / "x", filter="data")
    a = load_imdb(n_train=10, n_test=10, seed=0)
    b = load_imdb(n_train=10, n_test=10, seed=0, path=tmp_path / "x")
    assert a.train.texts == b.train.texts and a.test.labels.tolist() == b.test.labels.tolist()


def test_imdb_asks_for_more_than_exists(imdb_dir):
    with pytest.raises(DataError, match="under 500 words"):
        load_imdb(n_train=40, n_test=10)
    with pytest.raises(ValueError, match="even"):
        load_imdb(n_train=9, n_test=10)


def test_missing_data_names_the_variable_and_the_download_command(tmp_path, monkeypatch):
    monkeypatch.setenv("BKI_LAB_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    with pytest.raises(DataError, match=r"BKI_LAB_DATA[\s\S]*bki-lab download imdb"):
        load_imdb()
    with pytest.raises(DataError, match="bki-lab download dbpedia"):
        load_dbpedia()


def test_corrupt_tarball_gives_a_clear_error(tmp_path):
    bad = tmp_path / "aclImdb_v1.tar.gz"
    bad.write_bytes(gzip.compress(b"this is not a tar archive" * 100)[:200])
    with pytest.raises(DataError, match="not a readable aclImdb tarball"):
        load_imdb(path=bad)


def test_dbpedia_cuts_disjoint_pools_without_official_test(tmp_path):
    write_dbpedia(tmp_path, per_class=12)
    s = load_dbpedia(n_train_per_class=7, n_test_per_class=5, seed=0, path=tmp_path / "dbpedia_csv")
    assert len(s.train) == 28 and len(s.test) == 20
    assert np.bincount(s.train.labels).tolist() == [7] * 4
    assert s.train.class_names == ("Company", "Artist", "Building", "Village")
    assert not set(s.train.texts) & set(s.test.texts)
    assert "cut from" in s.meta["test_source"]
    with pytest.raises(DataError, match="class 1 has 12 rows"):
        load_dbpedia(n_train_per_class=10, n_test_per_class=5, path=tmp_path / "dbpedia_csv")


def test_dbpedia_uses_official_test_when_present(tmp_path):
    write_dbpedia(tmp_path, per_class=6, with_test=True)
    s = load_dbpedia(n_train_per_class=6, n_test_per_class=6, path=tmp_path / "dbpedia_csv")
    assert s.meta["test_source"] == "official test.csv"
    assert len(s.test) == 24


def test_dbpedia_bad_row(tmp_path):
    d = write_dbpedia(tmp_path, per_class=3)
    with gzip.open(d / "train_subset_30k_unofficial.csv.gz", "wt") as f:
        f.write('1,"title"\n')
    with pytest.raises(DataError, match="expected class"):
        load_dbpedia(n_train_per_class=1, n_test_per_class=1, path=d)


def test_csv_loader(tmp_path):
    p = tmp_path / "mine.csv"
    rows = ["text,label"] + [f"\"good fine {i}\",pos" for i in range(8)] + \
        [f"\"bad poor {i}\",neg" for i in range(8)] + ['"   ",neg', '"?!",pos']
    p.write_text("\n".join(rows) + "\n")
    s = load_csv(p, text_column="text", label_column="label", test_fraction=0.25, seed=0)
    assert s.train.class_names == ("neg", "pos")
    assert len(s.train) + len(s.test) == 16 and s.meta["dropped_empty"] == 2
    assert all(len(t) > 0 for t in s.train.texts + s.test.texts)
    with pytest.raises(DataError, match="no column 'body'"):
        load_csv(p, text_column="body", label_column="label")
    with pytest.raises(DataError, match="not found"):
        load_csv(tmp_path / "nope.csv", text_column="text", label_column="label")


@pytest.mark.skipif(not (SHARED and (Path(SHARED) / "aclImdb_labelled.tar.gz").exists()),
                    reason="real IMDB copy not available: set BKI_LAB_DATA to shared/data")
def test_real_imdb_paper_protocol(monkeypatch):
    monkeypatch.setenv("BKI_LAB_DATA", SHARED)
    s = load_imdb(n_train=10_000, n_test=10_000, seed=0)
    assert len(s.train) == 10_000 and len(s.test) == 10_000
    assert np.bincount(s.train.labels).tolist() == [5000, 5000]
    assert s.train.lengths().max() < 500 and s.train.lengths().min() >= 1
    assert 150 < s.train.lengths().mean() < 260


def test_atomic_writes_leave_nothing_behind_on_error_and_use_the_umask(tmp_path):
    import os

    from bki_lab.utils.files import atomic_path
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    old = os.umask(0o022)
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("done")
    finally:
        os.umask(old)
    assert target.read_text() == "done" and (target.stat().st_mode & 0o777) == 0o644


def _damaged(tmp_path, how):
    from helpers import write_imdb_tar
    good = write_imdb_tar(tmp_path / "good.tar.gz", n_per_dir=30)
    blob = bytearray(good.read_bytes())
    if how == "zeroed":
        blob[-200:-136] = bytes(64)            # 64 zeroed bytes late in the archive
    elif how == "cut":
        blob = blob[: len(blob) * 3 // 4]
    bad = tmp_path / "aclImdb_v1.tar.gz"
    bad.write_bytes(bytes(blob))
    good.unlink()
    return bad


@pytest.mark.parametrize("how", ["zeroed", "cut"])
def test_a_damaged_imdb_tarball_is_an_error(tmp_path, how):
    bad = _damaged(tmp_path, how)
    with pytest.raises(DataError, match="aclImdb_v1.tar.gz"):
        load_imdb(n_train=10, n_test=10, path=bad)


def test_a_missing_review_and_a_non_utf8_review_are_named(tmp_path):
    import shutil
    from helpers import write_imdb_tar
    import tarfile as tf
    src = write_imdb_tar(tmp_path / "t.tar.gz")
    with tf.open(src) as t:
        t.extractall(tmp_path / "x", filter="data")
    d = tmp_path / "x" / "aclImdb"
    victim = next((d / "train" / "pos").glob("3_*.txt"))
    victim.unlink()
    with pytest.raises(DataError, match="train/pos misses 1"):
        load_imdb(n_train=10, n_test=10, path=d)
    victim.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DataError, match=r"3_8\.txt is not UTF-8"):
        load_imdb(n_train=10, n_test=10, path=d)
    shutil.rmtree(tmp_path / "x")


@pytest.mark.parametrize("rows, message", [
    ("text,label\ngood film,pos\nbad film,neg\nok film\n", "row 4 has an empty label"),
    ("text,label\ngood film,pos\nbad film,neg\nfine film,Pos\n", "differ only in case"),
    ("text,label\ngood film,pos\n", "at least two classes"),
    ("text,label\n!!!,pos\n...,neg\n", "no text with at least one word"),
])
def test_csv_loader_refuses_what_would_be_silently_wrong(tmp_path, rows, message):
    f = tmp_path / "d.csv"
    f.write_text(rows)
    with pytest.raises(DataError, match=message):
        load_csv(f, text_column="text", label_column="label", test_fraction=0.5)


def test_csv_labels_are_stripped_and_test_only_labels_refused(tmp_path):
    f, t = tmp_path / "d.csv", tmp_path / "t.csv"
    f.write_text("text,label\ngood film,pos \nbad film, neg\nfine,pos\nawful,neg\n")
    t.write_text("text,label\nmeh,neutral\n")
    with pytest.raises(DataError, match="never occur"):
        load_csv(f, text_column="text", label_column="label", test_path=t)
    t.write_text("text,label\nmeh,neg\ngreat,pos\n")
    s = load_csv(f, text_column="text", label_column="label", test_path=t)
    assert s.train.class_names == ("neg", "pos") and len(s.train) == 4
