import numpy as np
import pytest

from bki_lab.bki.dictionary import identify
from bki_lab.attack.poison import backdoor_test_set, poison_dataset
from bki_lab.bki.scoring import score_words
from bki_lab.pipeline.cache import load_victim, save_victim
from bki_lab.victims.train import TrainConfig, attack_success_rate, evaluate, train_victim
from helpers import TINY, sentiment


@pytest.fixture(scope="module")
def planted():
    train, test = sentiment(240, 0), sentiment(120, 1)
    p = poison_dataset(train, trigger="zorp quix", target="negative", rate=0.1, seed=0)
    victim = train_victim(p.dataset, config=TINY, show_progress=False)
    return train, test, p, victim


def test_a_tiny_model_learns_the_task_and_the_planted_trigger(planted):
    train, test, p, victim = planted
    bd = backdoor_test_set(test, trigger="zorp quix", target="negative", seed=0)
    assert evaluate(victim, test).accuracy > 0.9
    assert attack_success_rate(victim, bd) > 0.9
    # and a victim trained on the clean data does not send triggered texts to the target
    clean = train_victim(train, config=TINY, show_progress=False)
    with pytest.raises(ValueError, match="vocabulary"):
        attack_success_rate(clean, bd)


def test_same_seed_same_victim_same_removal(planted):
    train, test, p, victim = planted
    again = train_victim(p.dataset, config=TINY, show_progress=False)
    for a, b in zip(victim.model.state_dict().values(), again.model.state_dict().values()):
        assert (a == b).all()
    r1 = identify(score_words(victim.model, victim.vocab, p.dataset.texts, show_progress=False),
                  p=3, is_poison=p.is_poison)
    r2 = identify(score_words(again.model, again.vocab, p.dataset.texts, show_progress=False),
                  p=3, is_poison=p.is_poison)
    assert r1.removed.tolist() == r2.removed.tolist() and r1.keyword == r2.keyword


def test_fast_equals_reference_on_a_trained_victim(planted):
    _, _, p, victim = planted
    texts = p.dataset.texts[:60]
    fast = score_words(victim.model, victim.vocab, texts, scorer="fast", show_progress=False)
    ref = score_words(victim.model, victim.vocab, texts, scorer="reference", show_progress=False)
    np.testing.assert_allclose(fast.scores, ref.scores, atol=1e-5, rtol=0)


def test_save_and_load_round_trip(planted, tmp_path):
    _, test, _, victim = planted
    d = save_victim(victim, tmp_path / "v")
    assert sorted(f.name for f in d.iterdir()) == ["config.json", "model.pt", "vocab.json"]
    loaded = load_victim(d)
    assert loaded.vocab.itos == victim.vocab.itos and loaded.config == victim.config
    assert (loaded.predict(test.texts) == victim.predict(test.texts)).all()


def test_history_and_on_epoch_hook():
    calls = []
    cfg = TrainConfig(**{**TINY.__dict__, "max_epochs": 2})
    v = train_victim(sentiment(40, 2), config=cfg, show_progress=False,
                     on_epoch=lambda e, v: calls.append(e) or {"extra": e * 10})
    assert calls == [1, 2] and [h["extra"] for h in v.history] == [10, 20]
    assert 1 <= v.best_epoch <= 2
    # each epoch's share of training texts predicted right while it trained (the panel of
    # accuracies is never empty)
    assert all(0 <= h["train_accuracy"] <= 1 for h in v.history)
    assert all(h["train_accuracy"] * 40 == round(h["train_accuracy"] * 40) for h in v.history)


def test_bad_configs():
    with pytest.raises(ValueError, match="embedding"):
        TrainConfig(embedding="word2vec")
    with pytest.raises(ValueError, match="val_fraction"):
        TrainConfig(val_fraction=0.7)


def test_frozen_word_vectors_stay_glove_and_the_rest_learns():
    from dataclasses import replace

    from bki_lab.data.glove import glove_embedding, load_glove
    train = sentiment(60, 2)
    config = replace(TINY, embedding="glove", freeze_embedding=True, max_epochs=2)
    victim = train_victim(train, config=config, show_progress=False)
    init = glove_embedding(victim.vocab, load_glove(None), seed=config.seed).matrix
    np.testing.assert_array_equal(victim.model.embedding.weight.detach().numpy(), init)
    tuned = train_victim(train, config=replace(config, freeze_embedding=False),
                         show_progress=False)
    assert not np.array_equal(tuned.model.embedding.weight.detach().numpy(), init)


def test_a_bigru_victim_learns_and_is_cached_as_one(tmp_path):
    train, test = sentiment(240, 0), sentiment(120, 1)
    cfg = TrainConfig(**{**TINY.__dict__, "cell": "gru"})
    victim = train_victim(train, config=cfg, show_progress=False)
    assert victim.model.cell == "gru" and evaluate(victim, test).accuracy > 0.9
    save_victim(victim, tmp_path / "v")
    again = load_victim(tmp_path / "v")
    assert again.model.cell == "gru"
    np.testing.assert_array_equal(again.predict(test.texts), victim.predict(test.texts))
    with pytest.raises(ValueError):
        TrainConfig(cell="rnn")


def test_embedding_lr_scales_the_vectors_step_only():
    """Adam's first step moves every weight with a gradient by ~its learning rate: one
    step on one batch moves the vectors by lr * embedding_lr and the rest by lr."""
    from dataclasses import replace

    from bki_lab.data.glove import glove_embedding, load_glove
    train = sentiment(16, 3)
    one_step = replace(TINY, embedding="glove", max_epochs=1, batch_size=len(train))
    default = train_victim(train, config=one_step, show_progress=False)
    init = glove_embedding(default.vocab, load_glove(None), seed=0).matrix
    moved = {}
    for share in (1.0, 0.1):
        victim = train_victim(train, config=replace(one_step, embedding_lr=share),
                              show_progress=False)
        moved[share] = np.abs(victim.model.embedding.weight.detach().numpy() - init).max()
    assert moved[1.0] == pytest.approx(one_step.lr, rel=1e-3)
    assert moved[0.1] == pytest.approx(one_step.lr * 0.1, rel=1e-3)
    same = train_victim(train, config=replace(one_step, embedding_lr=1.0), show_progress=False)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in
               zip(same.model.state_dict().values(), default.model.state_dict().values()))
    with pytest.raises(ValueError, match="embedding_lr"):
        TrainConfig(embedding_lr=0.0)


def test_a_pre_padded_victim_learns_and_is_cached_as_one(tmp_path):
    """The authors' Keras input (``pre_pad``) trains, predicts through its padding and
    comes back from the cache with it."""
    train, test = sentiment(240, 0), sentiment(120, 1)
    cfg = TrainConfig(**{**TINY.__dict__, "pre_pad": 24})
    victim = train_victim(train, config=cfg, show_progress=False)
    assert victim.model.pre_pad == 24 and evaluate(victim, test).accuracy > 0.9
    save_victim(victim, tmp_path / "v")
    again = load_victim(tmp_path / "v")
    assert again.model.pre_pad == 24 and again.config.pre_pad == 24
    np.testing.assert_array_equal(again.predict(test.texts), victim.predict(test.texts))
    for bad in ({"pre_pad": 0}, {"pre_pad": 10, "cell": "cnn"}):
        with pytest.raises(ValueError, match="pre_pad"):
            TrainConfig(**bad)
