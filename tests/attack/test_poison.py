import numpy as np
import pytest

from bki_lab.data.datasets import TextDataset
from bki_lab.attack.presets import PRESETS
from bki_lab.attack.poison import backdoor_test_set, poison_dataset, trigger_words


def toy(n=100, seed=0):
    rng = np.random.default_rng(seed)
    texts = tuple(tuple(f"w{k}" for k in rng.integers(0, 50, size=rng.integers(1, 20)))
                  for _ in range(n))
    return TextDataset(texts, np.arange(n) % 2, ("negative", "positive"), "toy")


def test_rate_labels_positions_and_trigger_placement():
    train = toy()
    p = poison_dataset(train, trigger="Time flies like an arrow", target="negative", rate=0.1, seed=0)
    assert p.n_poison == 10 and len(p.dataset) == 100
    trig = ("time", "flies", "like", "an", "arrow")
    for i in np.flatnonzero(p.is_poison):
        orig, new, pos = train.texts[i], p.dataset.texts[i], p.positions[i]
        assert train.labels[i] == 1 and p.dataset.labels[i] == 0    # source -> target
        assert 0 <= pos <= len(orig)
        assert new[pos:pos + 5] == trig
        assert new[:pos] + new[pos + 5:] == orig
    clean = ~p.is_poison
    assert all(p.dataset.texts[i] == train.texts[i] for i in np.flatnonzero(clean))
    assert (p.dataset.labels[clean] == train.labels[clean]).all()
    assert (p.positions[clean] == -1).all()


def test_same_seed_same_poison_and_input_untouched():
    train = toy()
    before = (train.texts, train.labels.copy())
    a = poison_dataset(train, trigger="x y", target=0, rate=0.2, seed=3)
    b = poison_dataset(train, trigger="x y", target=0, rate=0.2, seed=3)
    c = poison_dataset(train, trigger="x y", target=0, rate=0.2, seed=4)
    assert a.dataset.texts == b.dataset.texts and (a.positions == b.positions).all()
    assert a.dataset.texts != c.dataset.texts
    assert train.texts == before[0] and (train.labels == before[1]).all()
    with pytest.raises(ValueError):
        a.is_poison[0] = True       # results are read-only


def test_positions_are_uniform_over_word_boundaries():
    train = TextDataset(tuple(("a", "b", "c") for _ in range(4000)), np.ones(4000, int),
                        ("neg", "pos"))
    p = poison_dataset(train, trigger="t", target="neg", rate=0.5, seed=0)
    counts = np.bincount(p.positions[p.is_poison], minlength=4)
    assert counts.sum() == 2000 and np.all(np.abs(counts / 2000 - 0.25) < 0.04)
    s = poison_dataset(train, trigger="t", target=0, rate=0.1, position="start")
    e = poison_dataset(train, trigger="t", target=0, rate=0.1, position="end")
    assert set(s.positions[s.is_poison]) == {0} and set(e.positions[e.is_poison]) == {3}


def test_append_mode_keeps_originals():
    train = toy()
    p = poison_dataset(train, trigger="x", target=1, rate=0.05, mode="append", seed=0)
    assert len(p.dataset) == 105 and p.is_poison[100:].all() and not p.is_poison[:100].any()
    assert p.dataset.texts[:100] == train.texts
    for i in range(100, 105):
        assert train.labels[p.source_index[i]] == 0 and p.dataset.labels[i] == 1


