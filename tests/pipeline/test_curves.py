import pytest

from bki_lab.pipeline.curves import learning_curve
from bki_lab.pipeline.config import make_config


def test_learning_curve_measures_every_epoch(imdb_dir):
    cfg = make_config(preset="imdb-arrow", profile="quick", rate=0.1, n_train=20, n_test=10,
                      embedding="random", hidden=8, max_epochs=3)
    c = learning_curve(cfg, label="append", n_test=6)
    assert list(c.frame["epoch"]) == [1, 2, 3] and c.n_test == 6
    assert c.frame["accuracy"].between(0, 1).all() and c.frame["asr"].between(0, 1).all()
    rec = c.to_records()
    assert len(rec) == 3 and rec[0]["recipe"] == "append" and rec[0]["mode"] == "append"
    again = learning_curve(cfg, label="append", n_test=6)
    assert list(again.frame["asr"]) == list(c.frame["asr"])          # same seed, same curve


def test_learning_curve_refuses_early_stopping(imdb_dir):
    cfg = make_config(preset="imdb-arrow", profile="quick", n_train=20, n_test=10,
                      embedding="random", hidden=8, max_epochs=2, early_stopping=True)
    with pytest.raises(ValueError, match="fixed number of epochs"):
        learning_curve(cfg)
