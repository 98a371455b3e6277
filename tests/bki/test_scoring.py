import numpy as np
import pytest
import torch

from bki_lab.victims.lstm import pad_batch
from bki_lab.bki.scoring import score_words
from bki_lab.data.text import build_vocab, delete_word
from helpers import random_model, random_texts, trigger_model


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_equals_reference_on_random_models(seed):
    texts = random_texts(30, 40, seed)
    vocab = build_vocab(texts)
    m = random_model(len(vocab), embed_dim=6, hidden=9, seed=seed)
    # a small bucket budget forces many buckets of mixed lengths
    fast = score_words(m, vocab, texts, scorer="fast", max_rows=64, show_progress=False)
    ref = score_words(m, vocab, texts, scorer="reference", show_progress=False)
    assert fast.offsets.tolist() == ref.offsets.tolist()
    np.testing.assert_allclose(fast.scores, ref.scores, atol=1e-5, rtol=0)
    assert fast.scores.max() > 0.05        # the comparison is not between zeros


def test_reference_is_the_definition():
    texts = random_texts(3, 8, 5)
    vocab = build_vocab(texts)
    m = random_model(len(vocab), seed=5)
    ref = score_words(m, vocab, texts, scorer="reference", show_progress=False)
    with torch.no_grad():
        for i, t in enumerate(texts):
            h = m.last_hidden(*pad_batch([vocab.encode(t)]))[0]
            for j in range(len(t)):
                d = delete_word(t, j)
                hj = m.last_hidden(*pad_batch([vocab.encode(d)]))[0] if d else torch.zeros_like(h)
                assert ref.of(i)[j] == pytest.approx(float((h - hj).abs().max()), abs=1e-6)


def test_bucket_size_does_not_change_scores():
    texts = random_texts(25, 30, 7)
    vocab = build_vocab(texts)
    m = random_model(len(vocab), seed=7)
    a = score_words(m, vocab, texts, max_rows=16, show_progress=False)
    b = score_words(m, vocab, texts, max_rows=100_000, show_progress=False)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)


def test_trigger_word_dominates_in_a_hand_built_model():
    texts = [("a", "b", "zap", "c"), ("zap",), ("d", "e"), ("a", "zap")]
    vocab = build_vocab(texts)
    m = trigger_model(vocab, "zap")
    for scorer in ("fast", "reference"):
        s = score_words(m, vocab, texts, scorer=scorer, show_progress=False)
        assert s.of(0)[2] > 0.7 and np.delete(s.of(0), 2).max() < 0.05
        assert s.of(1)[0] > 0.7
        assert s.of(2).max() < 1e-6


def test_scores_frame_and_validation():
    texts = [("a", "b"), ("c",)]
    vocab = build_vocab(texts)
    s = score_words(random_model(len(vocab)), vocab, texts, show_progress=False)
    df = s.to_frame()
    assert df["word"].tolist() == ["a", "b", "c"] and df["text"].tolist() == [0, 0, 1]
    assert s.words_scored == 3
    with pytest.raises(ValueError, match="scorer"):
        score_words(random_model(len(vocab)), vocab, texts, scorer="slow")
    with pytest.raises(ValueError, match="empty"):
        score_words(random_model(len(vocab)), vocab, [("a",), ()], show_progress=False)


def test_float64_scorers_agree_to_rounding():
    texts = random_texts(12, 60, 11)
    vocab = build_vocab(texts)
    m = random_model(len(vocab), seed=11)
    fast = score_words(m, vocab, texts, precision="float64", show_progress=False)
    ref = score_words(m, vocab, texts, scorer="reference", precision="float64", show_progress=False)
    np.testing.assert_allclose(fast.scores, ref.scores, atol=1e-6)   # stored as float32
    assert next(m.parameters()).dtype == torch.float32               # caller's model untouched


def test_fast_equals_reference_for_a_bigru():
    """The state-reuse scorers are exact for a BiGRU too (paper's score, authors' terms)."""
    import torch

    from bki_lab.bki.authors import score_spans
    from bki_lab.victims.lstm import BiLSTMClassifier
    from bki_lab.data.text import Vocab
    torch.manual_seed(0)
    model = BiLSTMClassifier(40, 2, embed_dim=6, hidden=8, cell="gru").eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    vocab = Vocab(("<pad>", "<unk>", *[f"w{i}" for i in range(38)]))
    rng = np.random.default_rng(0)
    texts = [tuple(rng.choice(vocab.itos[2:], size=n)) for n in (1, 2, 3, 17, 40)]
    ref = score_words(model, vocab, texts, scorer="reference", show_progress=False)
    fast = score_words(model, vocab, texts, show_progress=False)
    np.testing.assert_allclose(fast.scores, ref.scores, atol=1e-5, rtol=0)
    assert ref.scores.max() > 0.1                      # the scores are not all ~0
    for n in (1, 2):
        r = score_spans(model, vocab, texts, n=n, scorer="reference", show_progress=False)
        f = score_spans(model, vocab, texts, n=n, show_progress=False)
        np.testing.assert_allclose(f.deletion, r.deletion, atol=1e-5, rtol=0)
        np.testing.assert_allclose(f.prefix, r.prefix, atol=1e-5, rtol=0)


def test_a_pre_padded_model_is_scored_by_its_definition():
    """With the Keras input (pre_pad) no state is shared between a text and its deletions:
    `score_words` asked for "fast" uses the reference, which follows the definition,
    including the one-word text whose deletion leaves only padding."""
    from bki_lab.victims.lstm import BiLSTMClassifier
    texts = random_texts(6, 9, 3)
    vocab = build_vocab(texts)
    m = BiLSTMClassifier(len(vocab), 2, embed_dim=6, hidden=8, pre_pad=10)
    m.load_state_dict(random_model(len(vocab), seed=3).state_dict())
    m.eval()
    s = score_words(m, vocab, texts, scorer="fast", show_progress=False)
    assert s.scorer == "reference"
    with torch.no_grad():
        for i, t in enumerate(texts):
            h = m.last_hidden(*pad_batch([vocab.encode(t)]))[0]
            for j in range(len(t)):
                d = delete_word(t, j)
                hj = m.last_hidden(*pad_batch([vocab.encode(d)]))[0] if d else m.empty_hidden()[0]
                assert s.of(i)[j] == pytest.approx(float((h - hj).abs().max()), abs=1e-6)
    assert s.scores.max() > 0.05
    one = [i for i, t in enumerate(texts) if len(t) == 1]
    assert one and all(s.of(i)[0] > 0 for i in one)