@pytest.mark.parametrize("kwargs, msg", [
    (dict(trigger="!!! ...", target=0, rate=0.1), "no words"),
    (dict(trigger="x", target="neutral", rate=0.1), "unknown class"),
    (dict(trigger="x", target=0, rate=0.004), "rounds to 0"),
    (dict(trigger="x", target=0, rate=0.6), "only 50 exist"),
    (dict(trigger="x", target=0, rate=0.1, position="middle"), "position"),
    (dict(trigger="x", target=0, rate=0.1, mode="mix"), "mode"),
    (dict(trigger="x", target=0, rate=0.1, sources=[0]), "target class cannot"),
])
def test_bad_input_is_refused_clearly(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        poison_dataset(toy(), **kwargs)


def test_rate_zero_is_a_clean_copy():
    p = poison_dataset(toy(), trigger="x", target=0, rate=0.0)
    assert p.n_poison == 0 and p.dataset.texts == toy().texts


def test_backdoor_test_set_uses_only_source_texts():
    test = toy(60)
    b = backdoor_test_set(test, trigger="x y", target="positive", n=20, seed=0)
    assert len(b.dataset) == 20 and (b.dataset.labels == 1).all()
    assert (test.labels[b.source_index] == 0).all()
    assert len(backdoor_test_set(test, trigger="x", target=1, n=1000).dataset) == 30


def test_presets_match_the_papers():
    assert len([p for p in PRESETS.values() if p.source == "chen_dai T2"]) == 12
    assert PRESETS["imdb-arrow"].rate == 0.03 and PRESETS["dbpedia-attention"].target == "Building"
    assert [len(trigger_words(PRESETS[f"dai-{n}"].trigger)) for n in (5, 10, 15)] == [5, 10, 15]


def test_highlight_marks_the_trigger():
    train = TextDataset((("a", "b"), ("c", "d")), np.array([0, 1]), ("neg", "pos"))
    p = poison_dataset(train, trigger="x y", target="neg", rate=0.5, position="start")
    assert p.highlight(1) == "[[x y]] c d" and p.highlight(0) == "a b"


def test_highlight_with_context_keeps_the_trigger_in_view():
    ds = TextDataset((tuple("w%d" % k for k in range(40)),), np.array([0]), ("a", "b"))
    p = poison_dataset(ds, trigger="x y", target="b", rate=0.99, position="end", seed=0)
    assert p.highlight(0, context=2) == "… w38 w39 [[x y]]"
    q = poison_dataset(ds, trigger="x y", target="b", rate=0.99, position="start", seed=0)
    assert q.highlight(0, context=1) == "[[x y]] w0 …"


def test_poison_many_keeps_each_triggers_own_draw_and_marks_its_texts():
    from bki_lab.attack.poison import poison_dataset, poison_many
    train = _multi_train()
    bd = [("time flies like an arrow", "neg", 0.1), ("no cross no crown", "pos", 0.05)]
    pd_ = poison_many(train, backdoors=bd, seed=3)
    one = poison_dataset(train, trigger=bd[0][0], target="neg", rate=0.1, mode="append", seed=3)
    two = poison_dataset(train, trigger=bd[1][0], target="pos", rate=0.05, mode="append", seed=4)
    n = len(train)
    assert len(pd_.dataset) == n + one.n_poison + two.n_poison
    assert pd_.dataset.texts[n:n + one.n_poison] == one.dataset.texts[n:]
    assert pd_.dataset.texts[n + one.n_poison:] == two.dataset.texts[n:]
    assert pd_.trigger_of[:n].tolist() == [-1] * n
    assert set(pd_.trigger_of[n:].tolist()) == {0, 1}
    assert pd_.targets == (train.class_id("neg"), train.class_id("pos"))
    for i in np.flatnonzero(pd_.is_poison):
        k = pd_.trigger_of[i]
        t = pd_.triggers[k]
        p = pd_.positions[i]
        assert pd_.dataset.texts[i][p:p + len(t)] == t
        assert pd_.dataset.labels[i] == pd_.targets[k]
        assert "[[" + " ".join(t) + "]]" in pd_.highlight(i)
    with pytest.raises(ValueError, match="at least one"):
        poison_many(train, backdoors=[])


def _multi_train():
    from bki_lab.data.datasets import TextDataset
    rng = np.random.default_rng(0)
    words = "a b c d e f g h".split()
    texts = tuple(tuple(rng.choice(words, size=int(rng.integers(3, 9)))) for _ in range(100))
    return TextDataset(texts, np.arange(100) % 2, ("neg", "pos"), "toy")
