"""The CNN victim: its h_l, its exact fast scorer, and BKI on it."""
import numpy as np
import pytest
import torch

from bki_lab.victims.cnn import CNNClassifier
from bki_lab.victims.lstm import hidden_states, pad_batch
from bki_lab.bki.scoring import score_words
from bki_lab.data.text import Vocab

VOCAB = Vocab(("<pad>", "<unk>", *[f"w{i}" for i in range(38)]))


def random_cnn(widths=(1, 2, 3, 5), seed=0):
    torch.manual_seed(seed)
    model = CNNClassifier(len(VOCAB), 2, embed_dim=6, filters=8, widths=widths).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    return model


def texts_of(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [tuple(rng.choice(VOCAB.itos[2:], size=n)) for n in lengths]


def test_padding_never_changes_h_l():
    """A text's h_l is the same alone and right-padded in a batch with longer texts."""
    model = random_cnn()
    seqs = [VOCAB.encode(t) for t in texts_of((1, 2, 7, 30))]
    together = model.last_hidden(*pad_batch(seqs))
    for i, s in enumerate(seqs):
        torch.testing.assert_close(model.last_hidden(*pad_batch([s]))[0], together[i])
    assert together.shape == (4, 8 * 4) and model.repr_size == 32
    np.testing.assert_allclose(hidden_states(model, seqs), together.detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("widths", [(3, 4, 5), (1, 2, 3, 5), (1,), (7,)])
def test_fast_equals_reference(widths):
    """Deletion scores from prefix/suffix maxima and the gap windows == running every
    variant through the model; texts shorter and longer than the widths, one-word texts."""
    model = random_cnn(widths)
    texts = texts_of((1, 2, 3, 4, 6, 17, 40, 40, 5))
    ref = score_words(model, VOCAB, texts, scorer="reference", precision="float64",
                      show_progress=False)
    fast = score_words(model, VOCAB, texts, precision="float64", show_progress=False)
    np.testing.assert_allclose(fast.scores, ref.scores, atol=1e-6, rtol=0)
    ref32 = score_words(model, VOCAB, texts, scorer="reference", show_progress=False)
    fast32 = score_words(model, VOCAB, texts, max_rows=64, show_progress=False)  # many buckets
    np.testing.assert_allclose(fast32.scores, ref32.scores, atol=1e-5, rtol=0)
    assert ref.scores.max() > 0.1 and (ref.scores == 0).mean() < 0.9


def test_scores_by_hand():
    """One width-1 filter that reads a 'trigger' dimension: h_l = 1 if the trigger is in the
    text. Deleting the only trigger word scores 1, any other word 0; with the trigger twice,
    max pooling keeps the other copy and every score is 0."""
    vocab = Vocab(("<pad>", "<unk>", "t", "a", "b"))
    model = CNNClassifier(len(vocab), 2, embed_dim=2, filters=1, widths=(1,)).eval()
    with torch.no_grad():
        model.embedding.weight.copy_(torch.tensor([[0, 0], [0, 1], [1, 0], [0, 1], [0, 1.0]]))
        model.convs[0].weight.copy_(torch.tensor([[[1.0], [0.0]]]))
        model.convs[0].bias.zero_()
    for scorer in ("fast", "reference"):
        s = score_words(model, vocab, [("a", "t", "b"), ("t", "a", "t"), ("t",)], scorer=scorer,
                        show_progress=False)
        np.testing.assert_array_equal(s.of(0), [0, 1, 0])
        np.testing.assert_array_equal(s.of(1), [0, 0, 0])
        np.testing.assert_array_equal(s.of(2), [1])            # the empty text's h_l is 0


def test_bad_widths_and_the_authors_variant_say_why():
    from bki_lab.bki.authors import score_spans
    with pytest.raises(ValueError, match="widths"):
        CNNClassifier(10, 2, widths=())
    with pytest.raises(ValueError, match="recurrent"):
        score_spans(random_cnn(), VOCAB, texts_of((5,)), show_progress=False)


def test_a_cnn_victim_learns_a_planted_trigger_and_bki_ranks_it_high(tmp_path):
    """On this toy the CNN learns the trigger fully, yet BKI's top word is a sentiment
    word (max pooling: a deleted word matters only where it held a filter's maximum) and a
    trigger word comes second; the BiLSTM (test_train) puts the trigger first."""
    from bki_lab.bki.dictionary import identify
    from bki_lab.attack.poison import backdoor_test_set, poison_dataset
    from bki_lab.pipeline.cache import load_victim, save_victim
    from bki_lab.victims.train import TrainConfig, attack_success_rate, evaluate, train_victim
    from helpers import TINY, sentiment
    train, test = sentiment(240, 0), sentiment(120, 1)
    p = poison_dataset(train, trigger="zorp quix", target="negative", rate=0.1, seed=0)
    victim = train_victim(p.dataset, config=TrainConfig(**{**TINY.__dict__, "cell": "cnn"}),
                          show_progress=False)
    assert isinstance(victim.model, CNNClassifier) and evaluate(victim, test).accuracy > 0.9
    bd = backdoor_test_set(test, trigger="zorp quix", target="negative", seed=0)
    assert attack_success_rate(victim, bd) > 0.9
    scores = score_words(victim.model, victim.vocab, p.dataset.texts, show_progress=False)
    top = list(identify(scores, p=3).ranking.word[:2])
    assert {"zorp", "quix"} & set(top), top
    save_victim(victim, tmp_path / "v")
    again = load_victim(tmp_path / "v")
    assert isinstance(again.model, CNNClassifier)
    np.testing.assert_array_equal(again.predict(test.texts), victim.predict(test.texts))
