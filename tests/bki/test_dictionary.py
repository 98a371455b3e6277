import math

import numpy as np
import pytest

from bki_lab.bki.dictionary import build_dictionary, identify, select_suspicious
from bki_lab.bki.removal import removal_metrics
from bki_lab.bki.scoring import WordScores, score_words
from bki_lab.data.text import build_vocab
from helpers import trigger_model


def scores_of(texts, per_text):
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    return WordScores(tuple(texts), offsets, np.concatenate(per_text).astype(np.float32), "given", 0.0)


def incremental_dictionary(suspicious):
    """Algorithm 1, lines 11-17, literally."""
    dic = {}
    for k, f in zip(suspicious.words, suspicious.scores):
        if k not in dic:
            dic[k] = (1, f)
        else:
            num, mean = dic[k]
            dic[k] = (num + 1, (num * mean + f) / (num + 1))
    return dic


def test_worked_example_of_the_dictionary_and_g():
    texts = [("a", "b", "c"), ("a", "d"), ("b", "a", "e"), ("a",)]
    s = scores_of(texts, [[0.9, 0.5, 0.1], [0.7, 0.2], [0.3, 0.6, 0.4], [0.8]])
    sus = select_suspicious(s, p=2)
    # picks: (a .9, b .5) (a .7, d .2) (a .6, e .4) (a .8)
    assert [w for w in sus.words] == ["a", "b", "a", "d", "a", "e", "a"]
    d = build_dictionary(sus).set_index("word")
    assert d.loc["a", "num"] == 4 and d.loc["a", "mean"] == pytest.approx((0.9 + 0.7 + 0.6 + 0.8) / 4)
    assert d.loc["a", "g"] == pytest.approx(0.75 * math.log10(4))
    assert d.loc["b", "g"] == 0.0                      # log10(1) = 0: one-off words never win
    for word, (num, mean) in incremental_dictionary(sus).items():
        assert d.loc[word, "num"] == num and d.loc[word, "mean"] == pytest.approx(mean, abs=1e-12)
    assert build_dictionary(sus)["word"].iloc[0] == "a"
    assert build_dictionary(sus)["rank"].tolist() == list(range(1, 5))


def test_random_dictionary_matches_the_incremental_update():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(15)]
    texts = [tuple(rng.choice(words, size=rng.integers(1, 12))) for _ in range(200)]
    s = scores_of(texts, [rng.random(len(t)) for t in texts])
    sus = select_suspicious(s, p=5)
    d = build_dictionary(sus).set_index("word")
    inc = incremental_dictionary(sus)
    assert set(inc) == set(d.index)
    for word, (num, mean) in inc.items():
        assert d.loc[word, "num"] == num
        assert d.loc[word, "mean"] == pytest.approx(mean, rel=1e-9)
        assert d.loc[word, "g"] == pytest.approx(mean * math.log10(num), rel=1e-9)
    g = build_dictionary(sus)["g"].to_numpy()
    assert (np.diff(g) <= 0).all()


def test_p_larger_than_a_text_ties_and_repeated_words():
    texts = [("x", "y"), ("z", "z", "q")]
    s = scores_of(texts, [[0.2, 0.2], [0.5, 0.5, 0.1]])
    sus = select_suspicious(s, p=5)
    assert sus.of(0) == [(0, "x", pytest.approx(0.2)), (1, "y", pytest.approx(0.2))]  # all words, tie by position
    assert [w for _, w, _ in sus.of(1)] == ["z", "z", "q"]
    assert build_dictionary(sus).set_index("word").loc["z", "num"] == 2   # counted per position
    with pytest.raises(ValueError, match="p must be"):
        select_suspicious(s, p=0)


def test_removal_metrics():
    removed = np.array([1, 1, 0, 0, 1], bool)
    poison = np.array([1, 0, 1, 0, 1], bool)
    assert removal_metrics(removed, poison) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert removal_metrics(np.zeros(5, bool), poison) == (None, 0.0)
    assert removal_metrics(removed, np.zeros(5, bool)) == (0.0, None)


def test_hand_built_trigger_model_identifies_the_trigger_and_removes_exactly_its_texts():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    texts, poison = [], []
    for i in range(60):
        t = list(rng.choice(words, size=rng.integers(3, 15)))
        if i % 5 == 0:
            t.insert(int(rng.integers(0, len(t) + 1)), "zap")
        texts.append(tuple(t))
        poison.append(i % 5 == 0)
    vocab = build_vocab(texts)
    model = trigger_model(vocab, "zap")
    for scorer in ("fast", "reference"):
        s = score_words(model, vocab, texts, scorer=scorer, show_progress=False)
        res = identify(s, p=3, is_poison=poison)
        assert res.keyword == "zap"
        assert res.removed.tolist() == poison
        assert res.precision == 1.0 and res.recall == 1.0
        assert res.n_removed == 12 and res.removed_fraction == pytest.approx(0.2)


def test_identify_carries_no_state_and_can_remove_another_word():
    texts = [("a", "b", "c"), ("a", "d"), ("b", "a", "e"), ("a",)]
    s = scores_of(texts, [[0.9, 0.5, 0.1], [0.7, 0.2], [0.3, 0.6, 0.4], [0.8]])
    first = identify(s, p=2)
    for _ in range(3):
        again = identify(s, p=2)
        assert again.keyword == first.keyword and again.ranking.equals(first.ranking)
    other = identify(s, p=2, keyword="b")
    assert other.removed.tolist() == [True, False, False, False]
    frame = first.suspicious_frame(np.array([1, 0, 0, 1], bool))
    assert list(frame.columns[:3]) == ["index", "is_poison", "removed"]
    assert frame["word_1"].tolist() == ["a", "a", "a", "a"] and frame["word_2"].iloc[3] == ""


def test_p_sweep_matches_identify():
    texts = [("a", "b", "c"), ("a", "d"), ("b", "a", "e"), ("a",)]
    s = scores_of(texts, [[0.9, 0.5, 0.1], [0.7, 0.2], [0.3, 0.6, 0.4], [0.8]])
    from bki_lab.bki.dictionary import p_sweep
    df = p_sweep(s, ps=(1, 2), is_poison=[True, False, False, True])
    assert df["p"].tolist() == [1, 2]
    for _, row in df.iterrows():
        r = identify(s, p=int(row["p"]), is_poison=[True, False, False, True])
        assert row["keyword"] == r.keyword and row["n_removed"] == r.n_removed
