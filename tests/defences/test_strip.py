"""STRIP for text on a stand-in model with known entropies."""
import numpy as np
import pytest

from bki_lab.defences.strip import perturb, strip_detect, strip_entropy, victim_proba


def stub(texts):
    """Certain of class 1 while the trigger word is there, a coin toss otherwise."""
    return np.array([[0.0, 1.0] if "zq" in t else [0.5, 0.5] for t in texts])


FILLER = [f"w{i}" for i in range(50)]


def texts(n, seed, trigger=False, length=10):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        t = list(rng.choice(FILLER, size=length))
        if trigger:
            t[rng.integers(length)] = "zq"
        out.append(tuple(t))
    return out


def test_perturb_replaces_the_share_of_positions_with_donor_words():
    rng = np.random.default_rng(0)
    t = tuple(f"a{i}" for i in range(10))
    p = perturb(t, np.array(["d"]), 0.3, rng)
    assert len(p) == 10 and p.count("d") == 3
    assert [w for w in p if w != "d"] == [w for w in t if w in p]
    assert perturb(("x",), np.array(["d"]), 0.1, rng) == ("d",)        # at least one word


def test_entropy_is_the_share_of_perturbations_that_remove_the_trigger():
    clean = strip_entropy(stub, texts(5, 0), FILLER, n=50, share=0.3)
    np.testing.assert_allclose(clean, 1.0)                 # a coin toss every time: 1 bit
    trig = strip_entropy(stub, texts(20, 1, trigger=True), FILLER, n=500, share=0.3)
    # 3 of 10 positions replaced: the trigger is gone in 30% of the perturbations
    assert trig.mean() == pytest.approx(0.3, abs=0.02)
    again = strip_entropy(stub, texts(20, 1, trigger=True), FILLER, n=500, share=0.3)
    np.testing.assert_array_equal(trig, again)             # same seed, same perturbations


def test_threshold_on_training_texts_and_the_two_error_rates():
    r = strip_detect(stub, texts(200, 0), texts(100, 1), texts(100, 2, trigger=True),
                     n=20, share=0.3, frr=0.01)
    assert r.threshold == pytest.approx(1.0)
    assert r.false_rejection == 0.0 and r.false_acceptance == 0.0
    rec = r.to_record()
    assert rec["clean_entropy_mean"] > rec["triggered_entropy_mean"]
    with pytest.raises(ValueError):
        strip_detect(stub, texts(5, 0), texts(5, 1), texts(5, 2), frr=0.0)


def test_victim_probabilities_sum_to_one():
    from bki_lab.data.text import Vocab
    from helpers import random_model

    class Victim:
        model = random_model(vocab_size=30)
        vocab = Vocab(("<pad>", "<unk>", *[f"w{i}" for i in range(28)]))

        def encode(self, ts):
            return [self.vocab.encode(t) for t in ts]

    p = victim_proba(Victim())([("w1", "w2"), ("w3",)])
    assert p.shape == (2, 2)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-6)
