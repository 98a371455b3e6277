import numpy as np
import pytest
import torch

from bki_lab.victims.lstm import BiLSTMClassifier, hidden_states, length_buckets, pad_batch, predict_logits
from helpers import random_model


def test_hl_and_logits_alone_equal_inside_a_padded_batch():
    m = random_model(vocab_size=40, embed_dim=5, hidden=7)
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 40, size=n) for n in (1, 2, 9, 33, 4, 17)]
    ids, lengths = pad_batch(seqs)
    with torch.no_grad():
        hb, lb = m.last_hidden(ids, lengths), m(ids, lengths)
        for i, s in enumerate(seqs):
            one = pad_batch([s])
            assert torch.equal(m.last_hidden(*one)[0], hb[i])
            torch.testing.assert_close(m(*one)[0], lb[i], atol=1e-6, rtol=0)


def test_backward_state_reads_the_text_reversed():
    m = random_model(vocab_size=20, embed_dim=4, hidden=3)
    s = np.array([3, 7, 1, 9])
    with torch.no_grad():
        h = m.last_hidden(*pad_batch([s]))[0]
        _, (hf, _) = m.fwd(m.embedding(torch.tensor(s))[None])
        _, (hb, _) = m.bwd(m.embedding(torch.tensor(s[::-1].copy()))[None])
    assert torch.allclose(h, torch.cat([hf[0, 0], hb[0, 0]]))


def test_length_buckets_partition_and_respect_the_budget():
    lengths = np.random.default_rng(0).integers(1, 100, size=500)
    for rng in (None, np.random.default_rng(1)):
        batches = length_buckets(lengths, max_tokens=1000, max_batch=32, rng=rng)
        flat = np.concatenate(batches)
        assert sorted(flat.tolist()) == list(range(500))
        for b in batches:
            assert len(b) <= 32 and (len(b) == 1 or len(b) * lengths[b].max() <= 1000)


def test_batched_helpers_keep_input_order():
    m = random_model()
    rng = np.random.default_rng(2)
    seqs = [rng.integers(1, 30, size=n) for n in rng.integers(1, 25, size=40)]
    h = hidden_states(m, seqs, max_tokens=50)
    logits = predict_logits(m, seqs, max_tokens=50)
    for i in (0, 7, 39):
        with torch.no_grad():
            one = pad_batch([seqs[i]])
            np.testing.assert_allclose(h[i], m.last_hidden(*one)[0].numpy(), atol=1e-6)
            np.testing.assert_allclose(logits[i], m(*one)[0].numpy(), atol=1e-6)


def test_pre_pad_reads_the_keras_input():
    """pre_pad=N is the authors' Keras input: N - L padding ids before the text (or its last
    N words), read without a mask, whatever the batch's own padding."""
    m = random_model(vocab_size=30, embed_dim=5, hidden=6)
    keras = BiLSTMClassifier(30, 2, embed_dim=5, hidden=6, pre_pad=12)
    keras.load_state_dict(m.state_dict())
    keras.eval()
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 30, size=n) for n in (1, 4, 12, 15)]
    with torch.no_grad():
        batch = keras.last_hidden(*pad_batch(seqs))
        for i, s in enumerate(seqs):
            kept = s[-12:]
            by_hand = np.concatenate([np.zeros(12 - len(kept), dtype=np.int64), kept])
            want = m.last_hidden(*pad_batch([by_hand]))[0]        # exact-length model, 12 ids
            torch.testing.assert_close(batch[i], want, atol=1e-6, rtol=0)
        # the padding changes the state: not the exact-length model's answer
        assert not torch.allclose(batch[1], m.last_hidden(*pad_batch([seqs[1]]))[0], atol=1e-3)
        torch.testing.assert_close(keras.empty_hidden(),
                                   m.last_hidden(*pad_batch([np.zeros(12, dtype=np.int64)])))
        assert torch.equal(m.empty_hidden(), torch.zeros(1, 12))
    with pytest.raises(ValueError, match="pre_pad"):
        BiLSTMClassifier(30, 2, pre_pad=0)
