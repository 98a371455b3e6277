"""The filters beside BKI, on planted answers."""
import numpy as np
import pytest

from bki_lab.bki.removal import Removal
from bki_lab.defences.clustering import activation_clustering, silhouette
from bki_lab.defences.comparison import bki_removal
from bki_lab.defences.spectral import spectral_signatures
from bki_lab.defences.word_label import word_label_filter
from helpers import planted


def test_spectral_signatures_find_a_planted_direction():
    h, labels, poison = planted()
    r = spectral_signatures(h, labels, expected_share=0.05, is_poison=poison)
    assert r.recall == 1.0
    # 1.5 x 5% of each class: ceil(15) + ceil(15.9)
    assert r.n_removed == 15 + 16
    assert r.scores[poison].min() > np.median(r.scores[labels == 1])


def test_activation_clustering_flags_the_small_separate_cluster_only():
    h, labels, poison = planted(n_poison=30, shift=12.0)
    r = activation_clustering(h, labels, dims=5, is_poison=poison)
    assert r.precision == 1.0 and r.recall == 1.0
    assert r.details["per_class"][1]["flagged"] and not r.details["per_class"][0]["flagged"]
    clean = activation_clustering(*planted(n_poison=0)[:2], dims=5)
    assert clean.n_removed == 0              # one Gaussian blob: no separate cluster


def test_silhouette_of_known_splits():
    x = np.array([[0.0], [0.0], [10.0], [10.0]])
    assert silhouette(x, np.array([0, 0, 1, 1])) == pytest.approx(1.0)
    assert silhouette(x, np.array([0, 0, 0, 0])) == 0.0
    # a = 1 for both mates, b = 10 and 9; the singleton scores 0
    y = np.array([[0.0], [1.0], [10.0]])
    s = silhouette(y, np.array([0, 0, 1]))
    expected = np.mean([(10 - 1) / 10, (9 - 1) / 9, 0.0])
    assert s == pytest.approx(expected)


def test_word_label_statistics_flag_a_word_tied_to_one_label():
    rng = np.random.default_rng(0)
    filler = [f"w{i}" for i in range(30)]
    texts, labels = [], []
    for i in range(400):
        labels.append(i % 2)
        texts.append(tuple(rng.choice(filler, size=8)))
    poison = np.zeros(400, bool)
    for i in range(1, 61, 2):                # 30 texts of label 1 get the trigger word
        texts[i] = texts[i] + ("zq",)
        poison[i] = True
    r = word_label_filter(texts, labels, is_poison=poison)
    assert r.details["outlier_words"] == ["zq"]
    assert r.precision == 1.0 and r.recall == 1.0
    with pytest.raises(ValueError):
        word_label_filter(texts, labels[:-1])


def test_every_defence_reports_in_one_type(tmp_path):
    from bki_lab.bki.dictionary import identify
    from bki_lab.bki.scoring import WordScores
    texts = (("a", "b"), ("c", "zq"), ("zq", "d"))
    scores = WordScores(texts, np.array([0, 2, 4, 6]), np.array([.1, .2, .1, .9, .8, .1],
                                                                np.float32), "fast", 0.0)
    r = bki_removal(identify(scores, p=1, is_poison=[False, True, True]))
    assert isinstance(r, Removal) and r.details["keyword"] == "zq"
    assert r.removed.tolist() == [False, True, True] and r.precision == 1.0
    assert {"method", "n_removed", "precision", "recall", "keyword"} <= set(r.to_record())
    with pytest.raises(ValueError):
        spectral_signatures(np.zeros((3, 2)), [0, 1])
